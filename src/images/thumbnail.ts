import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { loadSharp } from './load-sharp.js';

/**
 * A video's poster frame — the workflow's `poster` node, kept by the worker beside the results as `poster.<ext>` —
 * as a small JPEG thumbnail, with the frame's own size (the video's, since the poster is its first decoded frame).
 * Telegram takes thumbnails as JPEG under 200 kB and at most 320 px a side (TG#sendvideo).
 */
export async function posterThumbnail(
  outputDir: string,
  maxSide = 320,
): Promise<{ jpeg: Buffer; width: number; height: number } | undefined> {
  const name = (await readdir(outputDir).catch(() => [] as string[])).find((f) => /^poster\.\w+$/.test(f));
  if (!name) return undefined;
  const sharp = await loadSharp();
  try {
    const poster = sharp(path.join(outputDir, name), { limitInputPixels: 50_000_000 });
    const { width, height } = await poster.metadata();
    if (!width || !height) return undefined;
    const jpeg = await poster
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#000000' })
      .jpeg({ quality: 80 })
      .toBuffer();
    return { jpeg, width, height };
  } catch {
    return undefined; // an unreadable poster only costs the thumbnail
  }
}
