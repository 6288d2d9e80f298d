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

export interface FileRef {
  fileId: string;
  size?: number;
}

/**
 * The files a command refers to: those in the message itself first, then those in the message it replies to.
 * Images: photos (largest size), still stickers, non-audio documents (bytes are checked later). Audio: voice
 * messages, audio files, audio documents.
 */
export function mediaRefsOf(msg: Message): { images: FileRef[]; audios: FileRef[] } {
  const images: FileRef[] = [];
  const audios: FileRef[] = [];
  for (const m of [msg, msg.reply_to_message]) {
    if (!m) continue;
    const largest = m.photo?.at(-1);
    if (largest) images.push({ fileId: largest.file_id, size: largest.file_size });
    if (m.sticker && !m.sticker.is_animated && !m.sticker.is_video)
      images.push({ fileId: m.sticker.file_id, size: m.sticker.file_size });
    if (m.voice) audios.push({ fileId: m.voice.file_id, size: m.voice.file_size });
    if (m.audio) audios.push({ fileId: m.audio.file_id, size: m.audio.file_size });
    if (m.document)
      (m.document.mime_type?.startsWith('audio/') ? audios : images).push({
        fileId: m.document.file_id,
        size: m.document.file_size,
      });
  }
  return { images, audios };
}
