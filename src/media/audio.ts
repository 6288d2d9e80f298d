import { parseBuffer } from 'music-metadata';
import { UserError } from '../errors.js';

/**
 * A user's audio: the container is read from the bytes (music-metadata, not a hand parser), the duration is
 * checked against the workflow's limit, and the file is kept as sent (ComfyUI's LoadAudio decodes it).
 * Accepted: MP3, WAV, Ogg (Opus/Vorbis — Telegram voice messages), M4A/MP4 audio, FLAC.
 */
const CONTAINERS: Array<[RegExp, string]> = [
  [/^MPEG$/i, 'mp3'],
  [/^WAVE$/i, 'wav'],
  [/^Ogg$/i, 'ogg'],
  [/^(M4A|MPEG-4|isom|mp42|M4A\/.*|mp4)/i, 'm4a'],
  [/^FLAC$/i, 'flac'],
];

export async function checkAudio(bytes: Buffer, maxSeconds: number): Promise<{ ext: string; seconds: number }> {
  let container: string | undefined;
  let seconds: number | undefined;
  try {
    const meta = await parseBuffer(bytes, undefined, { duration: true, skipCovers: true });
    container = meta.format.container;
    seconds = meta.format.duration;
    if (!meta.format.codec && !meta.format.numberOfChannels && !seconds) container = undefined; // not really audio
  } catch {
    throw new UserError('input.not_audio');
  }
  const ext = CONTAINERS.find(([re]) => re.test(container ?? ''))?.[1];
  if (!ext || seconds === undefined || !Number.isFinite(seconds) || seconds <= 0)
    throw new UserError('input.not_audio');
  if (seconds > maxSeconds)
    throw new UserError('input.audio_too_long', { seconds: Math.ceil(seconds), max: maxSeconds });
  return { ext, seconds };
}
