import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDiscordHarness } from '../support/discord-harness.js';
import { png, wav } from '../support/media.js';
import { until } from '../support/pipeline.js';

type Harness = Awaited<ReturnType<typeof startDiscordHarness>>;
type Prompt = Record<string, { class_type: string; inputs: Record<string, unknown> }>;
const S = (name: string, value: string) => ({ name, type: 3, value });

describe('the workflow catalogue through the Discord bot (attachments in, files out)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startDiscordHarness({}, { customNodes: true });
  });
  afterAll(async () => h?.close());

  const file = async (name: string, bytes: Buffer | Promise<Buffer>, contentType = 'image/png') => ({
    bytes: await bytes,
    filename: name,
    contentType,
  });
  const runAndWait = async (
    name: string,
    options: Array<{ name: string; type: number; value: unknown }>,
    files: Record<string, { bytes: Buffer; filename: string; contentType?: string }>,
  ) => {
    const { token } = h.discord.slash(h.users.alice, name, options, { ...h.ctx, files });
    const done = await until(
      () => (h.original(token)?.attachments.length ? h.original(token) : undefined),
      `${name} to finish`,
      20_000,
    );
    return {
      done,
      prompt: (h.comfy.requests.filter((r) => r.path === '/prompt').at(-1)!.body as { prompt: Prompt }).prompt,
    };
  };

  it('blend with four pictures stitches all of them', async () => {
    const { prompt } = await runAndWait('blend', [S('prompt', 'a family portrait')], {
      image1: await file('a.png', png(100, 100, '#f00')),
      image2: await file('b.png', png(100, 100, '#0f0')),
      image3: await file('c.png', png(100, 100, '#00f')),
      image4: await file('d.png', png(100, 100, '#fff')),
    });
    expect(prompt.stitch4?.inputs.image2).toEqual(['image4', 0]);
    expect(prompt.stitch3?.inputs.image2).toEqual(['image3', 0]);
  });

  it('faceswap, sketch and video run and deliver their files', async () => {
    const swap = await runAndWait('faceswap', [], {
      face: await file('f.png', png(128, 128)),
      target: await file('t.png', png(256, 256)),
    });
    expect(swap.prompt.swap?.class_type).toBe('ReActorFaceSwap');
    const sketch = await runAndWait('sketch', [S('prompt', 'a castle'), S('aspect', '16:9')], {
      sketch: await file('s.png', png(300, 200, '#000')),
    });
    expect(sketch.prompt.latent?.inputs).toMatchObject({ width: 768, height: 432 });
    const video = await runAndWait('video', [S('prompt', 'waves'), S('seconds', '3')], {
      image: await file('start.png', png(320, 320)),
    });
    expect(video.prompt.i2v?.inputs.start_image).toEqual(['start', 0]);
    expect(video.done.attachments.map((a) => a.filename)).toEqual(['01.mp4']);
  });

  it('talk takes a voice attachment and answers with a video', async () => {
    const talk = await runAndWait('talk', [], {
      portrait: await file('p.png', png(256, 256)),
      audio: await file('voice.wav', Promise.resolve(wav(2)), 'audio/wav'),
    });
    expect(talk.done.attachments.map((a) => a.filename)).toEqual(['01.mp4']);
  });
});
