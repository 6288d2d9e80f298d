import { stat } from 'node:fs/promises';
import { GrammyError, InputFile, type InlineKeyboard, type Api } from 'grammy';
import type { InputMediaPhoto } from 'grammy/types';
import { resultGrid } from '../../images/contact-sheet.js';
import { fitPhoto } from '../../images/fit-output.js';
import { telegramLimits } from '../../images/limits.js';
import { previewJpeg } from '../../images/preview.js';
import { formatDuration, type Locale, t } from '../../i18n/index.js';
import type { FollowUp } from '../../comfy/manifest.js';
import type { Logger } from '../../logger.js';
import { cancelRow, resultRows } from '../result-actions.js';
import { keyboardOf } from './markup.js';
import { videoFacts } from './video.js';
import { oversizeText, resultCaption } from '../result-text.js';
import { PermanentDeliveryError, type ProgressSink, type ProgressView, type ResultView } from '../progress/sink.js';
import type { SendScheduler } from '../send-scheduler.js';
import { inLane } from './scheduled-api.js';

/**
 * One job's message in a Telegram chat. The first progress update sends it (as a reply to the command), later
 * ones edit it in place; the result replaces it with the photo (editMessageMedia), or — for several files — it
 * becomes the buttons message under an album (albums cannot carry buttons). With a live preview the progress
 * message is a photo (editMessageMedia) whose caption is the progress text (editMessageCaption from then on). Its
 * sends wait for their turn in the chat's budget (`slot`, the send scheduler): progress and heartbeats in their lanes,
 * results and failures first. A long job's end also gets a short reply to the command, since edits notify nobody.
 * 429s are prevented by the scheduler and waited out by auto-retry, so this code never loops on its own.
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
}

const isNotModified = (err: unknown) =>
  err instanceof GrammyError && err.description.includes('message is not modified');
const isGone = (err: unknown) =>
  err instanceof GrammyError &&
  /message to edit not found|message can't be edited|there is no (text|caption) in the message/.test(err.description);
/** A text edit sent to a photo, or a caption edit to a text: the message's kind was not what we thought. */
const isWrongKind = (err: unknown) =>
  err instanceof GrammyError && /there is no (text|caption) in the message to edit/.test(err.description);

/** Telegram errors a retry cannot fix: the bot was blocked or removed, the chat is gone, it may not write there. */
const permanent = (err: unknown) =>
  err instanceof GrammyError &&
  (err.error_code === 403 ||
    /chat not found|CHAT_WRITE_FORBIDDEN|not enough rights|user is deactivated/i.test(err.description))
    ? new PermanentDeliveryError(err.description, { cause: err })
    : err;

