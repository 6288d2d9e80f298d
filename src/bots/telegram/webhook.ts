import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Bot, webhookCallback } from 'grammy';
import type { Logger } from '../../logger.js';

/**
 * Webhook mode (TELEGRAM_WEBHOOK_URL): Telegram POSTs each update to the operator's public HTTPS address, whose
 * reverse proxy passes the same path on to the process's HTTP server. No idle polling, and an update arrives at once.
 * Every request must carry TELEGRAM_WEBHOOK_SECRET in X-Telegram-Bot-Api-Secret-Token (grammY compares it in constant
 * time and answers 401 otherwise, before reading the body). Updates of different chats run concurrently, one chat's in
 * order (the frontend's sequentialize middleware), as with the runner.
 */
export interface WebhookOptions {
  url: string;
  secret: string;
  /** Registers the handler for the URL's path on the process's HTTP server. */
  addRoute: (path: string, handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>) => void;
}

/**
 * Telegram waits for our answer and sends the update again when it gets none, or an error, within about a minute. A
 * slow update (a download, a chat waiting behind its own earlier update) is answered 200 after this long and goes
 * on, so it is never delivered twice.
 */
const ANSWER_WITHIN_MS = 5000;

export function createWebhookReceiver(bot: Bot, opts: WebhookOptions, logger: Logger) {
  let isOpen = false;
  const running = new Set<Promise<void>>();
  // Installed before the command handlers: counts every update until its handler has finished, so close() can wait.
  bot.use(async (_ctx, next) => {
    const p = next();
    running.add(p);
    try {
      await p;
    } finally {
      running.delete(p);
    }
  });
  const callback = webhookCallback(bot, 'http', {
    secretToken: opts.secret,
    onTimeout: 'return',
    timeoutMilliseconds: ANSWER_WITHIN_MS,
  });
  opts.addRoute(new URL(opts.url).pathname, async (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    // Not (yet, or any more) taking updates: Telegram keeps them and tries again, for this or the next process.
    if (!isOpen) {
      res.writeHead(503, { 'retry-after': '5' }).end();
      return;
    }
    await callback(req, res);
    if (res.statusCode === 401)
      logger.warn({ from: req.socket.remoteAddress }, 'webhook request without the right secret refused');
  });
  return {
    /** Takes updates from now on and points Telegram at the webhook (pending updates are kept, not dropped). */
    async open() {
      isOpen = true;
      await bot.api.setWebhook(opts.url, { secret_token: opts.secret, drop_pending_updates: false });
    },
    /** Refuses new updates (Telegram keeps them for the next start) and waits for the running ones. */
    async close() {
      isOpen = false;
      await Promise.allSettled([...running]);
    },
  };
}
