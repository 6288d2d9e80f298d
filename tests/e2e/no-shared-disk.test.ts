import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { png, wav } from '../support/media.js';
import { until } from '../support/pipeline.js';
import { startTelegramHarness } from '../support/telegram-harness.js';
import { startS3Server } from '../transfer/s3-server.js';

type Harness = Awaited<ReturnType<typeof startTelegramHarness>>;

/**
 * A bot role and a worker role with different STORAGE_DIRs (as on two hosts): the inputs reach the worker and the
 * results come back only through the transfer store, Redis by default or the object store with OBJECT_STORE_URL.
 */
describe.each([
  { backend: 'Redis', objectStore: false },
  { backend: 'the object store', objectStore: true },
])('no shared disk: files cross through $backend', ({ objectStore }) => {
  let h: Harness;
  let s3: Awaited<ReturnType<typeof startS3Server>> | undefined;
  let workerDir: string;
  beforeAll(async () => {
    if (objectStore) s3 = await startS3Server();
  });
  afterAll(async () => s3?.close());
  afterEach(async () => h?.close());

  const start = async (env: Record<string, string> = {}) => {
    workerDir = mkdtempSync(path.join(tmpdir(), 'relay-worker-disk-'));
    const store: Record<string, string> = s3 ? { OBJECT_STORE_URL: s3.url() } : {};
    h = await startTelegramHarness({ ...store, ...env }, { workerStorageDir: workerDir });
    expect(workerDir).not.toBe(h.config.storageDir);
  };
  const lastJob = () =>
    h.role.core.repo.page({ platform: 'telegram', userId: String(h.users.alice.id) }, 0, 1).items[0]!;
  const logged = (msg: string, jobId: string) => h.lines.filter((l) => l.msg === msg && l.jobId === jobId);
  /** Once delivered, the job's files leave the store and the worker's disk. */
  const expectCleanedUp = async (jobId: string) => {
    await until(async () => (await h.role.core.transfer.store.names(jobId)).length === 0, 'an empty store', 5000);
    expect(existsSync(path.join(workerDir, 'outputs', jobId))).toBe(false);
    const inputs = path.join(workerDir, 'inputs');
    expect(existsSync(inputs) ? readdirSync(inputs) : []).toEqual([]);
  };

  it('/edit: the photo goes to the worker and the edited picture comes back', async () => {
    await start();
    const { alice } = h.users;
    const photo = h.telegram.userSends(alice, h.chats.dmAlice, { photo: await png(300, 200) });
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/edit make it night', replyTo: photo });
    const done = await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the edited photo', 20_000);
    expect(done.caption).toMatch(/^make it night\n/);
    const job = lastJob();
    expect(job.status).toBe('succeeded');
    // The worker read the input from its own disk, where only the transfer store could have put it.
    const prompt = h.comfy.requests.find((r) => r.path === '/prompt')!.body as {
      prompt: Record<string, { inputs: Record<string, unknown> }>;
    };
    expect(prompt.prompt.image?.inputs.image).toBe(`relay-${job.id}-image.png`);
    expect(logged('inputs sent', job.id)).toHaveLength(1);
    expect(logged('outputs sent', job.id)).toHaveLength(1);
    expect(logged('outputs received', job.id)).toHaveLength(1);
    // The result now lives on the bot's disk, where /original, the gallery and retention look for it.
    expect(job.outputs.map((f) => f.path)).toEqual([`outputs/${job.id}/01.png`]);
    expect(existsSync(path.join(h.config.storageDir, job.outputs[0]!.path))).toBe(true);
    await expectCleanedUp(job.id);
  });

  it('/talk: a portrait and a voice go to the worker, and the video comes back with its poster thumbnail', async () => {
    await start();
    const { alice } = h.users;
    const voice = h.telegram.userSends(alice, h.chats.dmAlice, { voice: wav(2) });
    h.telegram.userSends(alice, h.chats.dmAlice, { photo: await png(256, 256), caption: '/talk', replyTo: voice });
    const call = await until(() => h.telegram.callsTo('sendVideo').find((c) => c.status === 200), 'the video', 20_000);
    const job = lastJob();
    expect(logged('inputs sent', job.id)[0]).toMatchObject({ files: 2 });
    const prompt = h.comfy.requests.filter((r) => r.path === '/prompt').at(-1)!.body as {
      prompt: Record<string, { inputs: Record<string, unknown> }>;
    };
    expect(prompt.prompt.voice?.inputs.audio).toBe(`relay-${job.id}-audio.wav`);
    expect(prompt.prompt.portrait?.inputs.image).toBe(`relay-${job.id}-portrait.png`);
    // The video Telegram got is the file on the bot's disk, byte for byte; the poster frame came along.
    const video = call.files[String(call.params.video).replace('attach://', '')]!;
    expect(video.bytes.equals(readFileSync(path.join(h.config.storageDir, job.outputs[0]!.path)))).toBe(true);
    expect(existsSync(path.join(h.config.storageDir, 'outputs', job.id, 'poster.png'))).toBe(true);
    await expectCleanedUp(job.id);
  });

  it('the live preview comes through the store too', async () => {
    await start({ PREVIEW_INTERVAL_S: '1' });
    h.comfy.script({ previews: true, stepDelayMs: 150 });
    const cmd = h.telegram.userSends(h.users.alice, h.chats.dmAlice, { text: '/imagine a fox at dawn --steps 30' });
    await until(() => h.repliesTo(cmd).find((m) => m.caption?.startsWith('a fox at dawn')), 'the result', 30_000);
    const previews = h.telegram.calls.flatMap((c) =>
      c.status === 200 ? Object.values(c.files).filter((f) => f.filename === 'preview.jpg') : [],
    );
    expect(previews.length).toBeGreaterThanOrEqual(1);
    expect(previews[0]!.bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    await expectCleanedUp(lastJob().id);
  });
});

describe('one shared disk (the single-host default)', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('copies nothing through the transfer store', async () => {
    h = await startTelegramHarness();
    const redis = new Redis(inject('redisUrl'));
    const { alice } = h.users;
    const photo = h.telegram.userSends(alice, h.chats.dmAlice, { photo: await png(300, 200) });
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/edit make it night', replyTo: photo });
    await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the edited photo', 20_000);
    const job = h.role.core.repo.page({ platform: 'telegram', userId: String(alice.id) }, 0, 1).items[0]!;
    expect(
      h.lines.filter((l) => l.jobId === job.id && /^(inputs|outputs) (sent|received)$/.test(String(l.msg))),
    ).toEqual([]);
    expect(await redis.keys(`${h.config.queuePrefix}:transfer:*`)).toEqual([]);
    redis.disconnect();
  });
});