export function createTelegramSink(deps: TelegramSinkDeps): ProgressSink {
  const { api, chatId, locale } = deps;
  let messageId = deps.messageId;
  // The result's pictures and videos are hidden until tapped (has_spoiler) when the user or the chat asks for it.
  let veil: { has_spoiler?: true } = {};
  const replyParams = {
    ...(deps.replyTo ? { reply_parameters: { message_id: deps.replyTo, allow_sending_without_reply: true } } : {}),
    ...(deps.threadId ? { message_thread_id: deps.threadId } : {}),
  };
  const maxUpload = deps.maxUploadBytes ?? telegramLimits.documentBytes;
  /** Whether the job's message is a photo now (a preview or the result): then its text is a caption. */
  let isPhoto = false;

  /** The job's message shows `text`: as its text, or as its caption once it is a photo. */
  async function showText(text: string, markup?: InlineKeyboard) {
    if (messageId !== undefined) {
      try {
        isPhoto = await editTextOrCaption(api, { chatId, messageId, isPhoto }, text, markup);
        return;
      } catch (err) {
        if (isNotModified(err)) return; // same text and buttons: nothing to do
        if (!isGone(err)) throw err;
        messageId = undefined; // deleted: post a fresh one
      }
    }
    const sent = await api.sendMessage(chatId, text, { ...replyParams, reply_markup: markup });
    messageId = sent.message_id;
    isPhoto = false;
    deps.onMessage?.(messageId);
  }

  /** The progress message as the live preview picture, captioned with the progress text; false: show text only. */
  async function showPreview(view: ProgressView, kb: InlineKeyboard | undefined): Promise<boolean> {
    const photo = await previewPhoto(view.previewPath as string, deps.logger);
    if (!photo) return false;
    const caption = view.text.slice(0, telegramLimits.caption);
    try {
      if (messageId === undefined) {
        const sent = await api.sendPhoto(chatId, photo, { ...replyParams, caption, reply_markup: kb });
        messageId = sent.message_id;
        deps.onMessage?.(messageId);
      } else
        await api.editMessageMedia(
          chatId,
          messageId,
          { type: 'photo', media: photo, caption },
          { reply_markup: kb ?? { inline_keyboard: [] } },
        );
      isPhoto = true;
      return true;
    } catch (err) {
      // Telegram refused this picture (4xx): the text still goes. Anything else is the caller's to handle.
      if (!(err instanceof GrammyError) || err.error_code === 429 || err.error_code >= 500) throw err;
      deps.logger.warn({ err: err.description }, 'preview picture refused; text only');
      return false;
    }
  }

  /** Edits notify nobody: a long job's end also gets a short reply to the command (or to the job's message). */
  async function ping(text: string) {
    const to = deps.replyTo ?? messageId;
    const reply = to ? { reply_parameters: { message_id: to, allow_sending_without_reply: true } } : {};
    await api
      .sendMessage(chatId, text, { ...replyParams, ...reply })
      .catch((err) => deps.logger.warn({ err }, 'could not send the ping'));
  }

  async function photoAsMessage(bytes: Buffer, caption: string, kb: InlineKeyboard | undefined) {
    const photo = new InputFile(bytes, 'result.png');
    const sent = await api.sendPhoto(chatId, photo, { ...replyParams, ...veil, caption, reply_markup: kb });
    messageId = sent.message_id;
    isPhoto = true;
    deps.onMessage?.(messageId);
  }

  /** The single photo in place of the progress message (edits keep the chat tidy); false when it must be sent. */
  async function photoInPlace(bytes: Buffer, caption: string, kb: InlineKeyboard | undefined) {
    if (messageId === undefined) return false;
    const media: InputMediaPhoto = { type: 'photo', media: new InputFile(bytes, 'result.png'), caption, ...veil };
    try {
      await api.editMessageMedia(chatId, messageId, media, { reply_markup: kb });
      isPhoto = true;
      return true;
    } catch (err) {
      // Only a refusal of this edit (4xx) means sending instead. A 5xx or an outlasted 429 goes to the delivery
      // retry, or each retry whose later steps fail would leave one more copy of the photo in the chat.
      const refused = err instanceof GrammyError && err.error_code < 500 && err.error_code !== 429;
      if (!isGone(err) && !refused) throw err;
      deps.logger.warn({ err }, 'could not turn the progress message into the photo; sending it instead');
      return false;
    }
  }

  /** Photos as photos: one alone, more as albums of up to ten. */
  async function sendPhotos(photos: Buffer[], caption: string) {
    if (photos.length === 1) {
      await api.sendPhoto(chatId, new InputFile(photos[0] as Buffer, 'result.png'), {
        ...replyParams,
        ...veil,
        caption,
      });
      return;
    }
    for (let i = 0; i < photos.length; i += telegramLimits.albumMax) {
      const chunk = photos.slice(i, i + telegramLimits.albumMax).map((b) => new InputFile(b, 'result.png'));
      if (chunk.length === 1) await api.sendPhoto(chatId, chunk[0] as InputFile, { ...replyParams, ...veil });
      else
        await api.sendMediaGroup(
          chatId,
          chunk.map((media) => ({ type: 'photo' as const, media, ...veil })),
          replyParams,
        );
    }
  }

  /** Videos, audio and files; one above the upload cap becomes a download link (or a note that it was kept). */
  async function sendFiles(files: ResultView['files']) {
    for (const f of files) {
      const size = (await stat(f.absolutePath)).size;
      if (size > maxUpload) {
        await api.sendMessage(chatId, oversizeText(locale, f.path, size, maxUpload, deps.linkFor), replyParams);
        continue;
      }
      const file = new InputFile(f.absolutePath);
      if (f.kind === 'video')
        await api.sendVideo(chatId, file, {
          ...replyParams,
          supports_streaming: true,
          ...veil,
          ...(await videoFacts(f.absolutePath)),
        });
      else if (f.kind === 'audio') await api.sendAudio(chatId, file, replyParams);
      else await api.sendDocument(chatId, file, replyParams);
    }
  }

  /**
   * Several images: the job's message becomes a numbered grid of them (the album has the full files), so the
   * buttons sit under a picture that shows which number is which.
   */
  async function gridInPlace(images: string[], caption: string, kb: InlineKeyboard | undefined) {
    if (images.length < 2 || messageId === undefined) return false;
    try {
      const grid = await resultGrid(images.slice(0, 4));
      const media: InputMediaPhoto = { type: 'photo', media: new InputFile(grid, 'grid.jpg'), caption, ...veil };
      await api.editMessageMedia(chatId, messageId, media, { reply_markup: kb });
      isPhoto = true;
      return true;
    } catch (err) {
      deps.logger.warn({ err }, 'could not show the grid; showing the caption instead');
      return false;
    }
  }

  async function showResult(view: ResultView) {
    veil = view.spoiler ? { has_spoiler: true } : {};
    const caption = resultCaption(view, telegramLimits.caption);
    const images = view.files.filter((f) => f.kind === 'image');
    const fitted = await Promise.all(
      images.map(async (f) => ({ f, fit: await fitPhoto(f.absolutePath, telegramLimits) })),
    );
    // A photo Telegram got recompressed gets ⬇️ Original: the untouched file as a document.
    const originals = fitted.flatMap((x, i) => (x.fit.as === 'photo' && x.fit.recompressed ? [i + 1] : []));
    const followUps = deps.followUpsOf?.(view.workflow) ?? [];
    const kb = keyboardOf(resultRows(locale, view.jobId, images.length, followUps, { originals }));
    const photos = fitted.flatMap((x) => (x.fit.as === 'photo' ? [x.fit.bytes] : []));
    const files = [
      ...fitted.filter((x) => x.fit.as === 'document').map((x) => x.f),
      ...view.files.filter((f) => f.kind !== 'image'),
    ];
    // No job message yet (in a busy group the result's turn can come before the acknowledgement's): one photo with
    // its buttons is the whole answer, not a photo plus a buttons message.
    if (photos.length === 1 && files.length === 0 && messageId === undefined)
      return photoAsMessage(photos[0] as Buffer, caption, kb);
    if (photos.length === 1 && files.length === 0 && (await photoInPlace(photos[0] as Buffer, caption, kb))) return;
    await sendPhotos(photos, caption);
    await sendFiles(files);
    if (
      await gridInPlace(
        images.map((f) => f.absolutePath),
        caption,
        kb,
      )
    )
      return;
    await showText(caption, kb);
  }

  const turns = deps.scheduler && turnsIn(deps.scheduler, chatId, () => messageId === undefined);
  const sink: ProgressSink = {
    async showProgress(view: ProgressView) {
      const kb = view.canCancel ? keyboardOf([cancelRow(locale, view.jobId)]) : undefined;
      if (view.previewPath && (await showPreview(view, kb))) return;
      await showText(view.text, kb);
    },
    async showResult(view) {
      await showResult(view).catch((err) => Promise.reject(permanent(err)));
      turns?.forget();
      if (view.notify)
        await ping(t(locale, 'notify.done', { id: view.shortId, time: formatDuration(view.durationMs) }));
    },
    async showFailure(view) {
      await showText(view.text).catch((err) => Promise.reject(permanent(err)));
      turns?.forget();
      if (view.notify) await ping(t(locale, 'notify.failed', { id: view.shortId }));
    },
  };
  return turns ? { ...sink, slot: turns.slot } : sink;
}

