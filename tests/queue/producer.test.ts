import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createFairShare } from '../../src/queue/fair-share.js';
import { createGpuTable } from '../../src/queue/gpu-picker.js';
import { costKey } from '../../src/queue/names.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';

describe('the producer’s fair queue', () => {
  const redis = new Redis(inject('redisUrl'));
  let prefix = '';
  let producer: Producer | undefined;
  afterEach(async () => {
    await producer?.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.disconnect());

  function setup() {
    prefix = `t${Math.random().toString(36).slice(2, 10)}`;
    producer = createProducer({
      redis,
      prefix,
      workflows: ['imagine', 'video', 'faceswap'],
      isAdmin: (platform, userId) => platform === 'discord' && userId === '1',
    });
    const enqueue = (workflow: string, userId: string, platform: 'telegram' | 'discord' = 'telegram') =>
      (producer as Producer).enqueue({
        jobId: randomUUID(),
        workflow,
        params: { prompt: 'x' },
        requestedBy: { platform, userId },
        createdAt: Date.now(),
      });
    return { producer, enqueue };
  }

  it("tells a newcomer the true position: ahead of a burst's later jobs, in whatever workflow", async () => {
    const { producer, enqueue } = setup();
    await redis.hset(costKey(prefix), { imagine: '10', video: '100' });
    const burst = [await enqueue('video', 'A'), await enqueue('video', 'A'), await enqueue('video', 'A')];
    const newcomer = await enqueue('imagine', 'B');
    expect(burst.map((j) => j.position)).toEqual([0, 1, 2]);
    expect(newcomer.position).toBe(1);
    const admin = await enqueue('faceswap', '1', 'discord');
    expect(admin.position).toBe(0);
    const positions = await producer.positions(['imagine', 'video']);
    expect([burst[0], newcomer, burst[1], burst[2]].map((j) => positions.get(j?.jobId as string))).toEqual([
      1, 2, 3, 4,
    ]);
    expect(positions.has(admin.jobId)).toBe(false); // asked for imagine and video only
  });

  it('counts only the jobs of workflows that share a GPU with the job’s own', async () => {
    const { producer, enqueue } = setup();
    const table = createGpuTable({ redis, prefix });
    const at = Date.now();
    await table.publish({ id: 'g1', comfyUrl: 'http://a', isIdle: false, workflows: ['imagine', 'video'], at });
    await table.publish({ id: 'g2', comfyUrl: 'http://b', isIdle: false, workflows: ['faceswap'], at });
    const swap = await enqueue('faceswap', 'A');
    const video = await enqueue('video', 'B');
    const picture = await enqueue('imagine', 'C');
    expect([swap.position, video.position, picture.position]).toEqual([0, 0, 1]);
    expect((await producer.positions(['faceswap'])).get(swap.jobId)).toBe(0);
  });

  it('reports a job waiting its fair turn as waiting, and gives its time back when it is cancelled', async () => {
    const { producer, enqueue } = setup();
    await redis.hset(costKey(prefix), 'imagine', '10');
    await enqueue('imagine', 'A');
    const second = await enqueue('imagine', 'A');
    expect((await producer.state(second.jobId, 'imagine'))?.state).toBe('waiting');
    expect(await producer.counts()).toMatchObject({ waiting: 2, prioritized: 0 });
    expect(await producer.cancel(second.jobId, 'imagine')).toBe('removed');
    // The clock has moved to 15 virtual seconds: A's third job starts there (it would start at 20 without the
    // refund), tied with a newcomer's and so before it.
    await createFairShare({ redis, prefix, workflows: [] }).started(17);
    const third = await enqueue('imagine', 'A');
    const newcomer = await enqueue('imagine', 'B');
    const positions = await producer.positions(['imagine']);
    expect([positions.get(third.jobId), positions.get(newcomer.jobId)]).toEqual([1, 2]);
  });

  it('names the model each worker ran last, from the GPU table', async () => {
    const { producer } = setup();
    await redis.set(`${prefix}:worker:w1`, JSON.stringify({ id: 'w1', comfyUrl: 'http://a' }));
    await createGpuTable({ redis, prefix }).publish({
      id: 'g1',
      comfyUrl: 'http://a',
      model: 'dreamshaper_8.safetensors',
      isIdle: true,
      workflows: ['imagine'],
      at: Date.now(),
    });
    expect(await producer.onlineWorkers()).toEqual([
      { id: 'w1', comfyUrl: 'http://a', model: 'dreamshaper_8.safetensors' },
    ]);
    // Who can run a job needs no models (asked for every job).
    expect(await producer.onlineWorkers({ withModels: false })).toEqual([{ id: 'w1', comfyUrl: 'http://a' }]);
  });
});
