import { loadSharp } from './load-sharp.js';
import { UserError } from '../errors.js';
import { MAX_INPUT_PIXELS } from './limits.js';
import { sniffImage } from './sniff.js';

/**
 * A user's image → a bounded, upright PNG without metadata. The type comes from the bytes (sharp reads the
 * header), never from a file name; decoding stops above MAX_INPUT_PIXELS; GIFs give their first frame.
 */
export async function normalizeImage(
  bytes: Buffer,
  opts: { maxSide: number; maxPixels?: number },
): Promise<{ png: Buffer; width: number; height: number }> {
  const maxPixels = opts.maxPixels ?? MAX_INPUT_PIXELS;
  if (!sniffImage(bytes)) throw new UserError('input.not_image');
  const sharp = await loadSharp();
  let width = 0;
  let height = 0;
  try {
    // Reading the header only: the pixel count is checked before anything is decoded.
    const meta = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
    width = meta.width ?? 0;
    height = meta.height ?? 0;
  } catch (err) {
    throw new UserError('input.corrupt_image', {}, { cause: err });
  }
  if (width * height > maxPixels)
    throw new UserError('input.too_many_pixels', { width, height, max: Math.round(maxPixels / 1e6) });
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', pages: 1 })
      .rotate() // apply EXIF orientation; the output carries no metadata
      .resize({ width: opts.maxSide, height: opts.maxSide, fit: 'inside', withoutEnlargement: true })
      .png()
      .toBuffer({ resolveWithObject: true });
    return { png: data, width: info.width, height: info.height };
  } catch (err) {
    throw new UserError('input.corrupt_image', {}, { cause: err });
  }
}
