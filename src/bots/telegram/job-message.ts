import { GrammyError, InputFile, type InlineKeyboard } from 'grammy';
import { telegramLimits } from '../../images/limits.js';
import { previewJpeg } from '../../images/preview.js';
import type { Logger } from '../../logger.js';
import type { ProgressView } from '../progress/sink.js';
import { inLane } from './scheduled-api.js';
import type { TelegramSinkDeps } from './sink.js';

/**
 * One job's message in a Telegram chat, and the steps that show text on it: the first one sends it (as a reply to the
 * command), later ones edit it in place, as its text or, once it is a photo (a live preview or the result), as its
 * caption. Telegram's quirks are handled here: "message is not modified" is success, a deleted message is posted
 * again, and a text edit sent to a photo (or the reverse, after a restart) is retried as the other kind.
 */
export interface JobMessage {
  deps: TelegramSinkDeps;
  /** The message, once sent (or the one kept over a restart). */
  id?: number;
  /** Whether it is a photo now (a preview or the result): then its text is a caption. */
  isPhoto: boolean;
  /** The result's pictures and videos are hidden until tapped (has_spoiler) when the user or the chat asks for it. */
  veil: { has_spoiler?: true };
  /** Where a new message goes: under the command, in its forum topic. */
  replyParams: {
    reply_parameters?: { message_id: number; allow_sending_without_reply: true };
    message_thread_id?: number;
  };
}

export function jobMessageOf(deps: TelegramSinkDeps): JobMessage {
  const replyParams = {
    ...(deps.replyTo ? { reply_parameters: { message_id: deps.replyTo, allow_sending_without_reply: true } } : {}),
    ...(deps.threadId ? { message_thread_id: deps.threadId } : {}),
  } as JobMessage['replyParams'];
  return { deps, id: deps.messageId, isPhoto: false, veil: {}, replyParams };
}

const isNotModified = (err: unknown) =>
  err instanceof GrammyError && err.description.includes('message is not modified');
export const isGone = (err: unknown) =>
  err instanceof GrammyError &&
  /message to edit not found|message can't be edited|there is no (text|caption) in the message/.test(err.description);
/** A text edit sent to a photo, or a caption edit to a text: the message's kind was not what we thought. */
const isWrongKind = (err: unknown) =>
  err instanceof GrammyError && /there is no (text|caption) in the message to edit/.test(err.description);

/** The job's message shows `text`: as its text, or as its caption once it is a photo. */
export async function showText(m: JobMessage, text: string, markup?: InlineKeyboard) {
  const { api, chatId } = m.deps;
  if (m.id !== undefined) {
    try {
      m.isPhoto = await editTextOrCaption(m, m.id, text, markup);
      return;
    } catch (err) {
      if (isNotModified(err)) return; // same text and buttons: nothing to do
      if (!isGone(err)) throw err;
      m.id = undefined; // deleted: post a fresh one
    }
  }
  const sent = await api.sendMessage(chatId, text, { ...m.replyParams, reply_markup: markup });
  m.id = sent.message_id;
  m.isPhoto = false;
  m.deps.onMessage?.(m.id);
}

/** The job's message as the live preview picture, captioned with the progress text; false: show text only. */
export async function showPreview(m: JobMessage, view: ProgressView, kb: InlineKeyboard | undefined) {
  const { api, chatId } = m.deps;
  const photo = await previewPhoto(view.previewPath as string, m.deps.logger);
  if (!photo) return false;
  const caption = view.text.slice(0, telegramLimits.caption);
  try {
    if (m.id === undefined) {
      const sent = await api.sendPhoto(chatId, photo, { ...m.replyParams, caption, reply_markup: kb });
      m.id = sent.message_id;
      m.deps.onMessage?.(m.id);
    } else
      await api.editMessageMedia(
        chatId,
        m.id,
        { type: 'photo', media: photo, caption },
        { reply_markup: kb ?? { inline_keyboard: [] } },
      );
    m.isPhoto = true;
    return true;
  } catch (err) {
    // Telegram refused this picture (4xx): the text still goes. Anything else is the caller's to handle.
    if (!(err instanceof GrammyError) || err.error_code === 429 || err.error_code >= 500) throw err;
    m.deps.logger.warn({ err: err.description }, 'preview picture refused; text only');
    return false;
  }
}

/**
 * Edits notify nobody: a long job's end also gets a short reply to the command (or to the job's message). The result
 * is already in the chat, so in a busy one the ping waits for other jobs' changes of state (the `notice` lane).
 */
export async function ping(m: JobMessage, text: string) {
  const to = m.deps.replyTo ?? m.id;
  const reply = to ? { reply_parameters: { message_id: to, allow_sending_without_reply: true } } : {};
  await inLane('notice', () => m.deps.api.sendMessage(m.deps.chatId, text, { ...m.replyParams, ...reply })).catch(
    (err) => m.deps.logger.warn({ err }, 'could not send the ping'),
  );
}

/** Edits the text, or the caption of a photo; after a restart the kind is learnt from Telegram's answer. */
async function editTextOrCaption(m: JobMessage, id: number, text: string, markup: InlineKeyboard | undefined) {
  const { api, chatId } = m.deps;
  const reply_markup = markup ?? { inline_keyboard: [] };
  for (let isPhoto = m.isPhoto, attempt = 0; ; attempt++, isPhoto = !isPhoto) {
    try {
      const caption = text.slice(0, telegramLimits.caption);
      if (isPhoto) await api.editMessageCaption(chatId, id, { caption, reply_markup });
      else await api.editMessageText(chatId, id, text, { reply_markup });
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
