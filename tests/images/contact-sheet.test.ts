import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { BADGE, contactSheet, GAP } from '../../src/images/contact-sheet.js';

type Box = { left: number; top: number; width: number; height: number };

/** Which pixels of a box of the decoded sheet are brighter than any badge or tile background: drawn text. */
async function brightMask(sheet: Buffer, box: Box): Promise<boolean[]> {
  const { data, info } = await sharp(sheet).extract(box).raw().toBuffer({ resolveWithObject: true });
  const mask: boolean[] = [];
  for (let i = 0; i < data.length; i += info.channels)
    mask.push((data[i] as number) > 200 && (data[i + 1] as number) > 200 && (data[i + 2] as number) > 200);
  return mask;
}
const brightPixels = async (sheet: Buffer, box: Box) => (await brightMask(sheet, box)).filter(Boolean).length;

describe('contact sheet text', () => {
  it('draws every number and label: decoded, each badge and label strip has text pixels in it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sheet-'));
    const photo = path.join(dir, 'p.png');
    writeFileSync(
      photo,
      await sharp({ create: { width: 300, height: 200, channels: 3, background: '#6a8caf' } })
        .png()
        .toBuffer(),
    );
    const items = [
      { file: photo, label: 'imagine · 1a2b3c4d' },
      { label: 'failed' },
      { file: photo, label: 'video · 5e6f7a8b' },
      { label: 'cancelled' },
    ];
    const TILE = 256;
    const sheet = await contactSheet(items, 3, TILE);
    const digits = new Set<string>();
    for (const [i] of items.entries()) {
      const left = GAP + (i % 3) * (TILE + GAP);
      const top = GAP + Math.floor(i / 3) * (TILE + GAP);
      const digit = await brightMask(sheet, { left, top, width: BADGE.width, height: BADGE.height });
      const label = await brightPixels(sheet, { left, top: top + TILE - 32, width: TILE, height: 30 });
      // Without a font librsvg draws the same small "missing glyph" box (36 pixels here) for every number.
      expect(digit.filter(Boolean).length, `number ${i + 1}`).toBeGreaterThan(100);
      expect(label, `label ${i + 1}`).toBeGreaterThan(100);
      digits.add(digit.map(Number).join(''));
    }
    expect(digits.size, 'each number looks different').toBe(items.length);
    // The gap between tiles stays background: the count above is text, not the sheet itself.
    expect(await brightPixels(sheet, { left: 0, top: 0, width: GAP, height: 200 })).toBe(0);
  });

  it('the Docker image installs fontconfig and a font for that text (its runtime stage, not only the build)', () => {
    const dockerfile = readFileSync(path.resolve('Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const installs = runtime
      .split('\n')
      .filter((l) => /^RUN .*apt-get install/.test(l))
      .join(' ');
    expect(installs).toMatch(/\bfontconfig\b/);
    expect(installs).toMatch(/\bfonts-(dejavu|liberation|noto)[\w-]*/);
  });
});
