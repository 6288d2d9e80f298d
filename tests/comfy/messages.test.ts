import { describe, expect, it } from 'vitest';
import { parseBinaryFrame, parseTextFrame } from '../../src/comfy/messages.js';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

describe('ComfyUI WebSocket frames', () => {
  it('decodes a type-1 preview (format 2 = PNG) from byte 8 on', () => {
    const f = parseBinaryFrame(Buffer.concat([u32(1), u32(2), Buffer.from('PNGDATA')]));
    expect(f).toEqual({ mime: 'image/png', image: Buffer.from('PNGDATA') });
  });

  it('decodes a type-4 preview with its metadata', () => {
    const meta = Buffer.from(JSON.stringify({ node_id: '3', prompt_id: 'p', image_type: 'image/jpeg' }));
    const f = parseBinaryFrame(Buffer.concat([u32(4), u32(meta.length), meta, Buffer.from([0xff, 0xd8])]));
    expect(f).toEqual({ mime: 'image/jpeg', image: Buffer.from([0xff, 0xd8]), promptId: 'p', nodeId: '3' });
  });

  it('ignores text frames (type 3), truncated frames and unknown types', () => {
    expect(parseBinaryFrame(Buffer.concat([u32(3), u32(1), Buffer.from('1hello')]))).toBeUndefined();
    expect(parseBinaryFrame(Buffer.from([0, 0]))).toBeUndefined();
    expect(parseBinaryFrame(Buffer.concat([u32(4), u32(999), Buffer.from('{}')]))).toBeUndefined();
  });

  it('parses known messages, tolerates new fields and ignores unknown types', () => {
    expect(
      parseTextFrame('{"type":"progress","data":{"value":3,"max":20,"prompt_id":"p","node":"3","extra":1}}'),
    ).toMatchObject({ type: 'progress', data: { value: 3, max: 20 } });
    expect(parseTextFrame('{"type":"executing","data":{"node":null,"prompt_id":"p"}}')).toMatchObject({
      data: { node: null },
    });
    expect(parseTextFrame('{"type":"crystools.monitor","data":{"cpu_utilization":3}}')).toBeUndefined();
    expect(parseTextFrame('{"type":"progress","data":{"value":"x"}}')).toBeUndefined();
    expect(parseTextFrame('not json')).toBeUndefined();
  });
});

describe('output entries', () => {
  it('finds files under every key and marks animations', async () => {
    const { fileRefsOf } = await import('../../src/comfy/client.js');
    expect(
      fileRefsOf({
        images: [{ filename: 'a.webp', subfolder: '', type: 'output' }],
        animated: [true],
        gifs: [{ filename: 'b.mp4', subfolder: 'x', type: 'output', format: 'video/h264-mp4' }],
        audio: [{ filename: 'c.flac', subfolder: 'audio', type: 'output' }],
        text: ['hello'],
      }),
    ).toEqual([
      { filename: 'a.webp', subfolder: '', type: 'output', animated: true },
      { filename: 'b.mp4', subfolder: 'x', type: 'output', format: 'video/h264-mp4' },
      { filename: 'c.flac', subfolder: 'audio', type: 'output' },
    ]);
  });
});
