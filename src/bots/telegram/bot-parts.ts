import { autoRetry } from '@grammyjs/auto-retry';
import { type RunnerHandle, run } from '@grammyjs/runner';
import { type Bot, type Context, GrammyError, type Transformer } from 'grammy';
import type { Message } from 'grammy/types';
import type { AsksRepo } from '../../history/asks-repo.js';
import { pickLocale, t } from '../../i18n/index.js';
import type { Metrics } from '../../ops/metrics.js';
import type { CommandContext } from '../command.js';
import type { Dispatcher } from '../dispatch.js';
import type { ProgressSink } from '../progress/sink.js';
import type { SendScheduler } from '../send-scheduler.js';
import { isOwnerless } from './context.js';
import { scheduledCalls } from './scheduled-api.js';
import { commandOf } from './update.js';

/** The Telegram frontend's pieces that need no state of their own: the API client's layers, update intake, listening. */

/**
 * Updates start flowing: by webhook, or by long polling (the runner). getMe is asked by hand first: grammY's init()
 * would retry an unreachable Telegram forever inside this call; the caller retries with its own backoff and log.
 */
export async function listen(
  bot: Bot,
  webhook: { open(): Promise<void> } | undefined,
): Promise<RunnerHandle | undefined> {
  if (!bot.isInited()) bot.botInfo = await bot.api.getMe();
  if (webhook) {
    await webhook.open();
    return undefined;
  }
  // Back from webhook mode: Telegram refuses getUpdates while a webhook is set. Pending updates are kept.
  await bot.api.deleteWebhook({ drop_pending_updates: false });
  // Polling after an outage: a fixed 3 s between failed getUpdates (the default doubles without a cap, so the bot
  // could stay deaf for as long as Telegram was away), quietly, for as long as it takes.
  return run(bot, { runner: { retryInterval: 3_000, silent: true, maxRetryTime: Number.POSITIVE_INFINITY } });
}

/** The job id is known once the first view arrives; the sink's message id is then recorded for restarts. */
export function tellingJobId(s: ProgressSink, tracked: { id?: string }): ProgressSink {
  return {
    ...s,
    showProgress: (v) => ((tracked.id = v.jobId), s.showProgress(v)),
    showResult: (v) => ((tracked.id = v.jobId), s.showResult(v)),
    showFailure: (v) => ((tracked.id = v.jobId), s.showFailure(v)),
  };
}

/**
 * The API client's layers. Order matters (the transformer installed last is outermost). Innermost: every attempt is
 * counted, including each 429 and each retry. Then the per-chat send scheduler (it replaces grammY's FIFO throttler;
 * see send-scheduler.ts): every attempt waits for a slot in its chat's budget, results first, and a 429 blocks the
 * chat for its retry_after. Outermost, auto-retry, bounded: a 429 is waited out when Telegram asks for a minute or
 * less; network errors and 5xx are thrown to the caller after three tries (final delivery retries with its own
 * backoff; a command answers with an error). Its retries go through the scheduler again.
 */
export function layerApi(bot: Bot, scheduler: SendScheduler, metrics: Metrics | undefined) {
  if (metrics) bot.api.config.use(countCalls(metrics));
  bot.api.config.use(scheduledCalls(scheduler));
  bot.api.config.use(
    autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60, rethrowInternalServerErrors: true, rethrowHttpErrors: true }),
  );
}

/** A message: a command (in its text or caption), or the answer to one of our questions (ForceReply). */
export async function onMessage(
  ctx: Context & { msg: Message; from: NonNullable<Context['from']> },
  bot: Bot,
  dispatcher: Dispatcher,
  asks: AsksRepo,
  contextOf: (ctx: Context) => CommandContext,
) {
  const msg = ctx.msg;
  const cmd = commandOf(msg, bot.botInfo.username);
  if (cmd && isOwnerless(ctx)) {
    const text = t(pickLocale(ctx.from.language_code), 'error.shared_identity');
    const reply_parameters = { message_id: msg.message_id, allow_sending_without_reply: true };
    await ctx.reply(text, { reply_parameters }).catch(() => undefined);
    return;
  }
  if (cmd) {
    if (dispatcher.has(cmd.name)) await dispatcher.command(cmd.name, { text: cmd.args }, contextOf(ctx));
    return;
  }
  // The question message stands for an action; the answer is matched by the message it replies to.
  const replied = msg.reply_to_message;
  if (!replied || replied.from?.id !== bot.botInfo.id || !msg.text) return;
  const action = asks.get(String(msg.chat.id), String(replied.message_id), String(ctx.from.id));
  if (action) await dispatcher.action(action, contextOf(ctx), msg.text);
}

/** Counts each Bot API call by method and result for /metrics (method names are a fixed set). */
export function countCalls(metrics: Metrics): Transformer {
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

/** The highest update id whose handling started: confirmed to Telegram on stop, so no update is handled twice. */
export function trackLastUpdate(bot: Bot): () => number {
  let last = 0;
  bot.use(async (ctx, next) => {
    last = Math.max(last, ctx.update.update_id);
    await next();
  });
  return () => last;
}
