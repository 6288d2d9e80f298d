import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/app/embedded-redis.js';

/** Resolves once a redis-server answers PING at `url`; fails after about `tries` × `delayMs`. */
export async function waitForRedis(url: string, opts: { tries?: number; delayMs?: number } = {}) {
  const { Redis } = await import('ioredis');
  for (let i = 0; ; i++) {
    const r = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', () => undefined);
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return;
    } catch {
      r.disconnect();
      if (i > (opts.tries ?? 100)) throw new Error('redis-server did not start (is redis-server installed?)');
      await new Promise((res) => setTimeout(res, opts.delayMs ?? 50));
    }
  }
}

/** A private redis-server on a free port with its data in a temporary folder (tests' and the bench's own). */
export async function startRedisServer(
  dirPrefix: string,
): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), dirPrefix));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn('redis-server', [...args, '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await waitForRedis(url);
  return {
    url,
    child,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
