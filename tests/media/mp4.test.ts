import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeMp4 } from '../../src/media/mp4.js';

const box = (type: string, ...body: Buffer[]) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.reduce((n, b) => n + b.length, 0), 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...body]);
};
const ftyp = box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2', 'latin1'));
function mvhd(version: 0 | 1, timescale: number, duration: number) {
  const b = Buffer.alloc(version ? 112 : 100);
  b[0] = version;
  if (version) {
    b.writeUInt32BE(timescale, 20);
    b.writeBigUInt64BE(BigInt(duration), 24);
  } else {
    b.writeUInt32BE(timescale, 12);
    b.writeUInt32BE(duration, 16);
  }
  return box('mvhd', b);
}
function tkhd(width: number, height: number) {
  const b = Buffer.alloc(84);
  b.writeUInt32BE(width * 65536, 76);
  b.writeUInt32BE(height * 65536, 80);
  return box('tkhd', b);
}

describe('MP4 header facts', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mp4-'));
  const file = (name: string, bytes: Buffer) => {
    const p = path.join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };

  it('reads the length and the video track’s size, with moov after the media data as SaveVideo writes it', async () => {
    const mp4 = Buffer.concat([
      ftyp,
      box('mdat', Buffer.alloc(5000, 7)),
      box('moov', mvhd(0, 16_000, 81_000), box('trak', tkhd(0, 0)), box('trak', tkhd(832, 480))),
    ]);
    expect(await probeMp4(file('a.mp4', mp4))).toEqual({ seconds: 81 / 16, width: 832, height: 480 });
  });

  it('reads version-1 (64-bit) movie headers', async () => {
    const mp4 = Buffer.concat([ftyp, box('moov', mvhd(1, 1000, 3000))]);
    expect(await probeMp4(file('b.mp4', mp4))).toEqual({ seconds: 3 });
  });

  it('gives nothing for a file that is no MP4, a truncated one, or none', async () => {
    expect(await probeMp4(file('c.mp4', Buffer.from('not a video at all')))).toBeUndefined();
    expect(
      await probeMp4(file('d.mp4', Buffer.concat([ftyp, box('mdat', Buffer.alloc(64)).subarray(0, 20)]))),
    ).toBeUndefined();
    expect(await probeMp4(path.join(dir, 'missing.mp4'))).toBeUndefined();
  });
});