/** Edits the text, or the caption of a photo; after a restart the kind is learnt from Telegram's answer. */
async function editTextOrCaption(
  api: Api,
  at: { chatId: number; messageId: number; isPhoto: boolean },
  text: string,
  markup: InlineKeyboard | undefined,
): Promise<boolean> {
  const reply_markup = markup ?? { inline_keyboard: [] };
  for (let isPhoto = at.isPhoto, attempt = 0; ; attempt++, isPhoto = !isPhoto) {
    try {
      const caption = text.slice(0, telegramLimits.caption);
      if (isPhoto) await api.editMessageCaption(at.chatId, at.messageId, { caption, reply_markup });
      else await api.editMessageText(at.chatId, at.messageId, text, { reply_markup });
      return isPhoto;
    } catch (err) {
      if (attempt > 0 || !isWrongKind(err)) throw err;
    }
  }
}

/** The live preview frame as a small photo; undefined when it cannot be read (the text goes alone then). */
async function previewPhoto(file: string, logger: Logger): Promise<InputFile | undefined> {
  try {
    return new InputFile(await previewJpeg(file), 'preview.jpg');
  } catch (err) {
    logger.debug({ err: (err as Error).message }, 'preview frame unreadable; text only');
    return undefined;
  }
}

/**
 * Turns in the chat's budget: one pending request per message; its first send (the acknowledgement) is not spread
 * out like edits. The granted slot is spent by the first API call the sink makes with it. `forget` once the job's
 * end is shown: the chat no longer keeps a result slot for it.
 */
function turnsIn(scheduler: SendScheduler, chatId: number, isFirst: () => boolean) {
  const key = `${chatId}:${Math.random().toString(36).slice(2)}`;
  const slot: NonNullable<ProgressSink['slot']> = async (lane, signal) => {
    const grant = await scheduler.acquire(String(chatId), lane, { key, signal, isFirst: isFirst() });
    return grant && { run: (send) => inLane(lane, send, grant), release: () => grant.release() };
  };
  return { slot, forget: () => scheduler.forget(String(chatId), key) };
}
