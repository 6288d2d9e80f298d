import { stat } from 'node:fs/promises';
import path from 'node:path';
import { GrammyError, InputFile, type InlineKeyboard, type Api } from 'grammy';
import type { InputMediaPhoto } from 'grammy/types';
import { resultGrid } from '../../images/contact-sheet.js';
import { fitPhoto } from '../../images/fit-output.js';
import { telegramLimits } from '../../images/limits.js';
import { t, type Locale } from '../../i18n/index.js';
import type { Logger } from '../../logger.js';
import { cancelRow, resultRows } from '../result-actions.js';
import { keyboardOf } from './markup.js';
import { resultCaption } from '../result-text.js';
import type { FailureView, ProgressSink, ProgressView, ResultView } from '../progress/sink.js';

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

  return {
    async showProgress(view: ProgressView) {
      const kb = view.canCancel ? keyboardOf([cancelRow(locale, view.jobId)]) : undefined;
      await showText(view.text, kb);
    },

    async showResult(view: ResultView) {
      const caption = resultCaption(view, telegramLimits.caption);
      const images = view.files.filter((f) => f.kind === 'image');
      const others = view.files.filter((f) => f.kind !== 'image');
      const kb = keyboardOf(resultRows(locale, view.jobId, images.length, deps.canUpscale));
      const fitted = await Promise.all(
        images.map(async (f) => ({ f, fit: await fitPhoto(f.absolutePath, telegramLimits) })),
      );
      const photos = fitted.filter((x) => x.fit.as === 'photo');
      const documents = [...fitted.filter((x) => x.fit.as === 'document').map((x) => x.f), ...others];

      if (photos.length === 1 && documents.length === 0 && messageId !== undefined) {
        const only = photos[0]!;
        const media: InputMediaPhoto = {
          type: 'photo',
          media: new InputFile(only.fit.as === 'photo' ? only.fit.bytes : Buffer.alloc(0), 'result.png'),
          caption,
        };
        try {
          await api.editMessageMedia(chatId, messageId, media, { reply_markup: kb });
          return;
        } catch (err) {
          deps.logger.warn({ err }, 'could not turn the progress message into the photo; sending it instead');
        }
      }
      if (photos.length === 1) {
        const only = photos[0]!;
        await api.sendPhoto(
          chatId,
          new InputFile(only.fit.as === 'photo' ? only.fit.bytes : Buffer.alloc(0), 'result.png'),
          { ...replyParams, caption },
        );
      } else {
        for (let i = 0; i < photos.length; i += telegramLimits.albumMax) {
          const chunk = photos.slice(i, i + telegramLimits.albumMax);
          if (chunk.length === 1)
            await api.sendPhoto(
              chatId,
              new InputFile(
                chunk[0]!.fit.as === 'photo' ? (chunk[0]!.fit as { bytes: Buffer }).bytes : Buffer.alloc(0),
                'result.png',
              ),
              replyParams,
            );
          else
            await api.sendMediaGroup(
              chatId,
              chunk.map((x) => ({
                type: 'photo' as const,
                media: new InputFile((x.fit as { bytes: Buffer }).bytes, 'result.png'),
              })),
              replyParams,
            );
        }
      }
      for (const f of documents) {
        const size = (await stat(f.absolutePath)).size;
        if (size > maxUpload) {
          const link = deps.linkFor?.(f.path);
          const mb = (size / 1e6).toFixed(1);
          const text = link
            ? t(locale, 'bot.file_link', { name: path.basename(f.path), size: mb, hours: link.hours, url: link.url })
            : t(locale, 'bot.file_skipped', {
                name: path.basename(f.path),
                size: mb,
                max: Math.round(maxUpload / 1e6),
              });
          await api.sendMessage(chatId, text, replyParams);
          continue;
        }
        const file = new InputFile(f.absolutePath);
        if (f.kind === 'video') await api.sendVideo(chatId, file, { ...replyParams, supports_streaming: true });
        else if (f.kind === 'audio') await api.sendAudio(chatId, file, replyParams);
        else await api.sendDocument(chatId, file, replyParams);
      }
      // Several images: the job's message becomes a numbered grid of them (the album above has the full files),
      // so the buttons sit under a picture that shows which number is which.
      if (images.length > 1 && messageId !== undefined) {
        try {
          const grid = await resultGrid(images.slice(0, 4).map((f) => f.absolutePath));
          await api.editMessageMedia(
            chatId,
            messageId,
            { type: 'photo', media: new InputFile(grid, 'grid.jpg'), caption },
            { reply_markup: kb },
          );
          return;
        } catch (err) {
          deps.logger.warn({ err }, 'could not show the grid; showing the caption instead');
        }
      }
      await showText(caption, kb);
    },

    async showFailure(view: FailureView) {
      await showText(view.text);
    },
  };
}
