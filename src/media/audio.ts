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
  // music-metadata loads at the first audio input, not at start-up (0.1–0.2 s of CPU); Node caches it after that.
  const { parseBuffer } = await import('music-metadata');
  let container: string | undefined;
  let seconds: number | undefined;
  try {
    // duration: true makes music-metadata count MP3 frames and read Ogg's last page rather than trust a header.
    const meta = await parseBuffer(bytes, undefined, { duration: true, skipCovers: true });
    container = meta.format.container;
    seconds = Math.max(meta.format.duration ?? 0, pcmSeconds(bytes, meta.format) ?? 0) || undefined;
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

/**
 * A PCM WAV's length measured from the bytes that are there, not from its header (which can claim a short data chunk
 * in front of an hour of samples).
 */
function pcmSeconds(
  bytes: Buffer,
  f: { container?: string; sampleRate?: number; numberOfChannels?: number; bitsPerSample?: number },
): number | undefined {
  if (!/^WAVE$/i.test(f.container ?? '') || !f.sampleRate || !f.numberOfChannels || !f.bitsPerSample) return undefined;
  const data = bytes.indexOf('data', 12, 'latin1');
  if (data < 0) return undefined;
  return (bytes.length - (data + 8)) / (f.sampleRate * f.numberOfChannels * (f.bitsPerSample / 8));
}
