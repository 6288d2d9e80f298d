import { autoRetry } from '@grammyjs/auto-retry';
import { type RunnerHandle, run, sequentialize } from '@grammyjs/runner';
import { Bot, type Context, GrammyError, type Transformer } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { FollowUp } from '../../comfy/manifest.js';
import type { AsksRepo } from '../../history/asks-repo.js';
import type { JobRecord, JobsRepo } from '../../history/jobs-repo.js';
import { MAX_INPUT_BYTES, telegramLimits } from '../../images/limits.js';
import { asLocale, type Locale, pickLocale, t } from '../../i18n/index.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { Dispatcher } from '../dispatch.js';
import { createTelegramContext, downloadTelegramFile, isOwnerless } from './context.js';
import { registerMenus } from './menu.js';
import { createSendScheduler, telegramBudget } from '../send-scheduler.js';
import { scheduledCalls } from './scheduled-api.js';
import { createTelegramSink } from './sink.js';
import { commandOf } from './update.js';
import { createWebhookReceiver, type WebhookOptions } from './webhook.js';

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
}

export function createTelegramFrontend(deps: TelegramFrontendDeps) {
  const log = deps.logger.child({ platform: 'telegram' });
  const client = deps.apiRoot ? { apiRoot: deps.apiRoot } : undefined;
  const bot = new Bot(deps.token, { botInfo: deps.botInfo, client });
  // Order matters (the transformer installed last is outermost). Innermost: every attempt is counted, including
  // each 429 and each retry. Then the per-chat send scheduler (it replaces grammY's FIFO throttler; see
  // send-scheduler.ts): every attempt waits for a slot in its chat's budget, results first, and a 429 blocks the
  // chat for its retry_after. Outermost, auto-retry: its retries go through the scheduler again.
  if (deps.metrics) bot.api.config.use(countCalls(deps.metrics));
  const scheduler = createSendScheduler({ budgetOf: telegramBudget, global: { limit: 30, windowMs: 1000 } });
  bot.api.config.use(scheduledCalls(scheduler));
  // Bounded: a 429 is waited out when Telegram asks for a minute or less; network errors and 5xx are thrown to
  // the caller after three tries (final delivery retries with its own backoff; a command answers with an error).
  bot.api.config.use(
    autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60, rethrowInternalServerErrors: true, rethrowHttpErrors: true }),
  );
  // Updates run concurrently across chats (the runner) and in order within a chat, so one slow download or gallery
  // render never holds up other chats. The highest update id started is confirmed to Telegram on stop.
  let lastUpdateId = 0;
  bot.use(async (ctx, next) => {
    lastUpdateId = Math.max(lastUpdateId, ctx.update.update_id);
    await next();
  });
  const webhook = deps.webhook ? createWebhookReceiver(bot, deps.webhook, log) : undefined;
  bot.use(sequentialize((ctx: Context) => String(ctx.chat?.id ?? ctx.from?.id ?? '')));
  const downloadCap = deps.isLocalApi ? MAX_INPUT_BYTES : telegramLimits.downloadBytes;
  const uploadCap = deps.isLocalApi ? 2000 * 1000 * 1000 : telegramLimits.documentBytes;
  const fileUrl = (p: string) => `${deps.apiRoot ?? 'https://api.telegram.org'}/file/bot${deps.token}/${p}`;

  const sink = (
    chatId: number,
    locale: Locale,
    at: { replyTo?: number; messageId?: number; threadId?: number },
    jobId?: string,
  ) => {
    let id = jobId;
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
      onMessage: (m) => id && deps.repo.setMessage(id, String(chatId), String(m)),
    });
    // The job id is known once the first view arrives; the message id is recorded for restarts.
    return {
      showProgress: (v: Parameters<typeof s.showProgress>[0]) => ((id = v.jobId), s.showProgress(v)),
      showResult: (v: Parameters<typeof s.showResult>[0]) => ((id = v.jobId), s.showResult(v)),
      showFailure: (v: Parameters<typeof s.showFailure>[0]) => ((id = v.jobId), s.showFailure(v)),
      slot: s.slot,
    };
  };

  const contextOf = (ctx: Context) =>
    createTelegramContext(ctx, {
      asks: deps.asks,
      isAdmin: deps.isAdmin,
      downloadCap,
      download: (ref) => downloadTelegramFile({ api: bot.api, fileUrl }, ref, downloadCap),
      sinkFor: (chatId, replyTo, user, threadId) => sink(chatId, user.locale, { replyTo, threadId }),
    });

  bot.on('message', async (ctx) => {
    const msg = ctx.msg;
    const cmd = commandOf(msg, bot.botInfo.username);
    if (cmd && isOwnerless(ctx)) {
      const text = t(pickLocale(ctx.from.language_code), 'error.shared_identity');
      const reply_parameters = { message_id: msg.message_id, allow_sending_without_reply: true };
      await ctx.reply(text, { reply_parameters }).catch((err) => log.warn({ err }, 'could not answer'));
      return;
    }
    if (cmd) {
      if (deps.dispatcher.has(cmd.name)) await deps.dispatcher.command(cmd.name, { text: cmd.args }, contextOf(ctx));
      return;
    }
    // An answer to one of our questions (ForceReply): the question message stands for an action.
    const replied = msg.reply_to_message;
    if (!replied || replied.from?.id !== bot.botInfo.id || !msg.text) return;
    const action = deps.asks.get(String(msg.chat.id), String(replied.message_id), String(ctx.from.id));
    if (action) await deps.dispatcher.action(action, contextOf(ctx), msg.text);
  });

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
      // getMe by hand: grammY's init() would retry an unreachable Telegram forever inside this call; the caller
      // retries with its own backoff and log instead.
      if (!bot.isInited()) bot.botInfo = await bot.api.getMe();
      await registerMenus(bot.api, deps.dispatcher.commands).catch((err) =>
        log.warn({ err: (err as Error).message }, 'could not register the command menu'),
      );
      if (webhook) await webhook.open();
      else {
        // Back from webhook mode: Telegram refuses getUpdates while a webhook is set. Pending updates are kept.
        await bot.api.deleteWebhook({ drop_pending_updates: false });
        // Polling after an outage: a fixed 3 s between failed getUpdates (the default doubles without a cap, so the
        // bot could stay deaf for as long as Telegram was away), quietly, for as long as it takes.
        runner = run(bot, { runner: { retryInterval: 3_000, silent: true, maxRetryTime: Number.POSITIVE_INFINITY } });
      }
      log.info({ username: bot.botInfo.username, mode: webhook ? 'webhook' : 'polling' }, 'telegram bot started');
    },
    async stop() {
      if (webhook) return webhook.close();
      if (!runner?.isRunning()) return;
      await runner.stop();
      if (lastUpdateId)
        await bot.api.getUpdates({ offset: lastUpdateId + 1, limit: 1, timeout: 0 }).catch(() => undefined);
    },
  };
}

export type TelegramFrontend = ReturnType<typeof createTelegramFrontend>;

/** Counts each Bot API call by method and result for /metrics (method names are a fixed set). */
function countCalls(metrics: Metrics): Transformer {
  return async (prev, method, payload, signal) => {
    try {
      const res = await prev(method, payload, signal);
      metrics.platformCall('telegram', method, res.ok ? 'ok' : res.error_code === 429 ? '429' : 'error');
      return res;
    } catch (err) {
      metrics.platformCall('telegram', method, err instanceof GrammyError && err.error_code === 429 ? '429' : 'error');
      throw err;
    }
  };
}
