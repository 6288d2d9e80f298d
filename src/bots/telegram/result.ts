import { stat } from 'node:fs/promises';
import { GrammyError, InputFile, type InlineKeyboard } from 'grammy';
import type { InputMediaPhoto } from 'grammy/types';
import { resultGrid } from '../../images/contact-sheet.js';
import { fitPhoto } from '../../images/fit-output.js';
import { telegramLimits } from '../../images/limits.js';
import type { ResultView } from '../progress/sink.js';
import { resultRows } from '../result-actions.js';
import { oversizeText, resultCaption } from '../result-text.js';
import { keyboardOf } from './markup.js';
import { isGone, type JobMessage, showText } from './job-message.js';
import { videoFacts } from './video.js';

/**
 * A job's result in its Telegram chat, step by step: one photo takes the place of the job's message (editMessageMedia
 * turns a text message into a photo too), or is the whole answer when the job never got a message (it ended within
 * its grace, or a busy group's turn came for the result first). Several photos go as albums of up to ten and the
 * job's message becomes a numbered grid of them carrying the buttons (albums cannot carry buttons); videos, audio and
 * files go as their own messages, one above the upload cap as a download link. Returns 'edited' when the answer was
 * only an edit of the job's message (which notifies nobody), 'posted' when it replied to the command with a new one.
 */
export async function showResultIn(m: JobMessage, view: ResultView): Promise<'edited' | 'posted'> {
  m.veil = view.spoiler ? { has_spoiler: true } : {};
  const caption = resultCaption(view, telegramLimits.caption);
  const images = view.files.filter((f) => f.kind === 'image');
  const fitted = await Promise.all(
    images.map(async (f) => ({ f, fit: await fitPhoto(f.absolutePath, telegramLimits) })),
  );
  // A photo Telegram got recompressed gets ⬇️ Original: the untouched file as a document.
  const originals = fitted.flatMap((x, i) => (x.fit.as === 'photo' && x.fit.recompressed ? [i + 1] : []));
  const followUps = m.deps.followUpsOf?.(view.workflow) ?? [];
  const kb = keyboardOf(resultRows(m.deps.locale, view.jobId, images.length, followUps, { originals }));
  const photos = fitted.flatMap((x) => (x.fit.as === 'photo' ? [x.fit.bytes] : []));
  const files = [
    ...fitted.filter((x) => x.fit.as === 'document').map((x) => x.f),
    ...view.files.filter((f) => f.kind !== 'image'),
  ];
  if (photos.length === 1 && files.length === 0) {
    const photo = photos[0] as Buffer;
    if (m.id === undefined) {
      await photoAsMessage(m, photo, caption, kb);
      return 'posted';
    }
    if (await photoInPlace(m, photo, caption, kb)) return 'edited';
  }
  await sendPhotos(m, photos, caption);
  await sendFiles(m, files);
  const grid = images.map((f) => f.absolutePath);
  if (!(await gridInPlace(m, grid, caption, kb))) await showText(m, caption, kb);
  return 'posted';
}

/** The one photo with its buttons as a new message replying to the command: the whole answer. */
async function photoAsMessage(
  m: JobMessage,
  bytes: Buffer,
  caption: string,
  kb: InlineKeyboard | undefined,
  name = 'result.png',
) {
  const photo = new InputFile(bytes, name);
  const sent = await m.deps.api.sendPhoto(m.deps.chatId, photo, {
    ...m.replyParams,
    ...m.veil,
    caption,
    reply_markup: kb,
  });
  m.id = sent.message_id;
  m.isPhoto = true;
  m.deps.onMessage?.(m.id);
}

/** The single photo in place of the job's message (edits keep the chat tidy); false when it must be sent. */
async function photoInPlace(m: JobMessage, bytes: Buffer, caption: string, kb: InlineKeyboard | undefined) {
  const media: InputMediaPhoto = { type: 'photo', media: new InputFile(bytes, 'result.png'), caption, ...m.veil };
  try {
    await m.deps.api.editMessageMedia(m.deps.chatId, m.id as number, media, { reply_markup: kb });
    m.isPhoto = true;
    return true;
  } catch (err) {
    // Only a refusal of this edit (4xx) means sending instead. A 5xx or an outlasted 429 goes to the delivery
    // retry, or each retry whose later steps fail would leave one more copy of the photo in the chat.
    const refused = err instanceof GrammyError && err.error_code < 500 && err.error_code !== 429;
    if (!isGone(err) && !refused) throw err;
    m.deps.logger.warn({ err }, 'could not turn the progress message into the photo; sending it instead');
    return false;
  }
}

/** Photos as photos: one alone, more as albums of up to ten. */
async function sendPhotos(m: JobMessage, photos: Buffer[], caption: string) {
  const { api, chatId } = m.deps;
  if (photos.length === 1) {
    await api.sendPhoto(chatId, new InputFile(photos[0] as Buffer, 'result.png'), {
      ...m.replyParams,
      ...m.veil,
      caption,
    });
    return;
  }
  for (let i = 0; i < photos.length; i += telegramLimits.albumMax) {
    const chunk = photos.slice(i, i + telegramLimits.albumMax).map((b) => new InputFile(b, 'result.png'));
    if (chunk.length === 1) await api.sendPhoto(chatId, chunk[0] as InputFile, { ...m.replyParams, ...m.veil });
    else
      await api.sendMediaGroup(
        chatId,
        chunk.map((media) => ({ type: 'photo' as const, media, ...m.veil })),
        m.replyParams,
      );
  }
}

/** Videos, audio and files; one above the upload cap becomes a download link (or a note that it was kept). */
async function sendFiles(m: JobMessage, files: ResultView['files']) {
  const { api, chatId } = m.deps;
  const maxUpload = m.deps.maxUploadBytes ?? telegramLimits.documentBytes;
  for (const f of files) {
    const size = (await stat(f.absolutePath)).size;
    if (size > maxUpload) {
      const note = oversizeText(m.deps.locale, f.path, size, maxUpload, m.deps.linkFor);
      await api.sendMessage(chatId, note, m.replyParams);
      continue;
    }
    const file = new InputFile(f.absolutePath);
    if (f.kind === 'video')
      await api.sendVideo(chatId, file, {
        ...m.replyParams,
        supports_streaming: true,
        ...m.veil,
        ...(await videoFacts(f.absolutePath)),
      });
    else if (f.kind === 'audio') await api.sendAudio(chatId, file, m.replyParams);
    else await api.sendDocument(chatId, file, m.replyParams);
  }
}

/**
 * Several images: the job's message becomes a numbered grid of them (the album has the full files), so the
 * buttons sit under a picture that shows which number is which; a job without a message yet gets the grid as one.
 */
async function gridInPlace(m: JobMessage, images: string[], caption: string, kb: InlineKeyboard | undefined) {
  if (images.length < 2) return false;
  try {
    const grid = await resultGrid(images.slice(0, 4));
    if (m.id === undefined) {
      await photoAsMessage(m, grid, caption, kb, 'grid.jpg');
      return true;
    }
    const media: InputMediaPhoto = { type: 'photo', media: new InputFile(grid, 'grid.jpg'), caption, ...m.veil };
    await m.deps.api.editMessageMedia(m.deps.chatId, m.id, media, { reply_markup: kb });
    m.isPhoto = true;
    return true;
  } catch (err) {
    m.deps.logger.warn({ err }, 'could not show the grid; showing the caption instead');
    return false;
  }
}
