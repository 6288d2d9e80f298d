import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createQuotas } from '../../src/queue/quotas.js';

describe('what is left of the limits (read only)', () => {
  const redis = new Redis(inject('redisUrl'));
  afterAll(() => redis.quit());
  const quotas = () =>
    createQuotas({ redis, prefix: `q${Math.random().toString(36).slice(2, 8)}`, perMinute: 3, maxQueued: 2 });
  const alice = { platform: 'telegram', userId: '1', isAdmin: false };

  it('is everything before any job, and counts down with each one without using any itself', async () => {
    const q = quotas();
    expect(await q.remaining(alice)).toEqual({ exempt: false, perMinute: 3, left: 3, resetsInMs: 0, maxQueued: 2 });
    await q.check(alice, 0);
    await q.check(alice, 0);
    const left = await q.remaining(alice);
    expect(left).toMatchObject({ left: 1 });
    expect(left.resetsInMs).toBeGreaterThan(50_000);
    expect(left.resetsInMs).toBeLessThanOrEqual(60_000);
    expect((await q.remaining(alice)).left).toBe(1);
    await q.check(alice, 0);
    expect((await q.remaining(alice)).left).toBe(0);
  });

  it('says an admin is exempt', async () => {
    expect(await quotas().remaining({ ...alice, isAdmin: true })).toMatchObject({ exempt: true, left: 3 });
  });
});
