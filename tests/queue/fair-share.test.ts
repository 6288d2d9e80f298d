import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createFairShare, fairOrder, peekWaiting, type WaitingEntry } from '../../src/queue/fair-share.js';
import { costKey, fairKey } from '../../src/queue/names.js';

const entry = (workflow: string, jobId: string, priority: number, timestamp: number, rank = 1): WaitingEntry => ({
  workflow,
  jobId,
  rank,
  priority,
  timestamp,
});

describe('the fair order over several queues', () => {
  it('takes the queue head that comes first: wait list, then lowest priority, then oldest', () => {
    const imagine = [entry('imagine', 'a1', 2, 10), entry('imagine', 'a2', 32, 11)];
    const video = [entry('video', 'b1', 2, 12), entry('video', 'c1', 5, 1)];
    const upscale = [entry('upscale', 'stalled', 40, 50, 0)];
    expect(fairOrder([imagine, video, upscale]).map((e) => e.jobId)).toEqual(['stalled', 'a1', 'b1', 'c1', 'a2']);
  });

  it('never reorders one queue: a later job in it waits for the one before it', () => {
    // Inside a queue BullMQ's order rules (here a handed-back job kept its place at the front of its priority).
    const imagine = [entry('imagine', 'back', 9, 99), entry('imagine', 'old', 9, 1)];
    expect(fairOrder([imagine]).map((e) => e.jobId)).toEqual(['back', 'old']);
  });
});

describe('fair-share bookkeeping in Redis', () => {
  const redis = new Redis(inject('redisUrl'));
  let prefix = '';
  const fairShare = () => {
    prefix = `t${Math.random().toString(36).slice(2, 10)}`;
    return createFairShare({ redis, prefix, workflows: ['imagine', 'video'] });
  };
  const a = { platform: 'telegram', userId: 'A' };
  const b = { platform: 'telegram', userId: 'B' };
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.disconnect());

  it("gives a newcomer's job the current virtual time, ahead of a burst's later jobs", async () => {
    const fair = fairShare();
    await redis.hset(costKey(prefix), 'imagine', '10');
    const burst = [];
    for (let i = 0; i < 6; i++) burst.push(await fair.priorityFor(a, 'imagine', false));
    expect(burst).toEqual([2, 12, 22, 32, 42, 52]);
    await fair.started(burst[0]); // the GPU took A's first job
    const newcomer = await fair.priorityFor(b, 'imagine', false);
    expect(newcomer).toBe(2);
    expect(newcomer).toBeLessThan(burst[1] as number);
  });

  it('weighs a job by its workflow’s expected time, so a video moves its user further back', async () => {
    const fair = fairShare();
    await redis.hset(costKey(prefix), { imagine: '10', video: '300' });
    expect(await fair.priorityFor(a, 'video', false)).toBe(2);
    expect(await fair.priorityFor(a, 'video', false)).toBe(302);
    const images = [];
    for (let i = 0; i < 5; i++) images.push(await fair.priorityFor(b, 'imagine', false));
    expect(Math.max(...images)).toBeLessThan(302);
  });

  it('does not bank idle time: a user back after a long pause starts at the clock, not before it', async () => {
    const fair = fairShare();
    await redis.hset(costKey(prefix), 'imagine', '10');
    await fair.started(502);
    expect(await fair.priorityFor(a, 'imagine', false)).toBe(502);
  });

  it('puts admins first and leaves their share untouched', async () => {
    const fair = fairShare();
    expect(await fair.priorityFor(a, 'imagine', true)).toBe(1);
    expect(await redis.hget(fairKey(prefix), 'u:telegram:A')).toBeNull();
  });

  it('gives the expected time of a removed waiting job back', async () => {
    const fair = fairShare();
    await redis.hset(costKey(prefix), 'imagine', '10');
    await fair.priorityFor(a, 'imagine', false);
    const second = await fair.priorityFor(a, 'imagine', false);
    await fair.refund(a, 'imagine', second);
    expect(await fair.priorityFor(a, 'imagine', false)).toBe(second);
  });

  it('assumes the mean of the known workflows for one never run, and 30 s when none is known', async () => {
    const fair = fairShare();
    expect(await fair.expectedSeconds('video')).toBe(30);
    await redis.hset(costKey(prefix), { imagine: '4', upscale: '8' });
    expect(await fair.expectedSeconds('video')).toBe(6);
    await redis.hset(costKey(prefix), 'imagine', '0.05');
    expect(await fair.expectedSeconds('imagine')).toBe(1); // at least one second a job
  });

  it('moves every tag back once the clock is far along and nothing waits', async () => {
    const fair = fairShare();
    await redis.hset(fairKey(prefix), { clock: String(2 ** 20 + 100), 'u:telegram:A': String(2 ** 20 + 130) });
    await redis.hset(costKey(prefix), 'imagine', '10');
    expect(await fair.priorityFor(b, 'imagine', false)).toBe(2);
    expect(await fair.priorityFor(a, 'imagine', false)).toBe(32);
  });

  it('charges a succeeded job once, however often it is reported, and learns the workflow’s time from it', async () => {
    const fair = fairShare();
    const done = {
      jobId: 'j1',
      workflow: 'imagine',
      owner: a,
      startedAt: Date.UTC(2025, 5, 1, 10),
      finishedAt: Date.UTC(2025, 5, 1, 10, 0, 12),
    };
    expect(await fair.succeeded(done)).toBe(true);
    expect(await fair.succeeded(done)).toBe(false);
    expect(await fair.usedToday(a, Date.UTC(2025, 5, 1, 23))).toBe(12);
    expect(await fair.usedToday(a, Date.UTC(2025, 5, 2, 1))).toBe(0); // a new UTC day
    expect(await fair.expectedSeconds('imagine')).toBe(12);
    await fair.succeeded({ ...done, jobId: 'j2', finishedAt: done.startedAt + 2000 });
    expect(await fair.expectedSeconds('imagine')).toBeCloseTo(12 + 0.3 * (2 - 12));
  });

  it('reads waiting jobs in queue order, with due retries by their priority', async () => {
    fairShare();
    const q = (wf: string) => `${prefix}:generate-${wf}`;
    await redis.rpush(`${q('imagine')}:wait`, 'stalled');
    await redis.zadd(`${q('imagine')}:prioritized`, 7 * 2 ** 32 + 1, 'p7', 3 * 2 ** 32 + 2, 'p3');
    await redis.zadd(`${q('imagine')}:delayed`, 1000 * 4096, 'retry', (Date.now() + 60_000) * 4096, 'later');
    await redis.hset(`${q('imagine')}:retry`, { priority: '5', timestamp: '5' });
    await redis.hset(`${q('imagine')}:p3`, { timestamp: '3' });
    const [imagine, video] = await peekWaiting(redis, prefix, ['imagine', 'video']);
    expect(imagine?.map((e) => [e.jobId, e.rank, e.priority])).toEqual([
      ['stalled', 0, 0],
      ['p3', 1, 3],
      ['retry', 1, 5],
      ['p7', 1, 7],
    ]);
    expect(imagine?.find((e) => e.jobId === 'p3')?.timestamp).toBe(3);
    expect(video).toEqual([]);
  });
});
