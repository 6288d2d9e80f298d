import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DiscordAPIError, Routes, type REST, type RawFile } from 'discord.js';
import { createHash } from 'node:crypto';
import type { FollowUp } from '../../comfy/manifest.js';
import { fitPhoto } from '../../images/fit-output.js';
import { previewJpeg } from '../../images/preview.js';
import { formatDuration, t, type Locale } from '../../i18n/index.js';
import type { Logger } from '../../logger.js';
import { cancelRow, resultRows } from '../result-actions.js';
import { componentsOf } from './components.js';
import {
  type FailureView,
  PermanentDeliveryError,
  type ProgressSink,
  type ProgressView,
  type ResultView,
} from '../progress/sink.js';
import { oversizeText, resultCaption } from '../result-text.js';
import type { SendGrant, SendLane, SendScheduler } from '../send-scheduler.js';

/**
 * One job's status message on Discord.
 * - While the interaction token lives, the deferred reply (@original) is edited through the webhook route.
 * - Before the 15-minute token dies (at handoverMs), or at once when Discord rejects it (401 / 50027 / 10015),
 *   progress moves to a channel message posted with the bot token (nonce + enforce_nonce, so a retried request
 *   never posts twice) and the reply points there. A dead token is never used again.
 * - Messages older than an hour have a small edit quota (30046): before rolloverMs the status message is replaced by
 *   a fresh one, and an edit answered with 30046 rolls over at once.
 * - A live preview picture rides on progress edits as the message's one attachment (replaced, never appended).
 * - Every call that posts or edits a message in the channel takes a turn in the channel's budget: progress in the lane
 *   the reporter asked for (`slot`), results, failures and pings first. A new job's first edit may wait
 *   a grace (PROGRESS_GRACE_S, default 0) under the deferred reply's "thinking…": a job done by then gets one edit.
 * - A long job's end also pings the user: a channel message mentioning only them (an edit notifies nobody); a result
 *   posted after the token already mentions them.
 * 429s are waited out by discord.js's REST queue; the reporter keeps at most one edit in flight per message.
 * Over 300 lines because the token, the channel message and their handover are one state machine (`StatusMessage`,
 * with its steps as functions of it).
 */
export interface DiscordSinkDeps {
  rest: REST;
  appId: string;
  token?: string;
  tokenCreatedAt: number;
  channelId: string;
  userId: string;
  locale: Locale;
  /** attachment_size_limit of the interaction (bytes per file). */
  uploadCap: number;
  /** Whether the bot may post in the channel (needed after the token expires). */
  canPost: boolean;
  handoverMs: number;
  rolloverMs: number;
  /** The follow-up buttons a workflow declares (Upscale, Vary, Animate), for the rows under its results. */
  followUpsOf?: (workflow: string) => readonly FollowUp[];
  /** The server the channel is in (links to a message need it); undefined in DMs. */
  guildId?: string;
  logger: Logger;
  now?: () => number;
  /** A download link for a stored result (when PUBLIC_URL is set). */
  linkFor?: (relativePath: string) => { url: string; hours: number } | undefined;
  /** The channel's send budget, shared with the other jobs there (discord.js would only wait out the 429s). */
  scheduler?: SendScheduler;
  /** How long a new job's first edit waits for its result (PROGRESS_GRACE_S; default 0: at once). */
  graceMs?: number;
}

/** Files sent with an edit are appended unless `attachments` lists what stays: these files replace the old ones. */
const attach = (body: Record<string, unknown>, files?: RawFile[]) =>
  files?.length ? { ...body, attachments: files.map((f, i) => ({ id: i, filename: f.name })) } : body;

const DEAD_TOKEN = new Set([50027, 10015]);
/** Discord errors a retry cannot fix: no access to the channel, no permission, the channel or user is gone. */
const PERMANENT = new Set([10003, 50001, 50007, 50013]);
const permanent = (err: unknown) =>
  err instanceof DiscordAPIError && PERMANENT.has(Number(err.code))
    ? new PermanentDeliveryError(err.message, { cause: err })
    : err;

/** How long a new job's first edit waits under "thinking…" for the job to end, unless configured (Telegram sink). */
export const FIRST_MESSAGE_GRACE_MS = 0;

/** Where the job's status lives now, and the channel turn its next REST call spends. */
interface StatusMessage {
  deps: DiscordSinkDeps;
  now: () => number;
  token?: string;
  /** The interaction reply we edit: '@original', or the followup that replaced it once someone deleted it. */
  reply: string;
  channelMsg?: { id: string; createdAt: number };
  posts: number;
  /** A turn already granted (spent by the next call), and the lane further calls wait in. */
  turn: { held?: SendGrant; lane: SendLane };
}

