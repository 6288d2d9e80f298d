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
import type { SendScheduler } from '../send-scheduler.js';

/**
 * One job's status message on Discord.
 * - While the interaction token lives, the deferred reply (@original) is edited through the webhook route.
 * - Before the 15-minute token dies (at handoverMs), or at once when Discord rejects it (401 / 50027 / 10015),
 *   progress moves to a channel message posted with the bot token (nonce + enforce_nonce, so a retried request
 *   never posts twice) and the reply points there. A dead token is never used again.
 * - Messages older than an hour have a small edit quota (30046): before rolloverMs the status message is replaced by
 *   a fresh one, and an edit answered with 30046 rolls over at once.
 * - A live preview picture rides on progress edits as the message's one attachment (replaced, never appended).
 *   Progress edits (previews included) take turns in the channel's budget (`slot`), results and failures first.
 * - A long job's end also pings the user: a channel message mentioning only them (an edit notifies nobody); a result
 *   posted after the token already mentions them.
 * 429s are waited out by discord.js's REST queue; the reporter keeps at most one edit in flight per message.
 * Over 300 lines because the token, the channel message and their handover are one state machine.
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

export function createDiscordSink(deps: DiscordSinkDeps): ProgressSink & { mode(): 'interaction' | 'channel' } {
  const now = deps.now ?? Date.now;
  let token = deps.token;
  /** The interaction reply we edit: '@original', or the followup that replaced it once someone deleted it. */
  let reply = '@original';
  let channelMsg: { id: string; createdAt: number } | undefined;
  let posts = 0;
  const { rest, locale } = deps;

  const tokenUsable = () => token !== undefined && now() - deps.tokenCreatedAt < deps.handoverMs;
  const isDeadToken = (err: unknown) =>
    err instanceof DiscordAPIError && (DEAD_TOKEN.has(Number(err.code)) || err.status === 401);
  // A result part's nonce comes from the job and the part, so a retried delivery is de-duplicated by Discord.
  const nonce = (key?: string) =>
    key
      ? `r${createHash('sha1').update(key).digest('base64url').slice(0, 24)}`
      : `cr${deps.channelId.slice(-6)}${deps.tokenCreatedAt.toString(36)}${(posts += 1)}`.slice(0, 25);

  /** A bot-token channel post: only the job's owner may ever be pinged by it. */
  async function postChannel(body: Record<string, unknown>, files?: RawFile[], key?: string) {
    const msg = (await rest.post(Routes.channelMessages(deps.channelId), {
      body: { allowed_mentions: { users: [deps.userId] }, ...body, nonce: nonce(key), enforce_nonce: true },
      files,
    })) as { id: string };
    return msg.id;
  }

  /** Moves the status to a bot-owned channel message; the old reply (if the token still works) points to it. */
  async function handover(body: Record<string, unknown>) {
    const id = await postChannel(body);
    channelMsg = { id, createdAt: now() };
    const link = `https://discord.com/channels/${deps.guildId ?? '@me'}/${deps.channelId}/${id}`;
    const old = token;
    token = undefined;
    if (old && now() - deps.tokenCreatedAt < 15 * 60_000) {
      await rest
        .patch(Routes.webhookMessage(deps.appId, old, reply), {
          body: { content: t(locale, 'discord.moved', { link }), components: [] },
          auth: false,
        })
        .catch(() => undefined);
    }
  }

  async function rollover(body: Record<string, unknown>) {
    const old = channelMsg;
    const id = await postChannel(body);
    channelMsg = { id, createdAt: now() };
    if (old)
      await rest
        .patch(Routes.channelMessage(deps.channelId, old.id), {
          body: { content: t(locale, 'discord.continued'), components: [] },
        })
        .catch(() => undefined);
  }

  /**
   * Shows `body` on the status message, wherever it lives now. Files go with edits, not with a handover or rollover;
   * returns where it ended up ('none' when the bot cannot post and the token is gone).
   */
  async function show(body: Record<string, unknown>, files?: RawFile[]): Promise<'interaction' | 'channel' | 'none'> {
    if (token !== undefined && !tokenUsable()) {
      // The token is about to expire: move before it does, once.
      if (!deps.canPost) {
        token = undefined;
        return 'none';
      }
      await handover(body);
      return 'channel';
    }
    if (tokenUsable()) {
      const withFiles = attach(body, files);
      try {
        await rest.patch(Routes.webhookMessage(deps.appId, token as string, reply), {
          body: withFiles,
          files,
          auth: false,
        });
        return 'interaction';
      } catch (err) {
        if (err instanceof DiscordAPIError && Number(err.code) === 10008) {
          // Someone deleted the reply: post it again as a followup (same token) and edit that from now on.
          deps.logger.info('status message deleted; posting it again');
          const msg = (await rest.post(Routes.webhook(deps.appId, token as string), {
            body: withFiles,
            files,
            auth: false,
          })) as { id: string };
          reply = msg.id;
          return 'interaction';
        }
        if (!isDeadToken(err)) throw err;
        deps.logger.info(
          { code: (err as DiscordAPIError).code },
          'interaction token rejected; moving to a channel message',
        );
        token = undefined;
        if (!deps.canPost) return 'none';
        await handover(body);
        return 'channel';
      }
    }
    if (!deps.canPost) return 'none';
    if (!channelMsg) await handover(body);
    else if (now() - channelMsg.createdAt >= deps.rolloverMs) await rollover(body);
    else {
      try {
        await rest.patch(Routes.channelMessage(deps.channelId, channelMsg.id), { body: attach(body, files), files });
      } catch (err) {
        if (err instanceof DiscordAPIError && (Number(err.code) === 30046 || Number(err.code) === 10008))
          await rollover(body);
        else throw err;
      }
    }
    return 'channel';
  }

  /** Result files under the per-file cap (recompressed when needed), at most 10 per message and 25 MiB per request. */
  async function prepareFiles(view: ResultView): Promise<{ batches: RawFile[][]; skipped: string[] }> {
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
        skipped.push(oversizeText(locale, f.path, data.length, deps.uploadCap, deps.linkFor, 1048576));
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
  async function showResult(view: ResultView) {
    const images = view.files.filter((f) => f.kind === 'image').length;
    const { batches, skipped } = await prepareFiles(view);
    const content = [resultCaption(view, 1800), ...skipped].join('\n');
    const components = componentsOf(resultRows(locale, view.jobId, images, deps.followUpsOf?.(view.workflow)));
    const [first = [], ...rest2] = batches;
    // No file of its own (all too large): `attachments: []` still takes the last preview picture off the message.
    const body = { content, components, ...(first.length ? {} : { attachments: [] }) };
    if (tokenUsable() && (await show(body, first)) === 'interaction') {
      for (const b of rest2)
        await rest.post(Routes.webhook(deps.appId, token as string), {
          body: { content: '' },
          files: b,
          auth: false,
        });
      return 'edited';
    }
    // After the token: the result is a new message that mentions the user; the status message says it is done.
    if (!deps.canPost) return 'none';
    const mention = { content: `<@${deps.userId}> ${content}`, components };
    await postChannel(mention, first, `${view.jobId}:0`);
    for (const [i, b] of rest2.entries()) await postChannel({ content: '' }, b, `${view.jobId}:${i + 1}`);
    if (channelMsg)
      await rest
        .patch(Routes.channelMessage(deps.channelId, channelMsg.id), { body: { content: view.text, components: [] } })
        .catch(() => undefined);
    else if (token && now() - deps.tokenCreatedAt < 15 * 60_000) {
      await rest
        .patch(Routes.webhookMessage(deps.appId, token, reply), {
          body: { content: view.text, components: [] },
          auth: false,
        })
        .catch(() => undefined);
    }
    return 'posted';
  }

  /** Edits notify nobody: a message that mentions the job's user (and only them), in the channel or as a followup. */
  async function ping(jobId: string, text: string) {
    const body = { content: `<@${deps.userId}> ${text}`, allowed_mentions: { users: [deps.userId] } };
    try {
      if (deps.canPost) await postChannel(body, undefined, `${jobId}:ping`);
      else if (token && now() - deps.tokenCreatedAt < 15 * 60_000)
        await rest.post(Routes.webhook(deps.appId, token), { body, auth: false });
    } catch (err) {
      deps.logger.warn({ err }, 'could not send the ping');
    }
  }

  const turns = deps.scheduler && turnsIn(deps.scheduler, deps.channelId);
  return {
    mode: () => (tokenUsable() ? 'interaction' : 'channel'),

    async showProgress(view: ProgressView) {
      const components = view.canCancel ? componentsOf([cancelRow(locale, view.jobId)]) : [];
      await show({ content: view.text, components }, await previewFiles(view, deps.logger));
    },

    async showResult(view: ResultView) {
      await deps.scheduler?.acquire(deps.channelId, 'final');
      const where = await showResult(view).catch((err) => Promise.reject(permanent(err)));
      turns?.forget();
      if (view.notify && where === 'edited')
        await ping(view.jobId, t(locale, 'notify.done', { id: view.shortId, time: formatDuration(view.durationMs) }));
    },

    async showFailure(view: FailureView) {
      await deps.scheduler?.acquire(deps.channelId, 'final');
      await show({ content: view.text, components: [] }).catch((err) => Promise.reject(permanent(err)));
      turns?.forget();
      if (view.notify) await ping(view.jobId, t(locale, 'notify.failed', { id: view.shortId }));
    },

    ...(turns ? { slot: turns.slot } : {}),
  };
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

/** Turns in the channel's budget: one pending request per message; `forget` once the job's end is shown. */
function turnsIn(scheduler: SendScheduler, channelId: string) {
  const key = `${channelId}:${Math.random().toString(36).slice(2)}`;
  const slot: NonNullable<ProgressSink['slot']> = async (lane, signal) => {
    const grant = await scheduler.acquire(channelId, lane, { key, signal });
    return grant && { run: (send) => send(), release: () => grant.release() };
  };
  return { slot, forget: () => scheduler.forget(channelId, key) };
}
