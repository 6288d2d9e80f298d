import { stat } from 'node:fs/promises';
import { GrammyError, InputFile, type InlineKeyboard, type Api } from 'grammy';
import type { InputMediaPhoto } from 'grammy/types';
import { resultGrid } from '../../images/contact-sheet.js';
import { fitPhoto } from '../../images/fit-output.js';
import { telegramLimits } from '../../images/limits.js';
import type { Locale } from '../../i18n/index.js';
import type { Logger } from '../../logger.js';
import { cancelRow, resultRows } from '../result-actions.js';
import { keyboardOf } from './markup.js';
import { oversizeText, resultCaption } from '../result-text.js';
import { PermanentDeliveryError, type ProgressSink, type ProgressView, type ResultView } from '../progress/sink.js';

/**
 * One job's message in a Telegram chat. The first progress update sends it (as a reply to the command), later
 * ones edit it in place; the result replaces it with the photo (editMessageMedia), or — for several files — it
 * becomes the buttons message under an album (albums cannot carry buttons). 429s are waited out by the
 * auto-retry plugin under the per-chat throttler, so this code never loops on its own.
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
  canUpscale: boolean;
  onMessage?: (messageId: number) => void;
  /** Upload cap for documents/videos (50 MB; 2000 MB with a local Bot API server). */
  maxUploadBytes?: number;
  /** A download link for a stored result (when PUBLIC_URL is set). */
  linkFor?: (relativePath: string) => { url: string; hours: number } | undefined;
}

const isNotModified = (err: unknown) =>
  err instanceof GrammyError && err.description.includes('message is not modified');
const isGone = (err: unknown) =>
  err instanceof GrammyError &&
  /message to edit not found|message can't be edited|there is no text in the message/.test(err.description);

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
  const replyParams = deps.replyTo
    ? { reply_parameters: { message_id: deps.replyTo, allow_sending_without_reply: true } }
    : {};
  const maxUpload = deps.maxUploadBytes ?? telegramLimits.documentBytes;

  async function showText(text: string, markup?: InlineKeyboard) {
    if (messageId !== undefined) {
      try {
        await api.editMessageText(chatId, messageId, text, { reply_markup: markup ?? { inline_keyboard: [] } });
        return;
      } catch (err) {
        if (isNotModified(err)) return; // same text and buttons: nothing to do
        if (!isGone(err)) throw err;
        messageId = undefined; // deleted or turned into media: post a fresh one
      }
    }
    const sent = await api.sendMessage(chatId, text, { ...replyParams, reply_markup: markup });
    messageId = sent.message_id;
    deps.onMessage?.(messageId);
  }

  /** The single photo in place of the progress message (edits keep the chat tidy); false when it must be sent. */
  async function photoInPlace(bytes: Buffer, caption: string, kb: InlineKeyboard | undefined) {
    if (messageId === undefined) return false;
    const media: InputMediaPhoto = { type: 'photo', media: new InputFile(bytes, 'result.png'), caption };
    try {
      await api.editMessageMedia(chatId, messageId, media, { reply_markup: kb });
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
      await api.sendPhoto(chatId, new InputFile(photos[0] as Buffer, 'result.png'), { ...replyParams, caption });
      return;
    }
    for (let i = 0; i < photos.length; i += telegramLimits.albumMax) {
      const chunk = photos.slice(i, i + telegramLimits.albumMax).map((b) => new InputFile(b, 'result.png'));
      if (chunk.length === 1) await api.sendPhoto(chatId, chunk[0] as InputFile, replyParams);
      else
        await api.sendMediaGroup(
          chatId,
          chunk.map((media) => ({ type: 'photo' as const, media })),
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
      if (f.kind === 'video') await api.sendVideo(chatId, file, { ...replyParams, supports_streaming: true });
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
      const media: InputMediaPhoto = { type: 'photo', media: new InputFile(grid, 'grid.jpg'), caption };
      await api.editMessageMedia(chatId, messageId, media, { reply_markup: kb });
      return true;
    } catch (err) {
      deps.logger.warn({ err }, 'could not show the grid; showing the caption instead');
      return false;
    }
  }

  async function showResult(view: ResultView) {
    const caption = resultCaption(view, telegramLimits.caption);
    const images = view.files.filter((f) => f.kind === 'image');
    const kb = keyboardOf(resultRows(locale, view.jobId, images.length, deps.canUpscale));
    const fitted = await Promise.all(
      images.map(async (f) => ({ f, fit: await fitPhoto(f.absolutePath, telegramLimits) })),
    );
    const photos = fitted.flatMap((x) => (x.fit.as === 'photo' ? [x.fit.bytes] : []));
    const files = [
      ...fitted.filter((x) => x.fit.as === 'document').map((x) => x.f),
      ...view.files.filter((f) => f.kind !== 'image'),
    ];
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

  return {
    async showProgress(view: ProgressView) {
      const kb = view.canCancel ? keyboardOf([cancelRow(locale, view.jobId)]) : undefined;
      await showText(view.text, kb);
    },
    showResult: (view) => showResult(view).catch((err) => Promise.reject(permanent(err))),
    showFailure: (view) => showText(view.text).catch((err) => Promise.reject(permanent(err))),
  };
}