export function createDiscordSink(deps: DiscordSinkDeps): ProgressSink & { mode(): 'interaction' | 'channel' } {
  const m: StatusMessage = {
    deps,
    now: deps.now ?? Date.now,
    token: deps.token,
    reply: '@original',
    posts: 0,
    turn: { lane: 'final' },
  };
  const { locale } = deps;
  const turns = deps.scheduler && turnsIn(deps.scheduler, m);
  return {
    mode: () => (tokenUsable(m) ? 'interaction' : 'channel'),
    graceMs: deps.token ? (deps.graceMs ?? FIRST_MESSAGE_GRACE_MS) : 0,

    async showProgress(view: ProgressView) {
      const components = view.canCancel ? componentsOf([cancelRow(locale, view.jobId)]) : [];
      await show(m, { content: view.text, components }, await previewFiles(view, deps.logger));
    },

    async showResult(view: ResultView) {
      const where = await showResult(m, view).catch((err) => Promise.reject(permanent(err)));
      turns?.forget();
      if (view.notify && where === 'edited')
        await ping(
          m,
          view.jobId,
          t(locale, 'notify.done', { id: view.shortId, time: formatDuration(view.durationMs) }),
        );
    },

    async showFailure(view: FailureView) {
      await show(m, { content: view.text, components: [] }).catch((err) => Promise.reject(permanent(err)));
      turns?.forget();
      if (view.notify) await ping(m, view.jobId, t(locale, 'notify.failed', { id: view.shortId }));
    },

    ...(turns ? { slot: turns.slot } : {}),
  };
}

const tokenUsable = (m: StatusMessage) => m.token !== undefined && m.now() - m.deps.tokenCreatedAt < m.deps.handoverMs;
/** The token still works (15 minutes), even when we already moved away from it. */
const tokenAlive = (m: StatusMessage, token = m.token): token is string =>
  token !== undefined && m.now() - m.deps.tokenCreatedAt < 15 * 60_000;
const isDeadToken = (err: unknown) =>
  err instanceof DiscordAPIError && (DEAD_TOKEN.has(Number(err.code)) || err.status === 401);

/** One REST call that posts or edits in the channel: it spends the turn held, or waits for one in the current lane. */
async function call<T>(m: StatusMessage, send: () => Promise<T>): Promise<T> {
  const scheduler = m.deps.scheduler;
  if (!scheduler) return send();
  const grant = m.turn.held ?? (await scheduler.acquire(m.deps.channelId, m.turn.lane));
  m.turn.held = undefined;
  try {
    return await send();
  } finally {
    grant?.answered();
  }
}

const patchReply = (m: StatusMessage, token: string, body: Record<string, unknown>, files?: RawFile[]) =>
  call(m, () => m.deps.rest.patch(Routes.webhookMessage(m.deps.appId, token, m.reply), { body, files, auth: false }));

const patchChannel = (m: StatusMessage, id: string, body: Record<string, unknown>, files?: RawFile[]) =>
  call(m, () => m.deps.rest.patch(Routes.channelMessage(m.deps.channelId, id), { body, files }));

/** A result part's nonce comes from the job and the part, so a retried delivery is de-duplicated by Discord. */
const nonce = (m: StatusMessage, key?: string) =>
  key
    ? `r${createHash('sha1').update(key).digest('base64url').slice(0, 24)}`
    : `cr${m.deps.channelId.slice(-6)}${m.deps.tokenCreatedAt.toString(36)}${(m.posts += 1)}`.slice(0, 25);

/** A bot-token channel post: only the job's owner may ever be pinged by it. */
async function postChannel(m: StatusMessage, body: Record<string, unknown>, files?: RawFile[], key?: string) {
  const { deps } = m;
  const payload = { allowed_mentions: { users: [deps.userId] }, ...body, nonce: nonce(m, key), enforce_nonce: true };
  const msg = (await call(m, () =>
    deps.rest.post(Routes.channelMessages(deps.channelId), { body: payload, files }),
  )) as {
    id: string;
  };
  return msg.id;
}

