import { loadSharp } from './load-sharp.js';

/**
 * A numbered grid of thumbnails for /gallery: one image, so paging edits one message. The numbers are SVG text that
 * sharp's librsvg draws with a font found through fontconfig: the Docker image installs DejaVu for it (Dockerfile).
 */
export interface SheetItem {
  /** First output image of the job, or undefined (video/failed: a grey tile with its label). */
  file?: string;
  label: string;
}

export const GAP = 8;
/** The number's box in each tile's top-left corner (tests look for the digits in it). */
export const BADGE = { width: 64, height: 48 };

/** 3 columns of 256-px tiles for /gallery; `resultGrid` uses 2 columns of 512 for a batch (the old studio's 2×2). */
export async function contactSheet(items: SheetItem[], columns = 3, TILE = 256): Promise<Buffer> {
  const sharp = await loadSharp();
  const rows = Math.max(1, Math.ceil(items.length / columns));
  const width = columns * TILE + (columns + 1) * GAP;
  const height = rows * TILE + (rows + 1) * GAP;
  const tiles = await Promise.all(
    items.map(async (item, i) => {
      let tile: Buffer;
      try {
        if (!item.file) throw new Error('no image');
        tile = await sharp(item.file, { limitInputPixels: 50_000_000 })
          .resize(TILE, TILE, { fit: 'cover' })
          .png()
          .toBuffer();
      } catch {
        tile = await sharp({ create: { width: TILE, height: TILE, channels: 3, background: '#3a3a3a' } })
          .png()
          .toBuffer();
      }
      const badge = Buffer.from(
        `<svg width="${TILE}" height="${TILE}"><rect x="0" y="0" width="${BADGE.width}" height="${BADGE.height}" rx="8" fill="#000" fill-opacity="0.65"/>` +
          `<text x="${BADGE.width / 2}" y="35" font-family="DejaVu Sans, sans-serif" font-size="30" font-weight="bold" fill="#fff" text-anchor="middle">${i + 1}</text>` +
          `<text x="8" y="${TILE - 10}" font-family="DejaVu Sans, sans-serif" font-size="16" fill="#fff">${escapeXml(item.label.slice(0, 28))}</text></svg>`,
      );
      const labelled = await sharp(tile)
        .composite([{ input: badge }])
        .png()
        .toBuffer();
      return {
        input: labelled,
        left: GAP + (i % columns) * (TILE + GAP),
        top: GAP + Math.floor(i / columns) * (TILE + GAP),
      };
    }),
  );
  return sharp({ create: { width, height, channels: 3, background: '#1e1e1e' } })
    .composite(tiles)
    .jpeg({ quality: 85 })
    .toBuffer();
}

function escapeXml(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string,
  );
}

/** Several results as one numbered image (2×2 for four), where a platform needs a single picture. */
export function resultGrid(files: string[]): Promise<Buffer> {
  return contactSheet(
    files.map((file) => ({ file, label: '' })),
    files.length === 1 ? 1 : 2,
    512,
  );
}
