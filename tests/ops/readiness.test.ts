import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDb } from '../../src/history/db.js';
import { comfyCheck, createReadiness, redisCheck, sqliteCheck } from '../../src/ops/readiness.js';
import { createRedis } from '../../src/queue/redis.js';

describe('readiness checks', () => {
  afterEach(() => void vi.useRealTimers());

  it('reports a check that never answers as timed out, by name', async () => {
    vi.useFakeTimers();
    const r = createReadiness({ timeoutMs: 3000 });
    r.add('comfy gpu1:8188', () => new Promise(() => undefined));
    r.add('sqlite', () => undefined);
    const running = r.run();
    await vi.advanceTimersByTimeAsync(3000);
    const report = await running;
    expect([report.ok, report.failing, report.checks['comfy gpu1:8188']?.error]).toEqual([
      false,
      ['comfy gpu1:8188'],
      'no answer within 3000 ms',
    ]);
  });

  it('fails at once on a Redis connection that is not ready, even one that would queue the PING', async () => {
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((resolve) => srv.close(resolve));
    // A worker connection (maxRetriesPerRequest null) would hold a PING until Redis comes back.
    const redis = createRedis(`redis://127.0.0.1:${port}`, 'worker');
    try {
      await expect(redisCheck(redis)()).rejects.toThrow(/^connection is /);
    } finally {
      redis.disconnect();
    }
  });

  it('fails when the history database is closed or ComfyUI errs', async () => {
    const db = openDb(':memory:');
    sqliteCheck(db)();
    db.close();
    expect(() => sqliteCheck(db)()).toThrow(/not open/);
    const down = { systemStats: () => Promise.reject(new Error('ComfyUI at http://gpu1:8188 is unreachable')) };
    const r = createReadiness();
    r.add('comfy gpu1:8188', comfyCheck(down));
    expect((await r.run()).checks['comfy gpu1:8188']).toMatchObject({ ok: false, error: /unreachable/ });
  });
});
