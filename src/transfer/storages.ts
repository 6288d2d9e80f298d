import type { Redis } from 'ioredis';

/**
 * Which disks the workers use. Every worker role announces its STORAGE_DIR's id at start and every few minutes; a
 * frontend puts a job's inputs into the transfer store only when some worker seen within the TTL keeps another
 * disk. A single-host deployment never copies an input; one with a remote worker always does, also while that
 * worker is restarting.
 */
export interface StorageRegistry {
  announce(storageId: string): Promise<void>;
  /** Whether a worker on a disk other than this one was seen within the TTL (cached for a few seconds). */
  hasOtherThan(storageId: string): Promise<boolean>;
}

export const ANNOUNCE_EVERY_MS = 5 * 60_000;

export function createStorageRegistry(deps: {
  redis: Redis;
  prefix: string;
  ttlMs: number;
  now?: () => number;
  cacheMs?: number;
}): StorageRegistry {
  const key = `${deps.prefix}:transfer-disks`;
  const now = deps.now ?? Date.now;
  let cached: { at: number; seen: Record<string, string> } | undefined;
  return {
    async announce(storageId) {
      await deps.redis.hset(key, storageId, String(now()));
      cached = undefined;
    },
    async hasOtherThan(storageId) {
      if (!cached || now() - cached.at > (deps.cacheMs ?? 5000))
        cached = { at: now(), seen: await deps.redis.hgetall(key) };
      const stale = Object.entries(cached.seen).filter(([, at]) => now() - Number(at) > deps.ttlMs);
      if (stale.length) await deps.redis.hdel(key, ...stale.map(([id]) => id)).catch(() => undefined);
      return Object.entries(cached.seen).some(([id, at]) => id !== storageId && now() - Number(at) <= deps.ttlMs);
    },
  };
}
