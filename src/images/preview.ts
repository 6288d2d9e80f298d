import { loadSharp } from './load-sharp.js';
import { MAX_INPUT_PIXELS } from './limits.js';

/**
 * A live preview frame (ComfyUI's latent preview, saved by the worker as outputs/<job>/preview.<ext>) made fit for a
 * progress message: a small JPEG (≤ 512 px a side, usually 20-60 KB), because every refresh is an upload that counts
 * against the chat's budget (docs/platforms.md §4.13: keep previews ≤ ~100 KB). Rejects what is not an image.
 */
export async function previewJpeg(file: string, maxSide = 512): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp(file, { limitInputPixels: MAX_INPUT_PIXELS })
    .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 75 })
    .toBuffer();
}
