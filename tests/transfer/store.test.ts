import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parseObjectStoreUrl } from '../../src/transfer/object-store-url.js';
import { createRedisTransferStore } from '../../src/transfer/redis-store.js';
import { createS3TransferStore } from '../../src/transfer/s3-store.js';
import { TransferTooLargeError, type TransferStore } from '../../src/transfer/store.js';
import { startS3Server } from './s3-server.js';

const MAX = 400_000;
const HOUR = 3_600_000;

interface Backend {
  name: string;
  open(now?: () => number): TransferStore;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
}

let redis: Redis;
let s3: Awaited<ReturnType<typeof startS3Server>>;
let prefix: string;
const redisBackend: Backend = {
  name: 'redis',
  open: () => createRedisTransferStore({ redis, prefix, ttlMs: HOUR, maxBytes: MAX, chunkBytes: 64 * 1024 }),
  async setUp() {
    redis = new Redis(inject('redisUrl'));
  },
  async tearDown() {
    redis.disconnect();
  },
};
const s3Backend: Backend = {
  name: 'object store',
  open: (now) =>
    createS3TransferStore({ location: parseObjectStoreUrl(s3.url(prefix)), ttlMs: HOUR, maxBytes: MAX, now }),
  async setUp() {
    s3 = await startS3Server();
  },
  async tearDown() {
    await s3.close();
  },
};

/** One contract, both backends: what the frontend and the worker rely on. */
describe.each([redisBackend, s3Backend])('transfer store: $name', (backend) => {
  let dir: string;
  let store: TransferStore;
  const job = () => randomUUID();
  const file = (name: string, bytes: Buffer) => {
    const f = path.join(dir, name);
    writeFileSync(f, bytes);
    return f;
  };
  beforeAll(() => backend.setUp());
  afterAll(() => backend.tearDown());
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'relay-transfer-'));
    prefix = `t${Math.random().toString(36).slice(2, 10)}`;
    store = backend.open();
    return async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    };
  });

  it('copies a file of several chunks out exactly as it went in', async () => {
    const bytes = randomBytes(300_001);
    const id = job();
    await store.put(id, 'outputs/01.mp4', file('in.mp4', bytes));
    expect(await store.get(id, 'outputs/01.mp4', path.join(dir, 'out', 'copy.mp4'))).toBe(true);
    expect(readFileSync(path.join(dir, 'out', 'copy.mp4')).equals(bytes)).toBe(true);
    // Written through a temporary file: nothing else is left beside it.
    expect(readdirSync(path.join(dir, 'out'))).toEqual(['copy.mp4']);
  });

  it('copies an empty file', async () => {
    const id = job();
    await store.put(id, 'outputs/01.bin', file('empty.bin', Buffer.alloc(0)));
    expect(await store.get(id, 'outputs/01.bin', path.join(dir, 'copy.bin'))).toBe(true);
    expect(readFileSync(path.join(dir, 'copy.bin')).length).toBe(0);
  });

  it('answers false for a file it does not have, and writes nothing', async () => {
    expect(await store.get(job(), 'inputs/x.png', path.join(dir, 'x.png'))).toBe(false);
    expect(existsSync(path.join(dir, 'x.png'))).toBe(false);
  });

  it('replaces an earlier copy under the same name', async () => {
    const id = job();
    await store.put(id, 'outputs/01.png', file('a.png', Buffer.from('first')));
    await store.put(id, 'outputs/01.png', file('b.png', Buffer.from('second')));
    await store.get(id, 'outputs/01.png', path.join(dir, 'c.png'));
    expect(readFileSync(path.join(dir, 'c.png'), 'utf8')).toBe('second');
  });

  it('lists a job’s names and drops them all at once, leaving other jobs alone', async () => {
    const [a, b] = [job(), job()];
    await store.put(a, 'inputs/1.png', file('1.png', Buffer.from('1')));
    await store.put(a, 'outputs/01.png', file('2.png', Buffer.from('2')));
    await store.put(b, 'outputs/01.png', file('3.png', Buffer.from('3')));
    expect((await store.names(a)).sort()).toEqual(['inputs/1.png', 'outputs/01.png']);
    await store.drop(a);
    expect(await store.names(a)).toEqual([]);
    expect(await store.get(a, 'outputs/01.png', path.join(dir, 'gone.png'))).toBe(false);
    expect(await store.names(b)).toEqual(['outputs/01.png']);
  });

  it('refuses a file over the cap and keeps nothing of it', async () => {
    const id = job();
    const err = await store.put(id, 'outputs/01.mp4', file('big.mp4', Buffer.alloc(MAX + 1))).catch((e) => e);
    expect(err).toBeInstanceOf(TransferTooLargeError);
    expect((err as Error).message).toBe(
      'outputs/01.mp4 is 400001 bytes, over the transfer limit of 400000 bytes (TRANSFER_MAX_MB)',
    );
    expect(await store.names(id)).toEqual([]);
  });

  it('refuses names that are not ours', async () => {
    const f = file('x.png', Buffer.from('x'));
    await expect(store.put(job(), '../escape.png', f)).rejects.toThrow(/not a name this store accepts/);
    await expect(store.put('a/b', 'x.png', f)).rejects.toThrow(/not a name this store accepts/);
  });
});

describe('transfer store in Redis', () => {
  beforeAll(() => redisBackend.setUp());
  afterAll(() => redisBackend.tearDown());

  it('keeps a file as 1 MiB-bounded chunks whose keys all expire', async () => {
    prefix = `t${Math.random().toString(36).slice(2, 10)}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'relay-transfer-'));
    const f = path.join(dir, 'v.mp4');
    writeFileSync(f, randomBytes(200_000));
    const store = redisBackend.open();
    const id = randomUUID();
    await store.put(id, 'outputs/01.mp4', f);
    const keys = await redis.keys(`${prefix}:transfer:${id}*`);
    expect(keys).toHaveLength(2); // the job's index and the file's chunks
    for (const k of keys) {
      const ttl = await redis.pttl(k);
      expect(ttl).toBeGreaterThan(HOUR - 60_000);
      expect(ttl).toBeLessThanOrEqual(HOUR);
    }
    const data = keys.find((k) => k !== `${prefix}:transfer:${id}`) as string;
    expect(await redis.hlen(data)).toBe(4); // 200,000 bytes in 64 KiB chunks
    await store.drop(id);
    expect(await redis.keys(`${prefix}:transfer:${id}*`)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('transfer store in an object store', () => {
  beforeAll(() => s3Backend.setUp());
  afterAll(() => s3Backend.tearDown());

  it('sweeps files older than the TTL, and only files shaped like its own', async () => {
    prefix = `t${Math.random().toString(36).slice(2, 10)}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'relay-transfer-'));
    const f = path.join(dir, 'x.png');
    writeFileSync(f, 'x');
    let now = Date.now();
    const store = s3Backend.open(() => now);
    const old = randomUUID();
    await store.put(old, 'outputs/01.png', f);
    await store.put('not-a-job', 'notes.txt', f);
    expect(await store.sweep?.()).toBe(0);
    now += HOUR + 60_000;
    expect(await store.sweep?.()).toBe(1);
    expect(await store.names(old)).toEqual([]);
    expect(await store.names('not-a-job')).toEqual(['notes.txt']);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
