import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, inject, it, vi } from 'vitest';
import { startHeartbeat } from '../../src/ops/heartbeat.js';
import { heartbeatKey, workersKey } from '../../src/queue/names.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { memoryLogger } from '../support/logger.js';

describe('a worker’s heartbeat', () => {
  const redis = new Redis(inject('redisUrl'));
  const prefix = `t${Math.random().toString(36).slice(2, 10)}`;
  const { logger } = memoryLogger('silent');
  let producer: Producer | undefined;
  afterEach(async () => {
    await producer?.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.disconnect());

  const start = (gpu = async () => ({ name: 'RTX', vramTotal: 8, vramFree: 4 })) => {
    const workerId = randomUUID();
    const heartbeat = startHeartbeat({ redis, prefix, workerId, comfyUrl: 'http://gpu1', logger, gpu });
    producer = createProducer({ redis, prefix, workflows: ['imagine'] });
    return { workerId, heartbeat, producer };
  };

  it('asks ComfyUI for its GPU with new capabilities, not when a job starts or ends', async () => {
    const gpu = vi.fn(async () => ({ name: 'RTX', vramTotal: 8, vramFree: 4 }));
    const { heartbeat, producer } = start(gpu);
    await heartbeat.setCapabilities(['imagine'], {});
    heartbeat.setBusy('job-1');
    await vi.waitFor(async () => expect((await producer.onlineWorkers())[0]?.busyJobId).toBe('job-1'));
    heartbeat.setBusy(undefined);
    await vi.waitFor(async () => expect((await producer.onlineWorkers())[0]?.busyJobId).toBeUndefined());
    expect(gpu).toHaveBeenCalledTimes(1);
    expect((await producer.onlineWorkers())[0]?.gpu).toEqual({ name: 'RTX', vramTotal: 8, vramFree: 4 });
    await heartbeat.stop();
  });

  it('lists the worker while it beats, and no longer once it stopped', async () => {
    const { workerId, heartbeat, producer } = start();
    await heartbeat.setCapabilities(['imagine'], { video: 'nodes WanVideo' });
    expect(await producer.onlineWorkers()).toMatchObject([
      { id: workerId, comfyUrl: 'http://gpu1', workflows: ['imagine'], unsupported: { video: 'nodes WanVideo' } },
    ]);
    await heartbeat.stop();
    expect(await producer.onlineWorkers()).toEqual([]);
    expect(await redis.zcard(workersKey(prefix))).toBe(0);
  });

  it('is forgotten by the worker registry once it ran out, when the worker died without stopping', async () => {
    const { workerId, heartbeat, producer } = start();
    await heartbeat.setCapabilities(['imagine'], {});
    const other = startHeartbeat({ redis, prefix, workerId: 'w2', comfyUrl: 'http://gpu2', logger });
    await other.setCapabilities(['imagine'], {});
    // w2 dies: its heartbeat expires and nobody takes it out of the registry.
    await redis.del(heartbeatKey(prefix, 'w2'));
    await redis.zadd(workersKey(prefix), Date.now() - 1, 'w2');
    expect((await producer.onlineWorkers()).map((w) => w.id)).toEqual([workerId]);
    expect(await redis.zrange(workersKey(prefix), 0, -1)).toEqual([workerId]);
    await other.stop();
    await heartbeat.stop();
  });
});
