import path from 'node:path';
import { InputFile } from 'grammy';
import { posterThumbnail } from '../../images/thumbnail.js';
import { probeMp4 } from '../../media/mp4.js';

/**
 * What sendVideo should know besides the file, so clients show the right shape, length and first frame before
 * downloading: width, height and duration from the MP4's header (the poster's size when the header has none), and
 * the job's poster frame as the thumbnail. Whatever cannot be read is left out; Telegram then guesses, as before.
 */
export async function videoFacts(file: string) {
  const [poster, probe] = await Promise.all([posterThumbnail(path.dirname(file)), probeMp4(file)]);
  const width = probe?.width ?? poster?.width;
  const height = probe?.height ?? poster?.height;
  return {
    ...(width && height ? { width, height } : {}),
    ...(probe?.seconds ? { duration: Math.max(1, Math.round(probe.seconds)) } : {}),
    ...(poster ? { thumbnail: new InputFile(poster.jpeg, 'thumb.jpg') } : {}),
  };
}