/** Moves the status to a bot-owned channel message; the old reply (if the token still works) points to it. */
async function handover(m: StatusMessage, body: Record<string, unknown>) {
  const id = await postChannel(m, body);
  m.channelMsg = { id, createdAt: m.now() };
  const link = `https://discord.com/channels/${m.deps.guildId ?? '@me'}/${m.deps.channelId}/${id}`;
  const old = m.token;
  m.token = undefined;
  if (tokenAlive(m, old))
    await patchReply(m, old, { content: t(m.deps.locale, 'discord.moved', { link }), components: [] }).catch(
      () => undefined,
    );
}

async function rollover(m: StatusMessage, body: Record<string, unknown>) {
  const old = m.channelMsg;
  const id = await postChannel(m, body);
  m.channelMsg = { id, createdAt: m.now() };
  if (old)
    await patchChannel(m, old.id, { content: t(m.deps.locale, 'discord.continued'), components: [] }).catch(
      () => undefined,
    );
}

/** The interaction reply shows `body`; 'dead' when Discord refused the token (the caller moves to the channel). */
async function showOnReply(m: StatusMessage, body: Record<string, unknown>, files?: RawFile[]) {
  const token = m.token as string;
  const withFiles = attach(body, files);
  try {
    await patchReply(m, token, withFiles, files);
    return 'interaction';
  } catch (err) {
    if (err instanceof DiscordAPIError && Number(err.code) === 10008) {
      // Someone deleted the reply: post it again as a followup (same token) and edit that from now on.
      m.deps.logger.info('status message deleted; posting it again');
      const msg = (await call(m, () =>
        m.deps.rest.post(Routes.webhook(m.deps.appId, token), { body: withFiles, files, auth: false }),
      )) as { id: string };
      m.reply = msg.id;
      return 'interaction';
    }
    if (!isDeadToken(err)) throw err;
    m.deps.logger.info(
      { code: (err as DiscordAPIError).code },
      'interaction token rejected; moving to a channel message',
    );
    m.token = undefined;
    return 'dead';
  }
}

/** The bot-owned channel message shows `body`: posted first, rolled over before it is an hour old or when refused. */
async function showOnChannel(m: StatusMessage, body: Record<string, unknown>, files?: RawFile[]) {
  const msg = m.channelMsg;
  if (!msg) return handover(m, body);
  if (m.now() - msg.createdAt >= m.deps.rolloverMs) return rollover(m, body);
  try {
    await patchChannel(m, msg.id, attach(body, files), files);
  } catch (err) {
    if (err instanceof DiscordAPIError && (Number(err.code) === 30046 || Number(err.code) === 10008))
      await rollover(m, body);
    else throw err;
  }
}

/**
 * Shows `body` on the status message, wherever it lives now. Files go with edits, not with a handover or rollover;
 * returns where it ended up ('none' when the bot cannot post and the token is gone).
 */
async function show(
  m: StatusMessage,
  body: Record<string, unknown>,
  files?: RawFile[],
): Promise<'interaction' | 'channel' | 'none'> {
  if (m.token !== undefined && !tokenUsable(m)) {
    // The token is about to expire: move before it does, once.
    if (!m.deps.canPost) {
      m.token = undefined;
      return 'none';
    }
    await handover(m, body);
    return 'channel';
  }
  if (tokenUsable(m)) {
    if ((await showOnReply(m, body, files)) === 'interaction') return 'interaction';
    if (!m.deps.canPost) return 'none';
    await handover(m, body);
    return 'channel';
  }
  if (!m.deps.canPost) return 'none';
  await showOnChannel(m, body, files);
  return 'channel';
}

/** Result files under the per-file cap (recompressed when needed), at most 10 per message and 25 MiB per request. */
async function prepareFiles(
  deps: DiscordSinkDeps,
  view: ResultView,
): Promise<{ batches: RawFile[][]; skipped: string[] }> {
  const batches: RawFile[][] = [[]];
  const skipped: string[] = [];
  let batchBytes = 0;
  for (const f of view.files) {
    let data: Buffer = await readFile(f.absolutePath);
    let name = path.basename(f.absolutePath);
    if (data.length > deps.uploadCap && f.kind === 'image') {
      const fitted = await fitPhoto(f.absolutePath, {
        photoBytes: deps.uploadCap,
        photoSideSum: Infinity,
        photoRatio: Infinity,
      });
      if (fitted.as === 'photo') {
        data = fitted.bytes;
        name = name.replace(/\.\w+$/, '.jpg');
      }
    }
    if (data.length > deps.uploadCap) {
      skipped.push(oversizeText(deps.locale, f.path, data.length, deps.uploadCap, deps.linkFor, 1048576));
      continue;
    }
    let batch = batches.at(-1) as RawFile[];
    if (batch.length === 10 || batchBytes + data.length > 25 * 1024 * 1024) {
      batches.push((batch = []));
      batchBytes = 0;
    }
    // A spoiler on Discord is an attachment whose name starts with SPOILER_.
    batch.push({ name: view.spoiler && f.kind !== 'audio' ? `SPOILER_${name}` : name, data });
    batchBytes += data.length;
  }
  return { batches: batches.filter((b) => b.length), skipped };
}

