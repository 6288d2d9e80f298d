import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { contactSheet } from '../../src/images/contact-sheet.js';
import { fitPhoto } from '../../src/images/fit-output.js';
import { telegramLimits } from '../../src/images/limits.js';
import { normalizeImage } from '../../src/images/normalize-input.js';
import { sniffImage } from '../../src/images/sniff.js';

const dir = mkdtempSync(path.join(tmpdir(), 'img-'));
const solid = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: '#336699' } });

describe('images', () => {
  it('sniffs the four accepted formats from bytes only', async () => {
    expect(sniffImage(await solid(4, 4).png().toBuffer())).toBe('png');
    expect(sniffImage(await solid(4, 4).jpeg().toBuffer())).toBe('jpeg');
    expect(sniffImage(await solid(4, 4).webp().toBuffer())).toBe('webp');
    expect(sniffImage(await solid(4, 4).gif().toBuffer())).toBe('gif');
    expect(sniffImage(Buffer.from('%PDF-1.7'))).toBeUndefined();
  });

  it('normalizes: EXIF orientation applied, metadata dropped, bounded to maxSide, PNG out', async () => {
    const rotated = await solid(200, 100).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const out = await normalizeImage(rotated, { maxSide: 80 });
    expect([out.width, out.height]).toEqual([40, 80]); // upright (portrait), then fitted inside 80
    const meta = await sharp(out.png).metadata();
    expect([meta.format, meta.orientation, meta.exif]).toEqual(['png', undefined, undefined]);
  });

  it('keeps only the first frame of an animated GIF', async () => {
    const frames = await sharp({ create: { width: 8, height: 16, channels: 4, background: '#f00' } })
      .gif()
      .toBuffer();
    const out = await normalizeImage(frames, { maxSide: 100 });
    expect((await sharp(out.png).metadata()).pages ?? 1).toBe(1);
  });

  it('refuses a decompression bomb before decoding it', async () => {
    const bomb = await solid(8000, 8000).png({ compressionLevel: 9 }).toBuffer();
    await expect(normalizeImage(bomb, { maxSide: 2048 })).rejects.toMatchObject({
      key: 'input.too_many_pixels',
      params: { width: 8000, height: 8000, max: 50 },
    });
  });

  it('fits results to Telegram photo limits: as-is, recompressed, or a document', async () => {
    const small = path.join(dir, 'small.png');
    await solid(512, 512).png().toFile(small);
    expect(await fitPhoto(small, telegramLimits)).toMatchObject({ as: 'photo', recompressed: false });

    const wide = path.join(dir, 'wide.png');
    await solid(4200, 200).png().toFile(wide); // ratio 21 > 20
    expect(await fitPhoto(wide, telegramLimits)).toEqual({ as: 'document' });

    const noisy = path.join(dir, 'noisy.png');
    await sharp(randomBytes(2400 * 2400 * 3), { raw: { width: 2400, height: 2400, channels: 3 } })
      .png()
      .toFile(noisy);
    const fitted = await fitPhoto(noisy, telegramLimits);
    expect(fitted.as).toBe('photo');
    if (fitted.as === 'photo') {
      expect(fitted.recompressed).toBe(true);
      expect(fitted.bytes.length).toBeLessThanOrEqual(telegramLimits.photoBytes);
    }
  });

  it('draws a numbered contact sheet, with a grey tile where a job has no image', async () => {
    const a = path.join(dir, 'a.png');
    writeFileSync(a, await solid(300, 200).png().toBuffer());
    const sheet = await contactSheet([
      { file: a, label: 'imagine · 1a2b3c4d' },
      { label: 'failed' },
      { file: a, label: 'x' },
      { file: a, label: 'y' },
    ]);
    const meta = await sharp(sheet).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 3 * 256 + 4 * 8, 2 * 256 + 3 * 8]);
  });
});
