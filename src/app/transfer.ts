import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { connectProducer, createRedis } from '../queue/redis.js';
import { createRedisTransferStore } from '../transfer/redis-store.js';
import { readStorageId } from '../transfer/storage-id.js';
import { createStorageRegistry } from '../transfer/storages.js';

/**
 * The transfer store the settings ask for (the object store when OBJECT_STORE_URL is set, Redis otherwise), this
 * STORAGE_DIR's id and the registry of the workers' disks. A frontend's connection fails fast (a submit during a
 * Redis outage is refused at once, like the producer's); a worker's waits for Redis to come back.
 */
export async function openTransfer(deps: {
  config: Config;
  redisUrl: string;
  logger: Logger;
  side: 'frontend' | 'worker';
}) {
  const { config } = deps;
  const { objectStore, region, ttlMs, maxBytes } = config.transfer;
  // The S3 client (@aws-sdk/client-s3, slow to load) only when OBJECT_STORE_URL is set.
  const s3 = objectStore ? await import('../transfer/s3-store.js') : undefined;
  const redis =
    deps.side === 'frontend'
      ? await connectProducer(deps.redisUrl, deps.logger)
      : createRedis(deps.redisUrl, 'worker', deps.logger);
  const store =
    s3 && objectStore
      ? s3.createS3TransferStore({ location: objectStore, region, ttlMs, maxBytes })
      : createRedisTransferStore({ redis, prefix: config.queuePrefix, ttlMs, maxBytes });
  return {
    store,
    storageId: await readStorageId(config.storageDir),
    storages: createStorageRegistry({ redis, prefix: config.queuePrefix, ttlMs }),
    async close() {
      await store.close();
      redis.disconnect();
    },
  };
}

export type Transfer = Awaited<ReturnType<typeof openTransfer>>;