/** Result files with the caption and buttons: on the interaction reply while its token lives, else posted. */
async function showResult(m: StatusMessage, view: ResultView) {
  const { deps } = m;
  const images = view.files.filter((f) => f.kind === 'image').length;
  const { batches, skipped } = await prepareFiles(deps, view);
  const content = [resultCaption(view, 1800), ...skipped].join('\n');
  const components = componentsOf(resultRows(deps.locale, view.jobId, images, deps.followUpsOf?.(view.workflow)));
  const [first = [], ...more] = batches;
  // No file of its own (all too large): `attachments: []` still takes the last preview picture off the message.
  const body = { content, components, ...(first.length ? {} : { attachments: [] }) };
  if (tokenUsable(m) && (await show(m, body, first)) === 'interaction') {
    for (const b of more)
      await call(m, () =>
        deps.rest.post(Routes.webhook(deps.appId, m.token as string), { body: { content: '' }, files: b, auth: false }),
      );
    return 'edited';
  }
  // After the token: the result is a new message that mentions the user; the status message says it is done.
  if (!deps.canPost) return 'none';
  await postChannel(m, { content: `<@${deps.userId}> ${content}`, components }, first, `${view.jobId}:0`);
  for (const [i, b] of more.entries()) await postChannel(m, { content: '' }, b, `${view.jobId}:${i + 1}`);
  const done = { content: view.text, components: [] };
  const token = m.token;
  if (m.channelMsg) await patchChannel(m, m.channelMsg.id, done).catch(() => undefined);
  else if (tokenAlive(m, token)) await patchReply(m, token, done).catch(() => undefined);
  return 'posted';
}

/**
 * Edits notify nobody: a message that mentions the job's user (and only them), in the channel or as a followup. The
 * result is already shown, so in a busy channel it waits for other jobs' changes of state (the `notice` lane).
 */
async function ping(m: StatusMessage, jobId: string, text: string) {
  const { deps } = m;
  const body = { content: `<@${deps.userId}> ${text}`, allowed_mentions: { users: [deps.userId] } };
  m.turn = { lane: 'notice' };
  try {
    const token = m.token;
    if (deps.canPost) await postChannel(m, body, undefined, `${jobId}:ping`);
    else if (tokenAlive(m, token))
      await call(m, () => deps.rest.post(Routes.webhook(deps.appId, token), { body, auth: false }));
  } catch (err) {
    deps.logger.warn({ err }, 'could not send the ping');
  } finally {
    m.turn = { lane: 'final' };
  }
}

/** The live preview as the message's one attachment; none when the frame cannot be read. */
async function previewFiles(view: ProgressView, logger: Logger): Promise<RawFile[] | undefined> {
  if (!view.previewPath) return undefined;
  try {
    return [{ name: 'preview.jpg', data: await previewJpeg(view.previewPath) }];
  } catch (err) {
    logger.debug({ err: (err as Error).message }, 'preview frame unreadable; text only');
    return undefined;
  }
}

/**
 * Turns in the channel's budget: one pending request per message, in the lane the reporter asks for; the granted
 * turn is spent by the progress edit's first REST call (a handover's post, say), further calls wait in the same lane.
 * Outside a turn (results, failures, pings) calls wait in `final`. `forget` once the job's end is shown.
 */
function turnsIn(scheduler: SendScheduler, m: StatusMessage) {
  const channelId = m.deps.channelId;
  const key = `${channelId}:${Math.random().toString(36).slice(2)}`;
  const slot: NonNullable<ProgressSink['slot']> = async (lane, signal) => {
    const grant = await scheduler.acquire(channelId, lane, { key, signal });
    if (!grant) return undefined;
    const run = async <T>(send: () => Promise<T>) => {
      m.turn = { held: grant, lane };
      try {
        return await send();
      } finally {
        m.turn.held?.release();
        m.turn = { lane: 'final' };
      }
    };
    return { run, release: () => grant.release() };
  };
  return { slot, forget: () => scheduler.forget(channelId, key) };
}
