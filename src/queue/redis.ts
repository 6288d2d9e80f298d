import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * Producers fail fast (enableOfflineQueue off): a Redis outage becomes an immediate "try again" for the user.
 * Workers and QueueEvents wait forever (maxRetriesPerRequest null), as BullMQ requires for blocking commands.
 */
export function createRedis(url: string, role: 'producer' | 'worker', logger?: Logger): Redis {
  const opts: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 2, lazyConnect: true }
      : { maxRetriesPerRequest: null, enableReadyCheck: true };
  const redis = new Redis(url, opts);
  // ioredis reconnects by itself; without a listener every failed attempt is an "Unhandled error event".
  let lastLogged = 0;
  redis.on('error', (err) => {
    if (Date.now() - lastLogged < 10_000) return;
    lastLogged = Date.now();
    logger?.warn({ err: { message: err.message }, role }, 'redis connection error');
  });
  return redis;
}

/**
 * Logs an error once, then the same message at most once per intervalMs with the number held back. During a Redis
 * outage every BullMQ Worker and QueueEvents (one of each per workflow queue) reports every reconnect attempt:
 * hundreds of identical lines a second without this.
 */
export function repeatedErrorLog(
  log: (obj: Record<string, unknown>, msg: string) => void,
  msg: string,
  intervalMs = 10_000,
): (err: Error, context?: Record<string, unknown>) => void {
  const seen = new Map<string, { at: number; held: number }>();
  return (err, context = {}) => {
    const now = Date.now();
    const s = seen.get(err.message);
    if (s && now - s.at < intervalMs) {
      s.held += 1;
      return;
    }
    if (seen.size > 100) seen.clear(); // distinct messages are few; never let the map grow without bound
    seen.set(err.message, { at: now, held: 0 });
    log({ err, ...context, ...(s?.held ? { repeated: s.held } : {}) }, msg);
  };
}

/** A producer connection that is ready to take commands. */
export async function connectProducer(url: string, logger?: Logger): Promise<Redis> {
  const redis = createRedis(url, 'producer', logger);
  await redis.connect();
  return redis;
}
