import { Redis, type RedisOptions } from 'ioredis';

/**
 * Producers fail fast (enableOfflineQueue off): a Redis outage becomes an immediate "try again" for the user.
 * Workers and QueueEvents wait forever (maxRetriesPerRequest null), as BullMQ requires for blocking commands.
 */
export function createRedis(url: string, role: 'producer' | 'worker'): Redis {
  const opts: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 2, lazyConnect: true }
      : { maxRetriesPerRequest: null, enableReadyCheck: true };
  return new Redis(url, opts);
}

/** A producer connection that is ready to take commands. */
export async function connectProducer(url: string): Promise<Redis> {
  const redis = createRedis(url, 'producer');
  await redis.connect();
  return redis;
}
