import { type Api, GrammyError } from 'grammy';
import type { FollowUp } from '../../comfy/manifest.js';
import { formatDuration, type Locale, t } from '../../i18n/index.js';
import type { Logger } from '../../logger.js';
import { PermanentDeliveryError, type ProgressSink, type ProgressView } from '../progress/sink.js';
import { cancelRow } from '../result-actions.js';
import type { SendScheduler } from '../send-scheduler.js';
import { jobMessageOf, type JobMessage, ping, showPreview, showText } from './job-message.js';
import { keyboardOf } from './markup.js';
import { showResultIn } from './result.js';
import { inLane } from './scheduled-api.js';

/**
 * One job's message in a Telegram chat (job-message.ts), its result (result.ts), and its turns in the chat's budget.
 * A new job's first message may wait a grace (PROGRESS_GRACE_S, default 0: at once): a job done by then is answered
 * with its result alone (one send instead of a "queued" message, edits and the result), while a private chat shows
 * "sending a photo…" meanwhile.
 * After that, progress edits the message in place; the result replaces it with the photo (editMessageMedia), or — for
 * several files — it becomes the buttons message under an album. Its sends wait for their turn in the chat's budget
 * (`slot`, the send scheduler): changes of state, percentages and heartbeats in their lanes, results and failures
 * first. A long job whose end is only an edit also gets a short reply to the command, since edits notify nobody (a
 * result sent as a new reply notifies by itself). 429s are prevented by the scheduler and waited out by auto-retry,
 * so this code never loops on its own.
 */
export interface TelegramSinkDeps {
  api: Api;
  chatId: number;
  /** The user's command message, for replies. */
  replyTo?: number;
  /** An existing progress message (after a restart). */
  messageId?: number;
  locale: Locale;
  logger: Logger;
  /** The follow-up buttons a workflow declares (Upscale, Vary, Animate), for the rows under its results. */
  followUpsOf?: (workflow: string) => readonly FollowUp[];
  /** The forum topic of the command (message_thread_id): everything the job sends stays in it. */
  threadId?: number;
  onMessage?: (messageId: number) => void;
  /** Upload cap for documents/videos (50 MB; 2000 MB with a local Bot API server). */
  maxUploadBytes?: number;
  /** A download link for a stored result (when PUBLIC_URL is set). */
  linkFor?: (relativePath: string) => { url: string; hours: number } | undefined;
  /** The chat's send budget, shared with every other job there; without it progress is sent at once. */
  scheduler?: SendScheduler;
  /** How long a new job's first message waits for its result (PROGRESS_GRACE_S; default 0: at once). */
  graceMs?: number;
}

/**
 * How long a new job's first message waits for the job to end, unless configured: none. Every job gets its message at
 * once, which every client shows the same way; PROGRESS_GRACE_S=1 trades it for one send per fast job.
 */
export const FIRST_MESSAGE_GRACE_MS = 0;

/** Telegram errors a retry cannot fix: the bot was blocked or removed, the chat is gone, it may not write there. */
const permanent = (err: unknown) =>
  err instanceof GrammyError &&
  (err.error_code === 403 ||
    /chat not found|CHAT_WRITE_FORBIDDEN|not enough rights|user is deactivated/i.test(err.description))
    ? new PermanentDeliveryError(err.description, { cause: err })
    : err;

export function createTelegramSink(deps: TelegramSinkDeps): ProgressSink {
  const m = jobMessageOf(deps);
  const turns = deps.scheduler && turnsIn(deps.scheduler, deps.chatId);
  const sink: ProgressSink = {
    graceMs: deps.messageId === undefined ? (deps.graceMs ?? FIRST_MESSAGE_GRACE_MS) : 0,
    showActivity: () => showActivity(m),
    async showProgress(view: ProgressView) {
      const kb = view.canCancel ? keyboardOf([cancelRow(deps.locale, view.jobId)]) : undefined;
      if (view.previewPath && (await showPreview(m, view, kb))) return;
      await showText(m, view.text, kb);
    },
    async showResult(view) {
      const how = await showResultIn(m, view).catch((err) => Promise.reject(permanent(err)));
      turns?.forget();
      // A new message replying to the command notifies its user already; an edit notifies nobody.
      const time = formatDuration(view.durationMs);
      if (view.notify && how === 'edited') await ping(m, t(deps.locale, 'notify.done', { id: view.shortId, time }));
    },
    async showFailure(view) {
      await showText(m, view.text).catch((err) => Promise.reject(permanent(err)));
      turns?.forget();
      if (view.notify) await ping(m, t(deps.locale, 'notify.failed', { id: view.shortId }));
    },
  };
  return turns ? { ...sink, slot: turns.slot } : sink;
}

/**
 * "Sending a photo…" at the top of a private chat while the job's first message waits for its grace: only when the
 * chat's bucket has a send to spare beyond the one the result may need at once. Never in a group, where it would
 * spend one of the 20 sends a minute that every member's jobs share.
 */
async function showActivity(m: JobMessage) {
  const { api, chatId, scheduler } = m.deps;
  if (chatId < 0 || m.id !== undefined) return;
  const send = () =>
    api.sendChatAction(chatId, 'upload_photo', m.deps.threadId ? { message_thread_id: m.deps.threadId } : {});
  if (!scheduler) return void (await send());
  const grant = scheduler.tryAcquire(String(chatId), 'heartbeat', { keep: 1 });
  if (grant) await inLane('heartbeat', send, grant);
}

/**
 * Turns in the chat's budget: one pending request per message, in the lane the reporter asks for. The granted slot is
 * spent by the first API call the sink makes with it. `forget` once the job's end is shown: the chat no longer
 * counts it as running.
 */
function turnsIn(scheduler: SendScheduler, chatId: number) {
  const key = `${chatId}:${Math.random().toString(36).slice(2)}`;
  const slot: NonNullable<ProgressSink['slot']> = async (lane, signal) => {
    const grant = await scheduler.acquire(String(chatId), lane, { key, signal });
    return grant && { run: (send) => inLane(lane, send, grant), release: () => grant.release() };
  };
  return { slot, forget: () => scheduler.forget(String(chatId), key) };
}
