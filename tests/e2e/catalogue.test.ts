import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { openDb } from '../../src/history/db.js';
import { createJobsRepo } from '../../src/history/jobs-repo.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { png, wav } from '../support/media.js';
import { captureStream } from '../support/streams.js';

type Prompt = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

describe('every workflow end to end through the CLI (real Redis, worker, SQLite; fake ComfyUI)', () => {
  let comfy: FakeComfy;
  let env: Record<string, string>;
  let dir: string;
  beforeEach(async () => {
    comfy = await startFakeComfy({ models: fakeModels, customNodes: true });
    const cfg = testConfig();
    dir = cfg.storageDir;
    env = {
      REDIS_URL: cfg.redisUrl as string,
      STORAGE_DIR: dir,
      QUEUE_PREFIX: cfg.queuePrefix,
      COMFY_URL: comfy.url,
      LOG_LEVEL: 'silent',
      PROGRESS_INTERVAL_S: '0.5',
    };
  });
  afterEach(async () => comfy.close());

  const file = async (name: string, bytes: Buffer | Promise<Buffer>) => {
    const p = path.join(dir, name);
    writeFileSync(p, await bytes);
    return p;
  };
  const run = async (...args: string[]) => {
    const out = captureStream();
    const err = captureStream();
    const code = await runCli(args, env, { out, err });
    return { code, out: out.text(), err: err.text() };
  };
  const lastPrompt = () =>
    (comfy.requests.filter((r) => r.path === '/prompt').at(-1)!.body as { prompt: Prompt }).prompt;
  const lastJob = () =>
    createJobsRepo({ db: openDb(path.join(dir, 'history.db')) }).page(
      { platform: 'cli', userId: process.env.USER ?? 'local' },
      0,
      1,
    ).items[0]!;

  it('edit: the image is normalized, uploaded and wired into LoadImage', async () => {
    const r = await run('edit', 'make it night', '--image', await file('in.jpg', png(300, 200)));
    expect(r.code).toBe(0);
    expect(lastPrompt().image?.inputs.image).toMatch(/^relay-[0-9a-f-]{36}-image\.png$/);
    expect(lastJob().outputs.map((o) => o.mime)).toEqual(['image/png']);
  });

  it('faceswap: face and target go to the ReActor node', async () => {
    const r = await run(
      'faceswap',
      '--face',
      await file('face.png', png(128, 128, '#ffccaa')),
      '--target',
      await file('group.png', png(640, 480)),
      '--restore',
      'off',
    );
    expect(r.code).toBe(0);
    const p = lastPrompt();
    expect(p.swap?.inputs).toMatchObject({
      input_image: ['target', 0],
      source_image: ['face', 0],
      face_restore_model: 'none',
    });
  });

  it('blend with two pictures leaves the optional third and fourth out of the graph', async () => {
    const r = await run(
      'blend',
      'the cat wearing the hat',
      '--image1',
      await file('cat.png', png(200, 200)),
      '--image2',
      await file('hat.png', png(100, 100)),
    );
    expect(r.code).toBe(0);
    const p = lastPrompt();
    expect(p.image3).toBeUndefined();
    expect(p.image4).toBeUndefined();
    expect(p.stitch3?.inputs.image2).toBeUndefined();
    expect(p.stitch4?.inputs.image2).toBeUndefined();
    expect(p.stitch2?.inputs).toMatchObject({ image1: ['image1', 0], image2: ['image2', 0] });
  });

  it('sketch with light lines skips the inversion', async () => {
    const r = await run(
      'sketch',
      'a castle',
      '--sketch',
      await file('s.png', png(256, 256, '#000000')),
      '--lines',
      'light',
      '--ar',
      '4:3',
    );
    expect(r.code).toBe(0);
    const p = lastPrompt();
    expect(p.apply?.inputs.image).toEqual(['sketch', 0]);
    expect(p.latent?.inputs).toMatchObject({ width: 640, height: 480 });
  });

  it('talk: portrait and voice in, an MP4 with the voice out', async () => {
    const r = await run(
      'talk',
      '--portrait',
      await file('me.png', png(512, 512)),
      '--audio',
      await file('hello.wav', wav(3)),
      '--seconds',
      '10',
    );
    expect(r.code).toBe(0);
    const p = lastPrompt();
    expect(p.voice?.inputs.audio).toMatch(/^relay-[0-9a-f-]{36}-audio\.wav$/);
    expect(p.s2v?.inputs.length).toBe(161);
    expect(lastJob().outputs).toEqual([expect.objectContaining({ kind: 'video', mime: 'video/mp4' })]);
    // The first frame, saved by the workflow's poster node, is kept as the gallery thumbnail (not as a result).
    expect(existsSync(path.join(dir, 'outputs', lastJob().id, 'poster.png'))).toBe(true);
  });

  it('video without a start image drops the image input (text to video)', async () => {
    const r = await run('video', 'a fox running through snow', '--seconds', '2');
    expect(r.code).toBe(0);
    const p = lastPrompt();
    expect(p.start).toBeUndefined();
    expect(p.i2v?.inputs.start_image).toBeUndefined();
    expect(p.i2v?.inputs.length).toBe(33);
    expect(lastJob().outputs[0]?.path).toMatch(/01\.mp4$/);
  });

  it('refuses audio that is not audio, or too long, naming the limit', async () => {
    const portrait = await file('me.png', png());
    const notAudio = await run(
      'talk',
      '--portrait',
      portrait,
      '--audio',
      await file('x.wav', Buffer.from('this is text, not sound')),
    );
    expect([notAudio.code, notAudio.err.trim().split('\n').at(-1)]).toEqual([
      2,
      '✘ That file is not audio I can read (MP3, WAV, OGG/Opus voice, M4A or FLAC).',
    ]);
    const long = await run('talk', '--portrait', portrait, '--audio', await file('long.wav', wav(61)));
    expect([long.code, long.err.trim().split('\n').at(-1)]).toEqual([
      2,
      '✘ That recording is too long: 61 s, at most 60 s.',
    ]);
    expect(comfy.submissions()).toBe(0);
  });
});
