import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { UserError } from '../errors.js';

/**
 * Per-user limits, checked before a job is queued (admins are exempt):
 * - RATE_LIMIT_PER_MINUTE submissions per rolling minute, kept in Redis so every frontend process shares it
 *   (rate-limiter-flexible, a maintained limiter);
 * - MAX_QUEUED_PER_USER unfinished jobs at once (counted by the caller from history).
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
}

export function createQuotas(deps: { redis: Redis; prefix: string; perMinute: number; maxQueued: number }): Quotas {
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
      const base = { exempt: user.isAdmin, perMinute: deps.perMinute, maxQueued: deps.maxQueued };
      const used = user.isAdmin ? null : await limiter.get(`${user.platform}:${user.userId}`);
      if (!used) return { ...base, left: deps.perMinute, resetsInMs: 0 };
      return { ...base, left: Math.max(0, used.remainingPoints), resetsInMs: Math.max(0, used.msBeforeNext) };
    },
  };
}
