import { type RunnerHandle, sequentialize } from '@grammyjs/runner';
import { Bot, type Context } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { FollowUp } from '../../comfy/manifest.js';
import type { AsksRepo } from '../../history/asks-repo.js';
import type { JobRecord, JobsRepo } from '../../history/jobs-repo.js';
import { MAX_INPUT_BYTES, telegramLimits } from '../../images/limits.js';
import { asLocale, type Locale } from '../../i18n/index.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { Dispatcher } from '../dispatch.js';
import { createTelegramContext, downloadTelegramFile } from './context.js';
import { registerMenus } from './menu.js';
import { createSendScheduler } from '../send-scheduler.js';
import { createTelegramSink } from './sink.js';
import { createWebhookReceiver, type WebhookOptions } from './webhook.js';
import { layerApi, listen, onMessage, tellingJobId, trackLastUpdate } from './bot-parts.js';
import { telegramBudget, telegramGlobalBudget } from './scheduled-api.js';

/**
 * The Telegram frontend: updates in, the dispatcher does the rest. What stays here is Telegram's own: the API client
 * with its retry and per-chat throttling, commands in captions and `/cmd@bot`, answers to our questions (matched by
 * the message they reply to), long polling or the webhook (webhook.ts), and the sinks that edit a job's message.
 */
export interface TelegramFrontendDeps {
  token: string;
  apiRoot?: string;
  /** A local Bot API server: no 20 MB download cap, 2000 MB uploads. */
  isLocalApi?: boolean;
  /** Skip getMe (tests, or a known bot). */
  botInfo?: UserFromGetMe;
  dispatcher: Dispatcher;
  repo: JobsRepo;
  asks: AsksRepo;
  isAdmin: (userId: string) => boolean;
  logger: Logger;
  metrics?: Metrics;
  /** The follow-up buttons a workflow declares, for the rows under its results. */
  followUpsOf?: (workflow: string) => readonly FollowUp[];
  /** Download links for results too large for the chat (when PUBLIC_URL is set). */
  linkFor?: (relativePath: string) => { url: string; hours: number } | undefined;
  /** Webhook mode (TELEGRAM_WEBHOOK_URL) instead of long polling. */
  webhook?: WebhookOptions;
  /** How long a new job's first message waits for its result (default 1 s; 0: at once). */
  firstMessageGraceMs?: number;
}

/** Where a job's message is: under the command (and in its topic), or an existing message after a restart. */
type SinkPlace = { replyTo?: number; messageId?: number; threadId?: number };

export function createTelegramFrontend(deps: TelegramFrontendDeps) {
  const log = deps.logger.child({ platform: 'telegram' });
  const client = deps.apiRoot ? { apiRoot: deps.apiRoot } : undefined;
  const bot = new Bot(deps.token, { botInfo: deps.botInfo, client });
  const scheduler = createSendScheduler({ budgetOf: telegramBudget, global: telegramGlobalBudget });
  layerApi(bot, scheduler, deps.metrics);
  // Updates run concurrently across chats (the runner) and in order within a chat, so one slow download or gallery
  // render never holds up other chats. The highest update id started is confirmed to Telegram on stop.
  const lastUpdate = trackLastUpdate(bot);
  const webhook = deps.webhook ? createWebhookReceiver(bot, deps.webhook, log) : undefined;
  bot.use(sequentialize((ctx: Context) => String(ctx.chat?.id ?? ctx.from?.id ?? '')));
  const downloadCap = deps.isLocalApi ? MAX_INPUT_BYTES : telegramLimits.downloadBytes;
  const uploadCap = deps.isLocalApi ? 2000 * 1000 * 1000 : telegramLimits.documentBytes;
  const fileUrl = (p: string) => `${deps.apiRoot ?? 'https://api.telegram.org'}/file/bot${deps.token}/${p}`;

  const sink = (chatId: number, locale: Locale, at: SinkPlace, jobId?: string) => {
    const tracked = { id: jobId };
    const s = createTelegramSink({
      api: bot.api,
      chatId,
      ...at,
      locale,
      logger: log,
      followUpsOf: deps.followUpsOf,
      linkFor: deps.linkFor,
      maxUploadBytes: uploadCap,
      scheduler,
      graceMs: deps.firstMessageGraceMs,
      onMessage: (m) => tracked.id && deps.repo.setMessage(tracked.id, String(chatId), String(m)),
    });
    return tellingJobId(s, tracked);
  };

  const contextOf = (ctx: Context) =>
    createTelegramContext(ctx, {
      asks: deps.asks,
      isAdmin: deps.isAdmin,
      downloadCap,
      download: (ref) => downloadTelegramFile({ api: bot.api, fileUrl }, ref, downloadCap),
      sinkFor: (chatId, replyTo, user, threadId) => sink(chatId, user.locale, { replyTo, threadId }),
    });

  bot.on('message', (ctx) => onMessage(ctx, bot, deps.dispatcher, deps.asks, contextOf));

  bot.on('callback_query:data', (ctx) => deps.dispatcher.action(ctx.callbackQuery.data, contextOf(ctx)));

  let runner: RunnerHandle | undefined;
  bot.catch((err) => log.error({ err: err.error, updateId: err.ctx.update.update_id }, 'unhandled error in a handler'));

  return {
    bot,
    /** A sink for a job found unfinished at start-up (its progress message is edited again). */
    sinkForRecord(rec: JobRecord) {
      if (!rec.chatId) return undefined;
      const messageId = rec.messageId ? Number(rec.messageId) : undefined;
      return sink(Number(rec.chatId), asLocale(rec.locale), { messageId }, rec.id);
    },
    async start() {
      await registerMenus(bot.api, deps.dispatcher.commands).catch((err) =>
        log.warn({ err: (err as Error).message }, 'could not register the command menu'),
      );
      runner = await listen(bot, webhook);
      log.info({ username: bot.botInfo.username, mode: webhook ? 'webhook' : 'polling' }, 'telegram bot started');
    },
    async stop() {
      if (webhook) return webhook.close();
      if (!runner?.isRunning()) return;
      await runner.stop();
      if (lastUpdate())
        await bot.api.getUpdates({ offset: lastUpdate() + 1, limit: 1, timeout: 0 }).catch(() => undefined);
    },
  };
}

export type TelegramFrontend = ReturnType<typeof createTelegramFrontend>;
