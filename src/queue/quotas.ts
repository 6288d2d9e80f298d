import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { UserError } from '../errors.js';
import { utcDay } from './fair-share.js';
import { gpuUsedKey } from './names.js';

/**
 * Per-user limits, checked before a job is queued (admins are exempt):
 * - RATE_LIMIT_PER_MINUTE submissions per rolling minute, kept in Redis so every frontend process shares it
 *   (rate-limiter-flexible, a maintained limiter);
 * - MAX_QUEUED_PER_USER unfinished jobs at once (counted by the caller from history);
 * - GPU_SECONDS_PER_DAY of measured GPU time per UTC day, charged by the worker when a job succeeds
 *   (fair-share.ts `succeeded`); a job is accepted while any of it is left, so the day's last job may run over.
 */
export interface Quotas {
  /** Throws UserError with the seconds to wait when the user is over a limit. */
  check(user: { platform: string; userId: string; isAdmin: boolean }, unfinished: number): Promise<void>;
  /** What is left of the limits, read only (nothing is consumed): /me. */
  remaining(user: { platform: string; userId: string; isAdmin: boolean }): Promise<QuotaLeft>;
}

export interface QuotaLeft {
  /** Admins have no limits. */
  exempt: boolean;
  perMinute: number;
  /** Submissions left in the current minute. */
  left: number;
  /** When the minute's count starts again (ms from now; 0 when nothing was used). */
  resetsInMs: number;
  maxQueued: number;
  /** Today's GPU time, when GPU_SECONDS_PER_DAY is set (seconds; resets at 00:00 UTC). */
  gpu?: { limitS: number; usedS: number; resetsInMs: number };
}

export function createQuotas(deps: {
  redis: Redis;
  prefix: string;
  perMinute: number;
  maxQueued: number;
  /** 0 or absent: no daily GPU limit. */
  gpuSecondsPerDay?: number;
  now?: () => number;
}): Quotas {
  const now = deps.now ?? Date.now;
  const gpuLimit = deps.gpuSecondsPerDay ?? 0;
  async function gpuToday(user: { platform: string; userId: string }) {
    const at = now();
    const used = Number((await deps.redis.get(gpuUsedKey(deps.prefix, utcDay(at), user.platform, user.userId))) ?? 0);
    const midnight = Date.UTC(new Date(at).getUTCFullYear(), new Date(at).getUTCMonth(), new Date(at).getUTCDate() + 1);
    return { limitS: gpuLimit, usedS: used, resetsInMs: midnight - at };
  }
  const limiter = new RateLimiterRedis({
    storeClient: deps.redis,
    keyPrefix: `${deps.prefix}:rate`,
    points: deps.perMinute,
    duration: 60,
  });
  return {
    async check(user, unfinished) {
      if (user.isAdmin) return;
      if (unfinished >= deps.maxQueued) throw new UserError('error.queue_cap', { max: deps.maxQueued });
      if (gpuLimit > 0) {
        const gpu = await gpuToday(user);
        if (gpu.usedS >= gpuLimit)
          throw new UserError('error.gpu_quota', {
            used: Math.round(gpu.usedS),
            limit: gpuLimit,
            left: Math.max(0, Math.floor(gpuLimit - gpu.usedS)),
            resets: Math.ceil(gpu.resetsInMs / 1000),
          });
      }
      try {
        await limiter.consume(`${user.platform}:${user.userId}`);
      } catch (err) {
        if (err instanceof RateLimiterRes)
          throw new UserError('error.rate_limited', {
            seconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)),
            max: deps.perMinute,
          });
        throw err;
      }
    },
    async remaining(user) {
      const gpu = gpuLimit > 0 && !user.isAdmin ? { gpu: await gpuToday(user) } : {};
      const base = { exempt: user.isAdmin, perMinute: deps.perMinute, maxQueued: deps.maxQueued, ...gpu };
      const used = user.isAdmin ? null : await limiter.get(`${user.platform}:${user.userId}`);
      if (!used) return { ...base, left: deps.perMinute, resetsInMs: 0 };
      return { ...base, left: Math.max(0, used.remainingPoints), resetsInMs: Math.max(0, used.msBeforeNext) };
    },
  };
}
