import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Requester } from '../../src/bots/jobs/tracker.js';
import { createFairShare } from '../../src/queue/fair-share.js';
import { costKey } from '../../src/queue/names.js';
import { createProducer } from '../../src/queue/producer.js';
import { createQuotas } from '../../src/queue/quotas.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';
import { recordingSink, startPipeline, until } from '../support/pipeline.js';

/** Fair share across users, admins first, true positions across workflows, GPU-second quotas and warm models. */
describe('fair GPUs', () => {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function setup(gpus = 1, stepDelayMs = 5) {
    const fakes: FakeComfy[] = [];
    for (let i = 0; i < gpus; i++) {
      const f = await startFakeComfy({ models: fakeModels, defaultStepDelayMs: stepDelayMs });
      fakes.push(f);
      closers.push(() => f.close());
    }
    const config = testConfig();
    const pipeline = await startPipeline(config, memoryLogger('warn').logger);
    closers.push(() => pipeline.close());
    const redis = new Redis(config.redisUrl as string);
    closers.push(() => redis.disconnect());
    let n = 0;
    const submit = (userId: string, workflow = 'imagine', params: Record<string, unknown> = {}) => {
      const requester: Requester = { platform: 'telegram', userId, locale: 'en' };
      // A new prompt each time: the fake, like ComfyUI, answers an identical graph from its cache.
      const all = { prompt: `fox ${n++}`, ...(workflow === 'imagine' ? { steps: 4 } : {}), ...params };
      return pipeline.tracker.submit({ workflow, params: all, requester, sink: recordingSink().sink });
    };
    return { fakes, config, pipeline, redis, submit };
  }

  it("runs a newcomer's job next on a single GPU, before the rest of another user's burst; an admin's before both", async () => {
    const { fakes, config, pipeline, redis, submit } = await setup();
    const [comfy] = fakes as [FakeComfy];
    comfy.script({ holdAt: 'sampler' });
    await pipeline.startWorker(comfy.url);
    const burst = [];
    for (let i = 0; i < 6; i++) burst.push(await submit('A'));
    await until(() => comfy.isHolding(), 'the first job of the burst to run');
    const newcomer = await submit('B');
    const admins = createProducer({
      redis,
      prefix: config.queuePrefix,
      workflows: pipeline.workflows.keys(),
      isAdmin: (platform, userId) => `${platform}:${userId}` === 'telegram:1',
    });
    closers.push(() => admins.close());
    const admin = randomUUID();
    await admins.enqueue({
      jobId: admin,
      workflow: 'imagine',
      params: { prompt: 'the admin', steps: 4 },
      requestedBy: { platform: 'telegram', userId: '1' },
      createdAt: Date.now(),
    });
    // What B is told while waiting: only the admin's job is ahead of theirs (once the admin's job has taken B's
    // place in ComfyUI's queue, where the GPU had handed B early).
    await until(
      async () => (await pipeline.producer.positions(['imagine'])).get(newcomer.jobId) === 1,
      'B to be told that one job is ahead',
    );
    comfy.release();
    await Promise.all([...burst, newcomer].map((j) => j.done));
    await until(() => comfy.historyIds().includes(admin), 'the admin job to finish');
    const ran = [...comfy.runTimes.keys()];
    expect(ran.slice(0, 3)).toEqual([burst[0]?.jobId, admin, newcomer.jobId]);
    expect(ran.slice(3)).toEqual(burst.slice(1).map((j) => j.jobId));
  });

  it("counts true positions across workflows, and a user's heavy video delays others' pictures by one video at most", async () => {
    const { fakes, config, pipeline, redis, submit } = await setup();
    await redis.hset(costKey(config.queuePrefix), { imagine: '10', video: '300' });
    const videos = [await submit('V', 'video', { seconds: '2' }), await submit('V', 'video', { seconds: '2' })];
    const pictures = [];
    for (let i = 0; i < 4; i++) pictures.push(await submit('P'));
    const expected = [videos[0], ...pictures, videos[1]].map((j) => j?.jobId);
    // Before any GPU is online every workflow counts as sharing one: positions 0..5 over both queues.
    const positions = await pipeline.producer.positions(['imagine', 'video']);
    expect(expected.map((id) => positions.get(id as string))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pictures.map((p) => p.position)).toEqual([1, 2, 3, 4]);

    const [comfy] = fakes as [FakeComfy];
    await pipeline.startWorker(comfy.url);
    await Promise.all([...videos, ...pictures].map((j) => j.done));
    expect([...comfy.runTimes.keys()]).toEqual(expected);
  });

  it('charges the measured GPU time of successful jobs only, and refuses with what is left once it is used', async () => {
    // 20 steps of 60 ms: more than the one GPU second a day allowed below.
    const { fakes, config, pipeline, redis, submit } = await setup(1, 60);
    const [comfy] = fakes as [FakeComfy];
    await pipeline.startWorker(comfy.url);
    const ok = await submit('Q', 'imagine', { steps: 20 });
    await ok.done;
    // As long on the GPU, but it fails after sampling: free.
    comfy.script({ failAt: 'decode' });
    const failing = await submit('Q', 'imagine', { steps: 20 });
    await failing.done;
    expect(pipeline.repo.get(failing.jobId)?.status).toBe('failed');

    const result = (await pipeline.producer.state(ok.jobId, 'imagine'))?.result;
    const measured = ((result?.finishedAt ?? 0) - (result?.startedAt ?? 0)) / 1000;
    const fair = createFairShare({ redis, prefix: config.queuePrefix, workflows: [] });
    const owner = { platform: 'telegram', userId: 'Q' };
    await until(async () => (await fair.usedToday(owner)) > 0, 'the GPU time to be charged');
    expect(await fair.usedToday(owner)).toBeCloseTo(measured, 3);

    const quotas = createQuotas({
      redis,
      prefix: config.queuePrefix,
      perMinute: 100,
      maxQueued: 10,
      gpuSecondsPerDay: 1,
    });
    const user = { ...owner, isAdmin: false };
    expect(measured).toBeGreaterThan(1);
    await expect(quotas.check(user, 0)).rejects.toMatchObject({
      key: 'error.gpu_quota',
      params: { limit: 1, left: 0 },
    });
    await expect(quotas.check({ ...user, isAdmin: true }, 0)).resolves.toBeUndefined();
  });

  it('loads each model about once when jobs for two models alternate over two GPUs', async () => {
    const { fakes, pipeline, submit } = await setup(2, 15);
    const models = ['v1-5-pruned-emaonly.safetensors', 'dreamshaper_8.safetensors'];
    const jobs = [];
    for (let i = 0; i < 8; i++) {
      // One model's jobs take three times as long: without the preference, a GPU would switch on every other job.
      const steps = i % 2 ? 60 : 20;
      jobs.push(await submit('U', 'imagine', { model: models[i % 2], steps }));
    }
    await Promise.all(fakes.map((f) => pipeline.startWorker(f.url)));
    await Promise.all(jobs.map((j) => j.done));
    for (const j of jobs) expect(pipeline.repo.get(j.jobId)?.status).toBe('succeeded');
    const loads = (name: string) => fakes.reduce((n, f) => n + (f.modelLoads()[name] ?? 0), 0);
    expect(loads(models[0] as string)).toBeLessThanOrEqual(2);
    expect(loads(models[1] as string)).toBeLessThanOrEqual(2);
  });
});
