import { readFile } from 'node:fs/promises';
import { loadSharp } from './load-sharp.js';

/**
 * Makes a result image fit a platform's photo limits. Returns the bytes to send as a photo — the original when
 * it fits, else a recompressed JPEG (quality ladder, then downscale) — or "document" when the image's shape
 * cannot be a photo at all (side sum or ratio), in which case the original goes as a file.
 */
export interface PhotoLimits {
  photoBytes: number;
  photoSideSum: number;
  photoRatio: number;
}

export type Fitted = { as: 'photo'; bytes: Buffer; recompressed: boolean } | { as: 'document' };

export async function fitPhoto(file: string, limits: PhotoLimits): Promise<Fitted> {
  const [bytes, sharp] = await Promise.all([readFile(file), loadSharp()]);
  const meta = await sharp(bytes).metadata();
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w + h > limits.photoSideSum || Math.max(w, h) / Math.max(1, Math.min(w, h)) > limits.photoRatio)
    return { as: 'document' };
  if (bytes.length <= limits.photoBytes) return { as: 'photo', bytes, recompressed: false };
  for (const [scale, quality] of [
    [1, 90],
    [1, 80],
    [0.75, 80],
    [0.5, 80],
    [0.35, 75],
  ] as const) {
    const out = await sharp(bytes)
      .resize({ width: Math.round(w * scale), withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality, mozjpeg: true })
      .toBuffer();
    if (out.length <= limits.photoBytes) return { as: 'photo', bytes: out, recompressed: true };
  }
  return { as: 'document' };
}
