import { type Api, GrammyError, InputFile } from 'grammy';
import type { InputMediaPhoto, Message } from 'grammy/types';
import { telegramLimits } from '../../images/limits.js';
import type { Reply } from '../command.js';
import { keyboardOf } from './markup.js';

/** Where a command's answers go: the chat, and the reply/topic parameters that keep them under the command. */
export interface Where {
  api: Api;
  chatId: number;
  under: {
    reply_parameters?: { message_id: number; allow_sending_without_reply: boolean };
    message_thread_id?: number;
  };
}

const notModified = (err: unknown) => err instanceof GrammyError && err.description.includes('not modified');

/** A neutral reply as Telegram messages: a picture with its caption, files, or text; buttons on the last one. */
export async function sendReply({ api, chatId, under }: Where, r: Reply) {
  const reply_markup = keyboardOf(r.rows);
  if (r.image) {
    const photo = new InputFile(r.image.data, r.image.name);
    await api.sendPhoto(chatId, photo, { caption: r.text, reply_markup, ...under });
    return;
  }
  const files = (r.files ?? []).map((f) => new InputFile(f));
  if (r.asFiles) {
    // Untouched files: documents, never photos (which Telegram recompresses).
    for (const [i, f] of files.entries())
      await api.sendDocument(chatId, f, { caption: i === 0 ? r.text : undefined, reply_markup, ...under });
    return;
  }
  if (files.length === 1) await api.sendPhoto(chatId, files[0] as InputFile, under);
  else if (files.length > 1) {
    const album = files.slice(0, 10).map((media): InputMediaPhoto => ({ type: 'photo', media }));
    await api.sendMediaGroup(chatId, album, under);
  }
  await api.sendMessage(chatId, r.text.slice(0, telegramLimits.text), { reply_markup, ...under });
}

/** The same reply in place of a message (paging); a second tap on the same page changes nothing. */
export async function editReply({ api, chatId }: Where, messageId: number, r: Reply) {
  const reply_markup = keyboardOf(r.rows);
  if (r.image) {
    const media: InputMediaPhoto = { type: 'photo', media: new InputFile(r.image.data, r.image.name), caption: r.text };
    await api.editMessageMedia(chatId, messageId, media, { reply_markup });
    return;
  }
  await api.editMessageText(chatId, messageId, r.text, { reply_markup }).catch((err) => {
    if (!notModified(err)) throw err;
  });
}

/** Renames the one pressed button (⭐ ↔ ☆), leaving the others under the message as they are. */
export async function relabelButton({ api, chatId }: Where, message: Message, data: string, label: string) {
  const keyboard = message.reply_markup?.inline_keyboard;
  if (!keyboard) return;
  const inline_keyboard = keyboard.map((row) =>
    row.map((b) => ('callback_data' in b && b.callback_data === data ? { ...b, text: label } : b)),
  );
  await api.editMessageReplyMarkup(chatId, message.message_id, { reply_markup: { inline_keyboard } }).catch((err) => {
    if (!notModified(err)) throw err;
  });
}
