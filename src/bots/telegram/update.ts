import type { Message } from 'grammy/types';

/** A command in a message's text or caption (grammY's bot.command() ignores captions, so we parse both). */
export function commandOf(msg: Message, botUsername: string): { name: string; args: string } | undefined {
  const text = msg.text ?? msg.caption;
  const entities = msg.entities ?? msg.caption_entities;
  const ent = entities?.find((e) => e.type === 'bot_command' && e.offset === 0);
  if (!text || !ent) return undefined;
  const [name, at] = text.slice(1, ent.length).split('@') as [string, string | undefined];
  // In groups, /cmd@otherbot is for another bot.
  if (at && at.toLowerCase() !== botUsername.toLowerCase()) return undefined;
  return { name: name.toLowerCase(), args: text.slice(ent.length).trim() };
}

/** The image a command refers to: in the message itself, else in the message it replies to. */
export function imageRefOf(msg: Message): { fileId: string; size?: number } | undefined {
  for (const m of [msg, msg.reply_to_message]) {
    if (!m) continue;
    const largest = m.photo?.at(-1);
    if (largest) return { fileId: largest.file_id, size: largest.file_size };
    if (m.document) return { fileId: m.document.file_id, size: m.document.file_size };
    if (m.sticker && !m.sticker.is_animated && !m.sticker.is_video) return { fileId: m.sticker.file_id, size: m.sticker.file_size };
  }
  return undefined;
}
