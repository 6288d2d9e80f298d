import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { t } from '../../src/i18n/index.js';
import { createFairShare } from '../../src/queue/fair-share.js';
import { createQuotas } from '../../src/queue/quotas.js';

describe('GPU_SECONDS_PER_DAY', () => {
  const redis = new Redis(inject('redisUrl'));
  let prefix = '';
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.disconnect());

  // 21:47:30 UTC: the day's GPU time comes back at midnight UTC, 2 h 12 min 30 s later.
  const now = Date.UTC(2025, 5, 1, 21, 47, 30);
  function setup(gpuSecondsPerDay: number) {
    prefix = `t${Math.random().toString(36).slice(2, 10)}`;
    const quotas = createQuotas({ redis, prefix, perMinute: 100, maxQueued: 10, gpuSecondsPerDay, now: () => now });
    const fair = createFairShare({ redis, prefix, workflows: ['imagine'] });
    const spend = (jobId: string, seconds: number) =>
      fair.succeeded({
        jobId,
        workflow: 'imagine',
        owner: { platform: 'telegram', userId: '7' },
        startedAt: now - 60_000 - seconds * 1000,
        finishedAt: now - 60_000,
      });
    return { quotas, spend };
  }
  const user = { platform: 'telegram', userId: '7', isAdmin: false };

  async function refusal(check: Promise<void>) {
    const err = await check.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }

  it('accepts jobs while time is left, then refuses saying what is left and when it resets', async () => {
    const { quotas, spend } = setup(600);
    await spend('a', 420);
    await expect(quotas.check(user, 0)).resolves.toBeUndefined();
    await spend('b', 200);
    const err = await refusal(quotas.check(user, 0));
    expect(err.key).toBe('error.gpu_quota');
    expect(t('en', err.key, err.params)).toMatchInlineSnapshot(
      `"You have used today's GPU time: 10 min 20 s of 10 min, 0 s left. It resets in 2 h 12 min (at 00:00 UTC)."`,
    );
    expect(t('zh-TW', err.key, err.params)).toMatchInlineSnapshot(
      `"今天的 GPU 時間已用完：已用 10 分 20 秒，每日上限 10 分，剩下 0 秒。將在 2 小時 12 分後重新計算（UTC 00:00，即臺灣時間上午 8 點）。"`,
    );
  });

  it('does not count a job twice when its success is reported twice', async () => {
    const { quotas, spend } = setup(600);
    await spend('a', 400);
    await spend('a', 400);
    await expect(quotas.check(user, 0)).resolves.toBeUndefined();
    await spend('b', 200);
    await expect(quotas.check(user, 0)).rejects.toMatchObject({ key: 'error.gpu_quota', params: { used: 600 } });
  });

  it('exempts admins, and is off at 0', async () => {
    const limited = setup(60);
    await limited.spend('a', 600);
    await expect(limited.quotas.check({ ...user, isAdmin: true }, 0)).resolves.toBeUndefined();
    const off = setup(0);
    await off.spend('a', 600);
    await expect(off.quotas.check(user, 0)).resolves.toBeUndefined();
  });
});
