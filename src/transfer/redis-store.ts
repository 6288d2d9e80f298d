import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ChainableCommander, Redis } from 'ioredis';
import { writeWhole } from './local-file.js';
import { checkKey, TransferError, TransferTooLargeError, type TransferStore } from './store.js';

/**
 * The transfer store in Redis, the default: no other service to run. A file is a hash of 1 MiB chunks (fields
 * "0", "1", …) under a fresh upload id; a job's index hash maps each name to its upload ({ id, size, chunks }) and
 * is written last, so a reader sees the old copy or the new one, never half of one. Both sides hold one chunk at a
 * time; every key expires after the TTL even when nobody drops the group (a frontend that never came back).
 */
export interface RedisTransferStoreDeps {
  /** A connection of its own: multi-megabyte writes must not queue behind (or ahead of) the producer's commands. */
  redis: Redis;
  prefix: string;
  ttlMs: number;
  maxBytes: number;
  chunkBytes?: number;
}

interface Upload {
  id: string;
  size: number;
  chunks: number;
}

export function createRedisTransferStore(deps: RedisTransferStoreDeps): TransferStore {
  const { redis, ttlMs, maxBytes } = deps;
  const chunkBytes = deps.chunkBytes ?? 1024 * 1024;
  const indexKey = (group: string) => `${deps.prefix}:transfer:${group}`;
  const dataKey = (group: string, id: string) => `${deps.prefix}:transfer:${group}:${id}`;
  const exec = async (m: ChainableCommander) => {
    for (const [err] of (await m.exec()) ?? []) if (err) throw err;
  };
  const uploadOf = (raw: string | null): Upload | undefined => (raw ? (JSON.parse(raw) as Upload) : undefined);
  const wrap = (op: TransferError['op'], key: string, err: unknown) =>
    err instanceof TransferError || err instanceof TransferTooLargeError
      ? err
      : new TransferError(op, key, (err as Error).message, { cause: err });

  /** One attempt at reading an upload; 'replaced' when a newer copy took its place meanwhile. */
  async function readOnce(group: string, name: string, file: string): Promise<boolean | 'replaced'> {
    const upload = uploadOf(await redis.hget(indexKey(group), name));
    if (!upload) return false;
    let outcome: boolean | 'replaced' = true;
    async function* chunks() {
      for (let i = 0; i < upload!.chunks; i++) {
        const chunk = await redis.hgetBuffer(dataKey(group, upload!.id), String(i));
        if (!chunk) {
          const now = uploadOf(await redis.hget(indexKey(group), name));
          outcome = now && now.id !== upload!.id ? 'replaced' : false;
          throw new TransferError('get', `${group}/${name}`, 'chunk missing');
        }
        yield chunk;
      }
    }
    try {
      await writeWhole(file, chunks());
    } catch (err) {
      if (outcome !== true) return outcome;
      throw err;
    }
    return true;
  }

  return {
    kind: 'redis',
    async put(group, name, file) {
      checkKey(group, name);
      const { size } = await stat(file);
      if (size > maxBytes) throw new TransferTooLargeError(name, size, maxBytes);
      const id = randomUUID();
      const data = dataKey(group, id);
      try {
        let chunks = 0;
        let bytes = 0;
        for await (const chunk of createReadStream(file, { highWaterMark: chunkBytes })) {
          bytes += (chunk as Buffer).length;
          if (bytes > maxBytes) throw new TransferTooLargeError(name, bytes, maxBytes);
          await exec(
            redis
              .multi()
              .hset(data, String(chunks), chunk as Buffer)
              .pexpire(data, ttlMs),
          );
          chunks += 1;
        }
        const index = indexKey(group);
        const earlier = uploadOf(await redis.hget(index, name));
        const upload: Upload = { id, size: bytes, chunks };
        const m = redis.multi().hset(index, name, JSON.stringify(upload)).pexpire(index, ttlMs);
        if (earlier) m.del(dataKey(group, earlier.id));
        await exec(m);
      } catch (err) {
        await redis.del(data).catch(() => undefined);
        throw wrap('put', `${group}/${name}`, err);
      }
    },
    async get(group, name, file) {
      checkKey(group, name);
      try {
        const first = await readOnce(group, name, file);
        // A newer copy replaced the one being read (a retried job put its outputs again): read that one.
        return first === 'replaced' ? (await readOnce(group, name, file)) === true : first;
      } catch (err) {
        throw wrap('get', `${group}/${name}`, err);
      }
    },
    async names(group) {
      checkKey(group, 'x');
      try {
        return await redis.hkeys(indexKey(group));
      } catch (err) {
        throw wrap('names', group, err);
      }
    },
    async drop(group) {
      checkKey(group, 'x');
      try {
        const uploads = (await redis.hvals(indexKey(group))).map((v) => uploadOf(v) as Upload);
        // Every job is dropped once delivered; with one shared disk nothing was ever put, and no index means no keys.
        if (uploads.length) await redis.del(indexKey(group), ...uploads.map((u) => dataKey(group, u.id)));
      } catch (err) {
        throw wrap('drop', group, err);
      }
    },
    // The connection belongs to the role that made it.
    async close() {},
  };
}
