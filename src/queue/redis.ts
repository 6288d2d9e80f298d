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

/** A producer connection that is ready to take commands. */
export async function connectProducer(url: string, logger?: Logger): Promise<Redis> {
  const redis = createRedis(url, 'producer', logger);
  await redis.connect();
  return redis;
}
