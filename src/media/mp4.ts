import { open } from 'node:fs/promises';

/**
 * Length and frame size of an MP4/MOV, from its `moov` box: the movie header (`mvhd`: duration / timescale) and the
 * first track header (`tkhd`) with a picture size (audio tracks have none). Only box headers and `moov` are read,
 * wherever `moov` sits (ComfyUI's SaveVideo writes it after the media data). music-metadata, used for audio, reports
 * no duration for a file without an audio track, hence these few lines. Undefined when the file is not an MP4.
 */
export interface VideoFacts {
  seconds?: number;
  width?: number;
  height?: number;
}

const MAX_MOOV = 64 * 1024 * 1024;

export async function probeMp4(file: string): Promise<VideoFacts | undefined> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(16);
    for (let offset = 0, boxes = 0; offset + 8 <= size && boxes < 1000; boxes++) {
      const { bytesRead } = await fh.read(head, 0, 16, offset);
      if (bytesRead < 8) return undefined;
      const [length, headerLength] = boxLength(head, size - offset);
      if (length < headerLength) return undefined;
      if (head.toString('latin1', 4, 8) === 'moov') {
        if (length > MAX_MOOV) return undefined;
        const moov = Buffer.alloc(length - headerLength);
        await fh.read(moov, 0, moov.length, offset + headerLength);
        return readMoov(moov);
      }
      offset += length;
    }
    return undefined;
  } finally {
    await fh.close();
  }
}

/** A box's total length and header length: 32-bit size, 1 = a 64-bit size follows, 0 = to the end. */
function boxLength(b: Buffer, remaining: number): [number, number] {
  const size = b.readUInt32BE(0);
  if (size === 1) return b.length >= 16 ? [Number(b.readBigUInt64BE(8)), 16] : [0, 16];
  return [size === 0 ? remaining : size, 8];
}

/** The child boxes of a container, as [type, payload]. */
function* children(b: Buffer): Generator<[string, Buffer]> {
  for (let off = 0; off + 8 <= b.length; ) {
    const [length, headerLength] = boxLength(b.subarray(off, off + 16), b.length - off);
    if (length < headerLength || off + length > b.length) return;
    yield [b.toString('latin1', off + 4, off + 8), b.subarray(off + headerLength, off + length)];
    off += length;
  }
}

function readMoov(moov: Buffer): VideoFacts {
  const facts: VideoFacts = {};
  for (const [type, body] of children(moov)) {
    if (type === 'mvhd' && body.length >= 32) {
      const v1 = body[0] === 1;
      const timescale = body.readUInt32BE(v1 ? 20 : 12);
      const duration = v1 ? Number(body.readBigUInt64BE(24)) : body.readUInt32BE(16);
      if (timescale > 0 && duration > 0 && duration !== 0xffffffff) facts.seconds = duration / timescale;
    }
    if (type === 'trak' && facts.width === undefined) {
      for (const [t, tkhd] of children(body)) {
        if (t !== 'tkhd') continue;
        const at = tkhd[0] === 1 ? 88 : 76; // width and height: 16.16 fixed point, after the matrix
        if (tkhd.length < at + 8) continue;
        const width = tkhd.readUInt32BE(at) >>> 16;
        const height = tkhd.readUInt32BE(at + 4) >>> 16;
        if (width > 0 && height > 0) Object.assign(facts, { width, height });
      }
    }
  }
  return facts;
}
