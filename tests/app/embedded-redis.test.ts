import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type EmbeddedRedis,
  type EmbeddedRedisError,
  freePort,
  startEmbeddedRedis,
} from '../../src/app/embedded-redis.js';
import { memoryLogger } from '../support/logger.js';
import { until } from '../support/pipeline.js';

describe('embedded redis-server', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  function storageDir() {
    const dir = mkdtempSync(path.join(tmpdir(), 'relay-embedded-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async function start(opts: Parameters<typeof startEmbeddedRedis>[2]) {
    const { logger, lines } = memoryLogger('info');
    const embedded = await startEmbeddedRedis(storageDir(), logger, opts);
    cleanups.push(() => embedded.stop());
    return { embedded, lines };
  }

  function killHard(embedded: EmbeddedRedis): number {
    const pid = embedded.pid();
    if (!pid) throw new Error('no redis-server running');
    process.kill(pid, 'SIGKILL');
    return pid;
  }

  it('comes back on the same port after kill -9, with its keys and BullMQ jobs (AOF)', async () => {
    const fatals: EmbeddedRedisError[] = [];
    const { embedded, lines } = await start({ wait: async () => undefined, onFatal: (e) => fatals.push(e) });
    const redis = new Redis(embedded.url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    const queue = new Queue('embedded-test', { connection: redis });
    cleanups.push(async () => {
      await queue.close();
      redis.disconnect();
    });
    await redis.set('kept', 'yes');
    const job = await queue.add('imagine', { prompt: 'a fox' }, { jobId: 'job-1' });

    const first = killHard(embedded);
    await until(() => embedded.pid() !== undefined && embedded.pid() !== first, 'redis-server to be restarted');

    // Same URL: the connections the app already holds reconnect by themselves.
    expect(await redis.get('kept')).toBe('yes');
    const again = await queue.getJob(job.id as string);
    expect(again?.data).toEqual({ prompt: 'a fox' });
    expect(await again?.getState()).toBe('waiting');
    expect(fatals).toEqual([]);
    expect(lines.map((l) => l.msg)).toContain('embedded Redis restarted; its data was kept (AOF)');
  });

  it('gives up when it cannot be restarted, says why once, and calls onFatal', async () => {
    const fatals: EmbeddedRedisError[] = [];
    // The restart waits are gates this test opens, so the port is surely taken before each attempt.
    const gates: Array<() => void> = [];
    const { embedded, lines } = await start({
      restartDelaysMs: [10, 10],
      wait: () => new Promise<void>((resolve) => gates.push(resolve)),
      onFatal: (e) => fatals.push(e),
    });
    const port = Number(new URL(embedded.url).port);

    killHard(embedded);
    await until(() => gates.length === 1, 'the supervisor to notice the death');
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => squatter.close(resolve)));
    gates[0]?.();
    await until(() => gates.length === 2, 'the second attempt');
    gates[1]?.();
    await until(() => fatals.length > 0, 'onFatal');

    expect(fatals).toHaveLength(1);
    expect(fatals[0]?.message).toContain(`could not be restarted on ${embedded.url} after 2 attempts`);
    expect(fatals[0]?.message).toContain('Address already in use');
    expect(lines.filter((l) => l.level === 60)).toHaveLength(1);
    expect(embedded.pid()).toBeUndefined();
  });

  it('replaces a server left running by a comfy-relay that was killed, keeping its data', async () => {
    const storage = storageDir();
    const dir = path.join(storage, 'redis');
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'];
    const orphan = spawn('redis-server', args, { stdio: 'ignore', detached: true });
    const orphanExited = new Promise((resolve) => orphan.once('exit', resolve));
    cleanups.push(() => orphan.kill('SIGKILL'));
    const url = `redis://127.0.0.1:${port}`;
    const redis = new Redis(url, { retryStrategy: () => 50 });
    redis.on('error', () => undefined);
    cleanups.push(() => redis.disconnect());
    await redis.set('kept', 'yes');
    const deadOwner = spawnSync('true').pid; // a process that has exited: the owner is gone
    writeFileSync(path.join(dir, 'embedded.json'), JSON.stringify({ port, pid: orphan.pid, ownerPid: deadOwner }));

    const { logger, lines } = memoryLogger('info');
    const embedded = await startEmbeddedRedis(storage, logger, { onFatal: () => undefined });
    cleanups.push(() => embedded.stop());
    await orphanExited;
    expect(embedded.isOwner).toBe(true);
    expect(lines.map((l) => l.msg)).toContain('replacing the embedded Redis a killed comfy-relay left running');
    const fresh = new Redis(embedded.url);
    cleanups.push(() => fresh.disconnect());
    expect(await fresh.get('kept')).toBe('yes');
  });

  it('explains what to do when redis-server is not installed', async () => {
    await expect(
      startEmbeddedRedis(storageDir(), memoryLogger('silent').logger, { command: 'no-such-redis-server' }),
    ).rejects.toThrowErrorMatchingInlineSnapshot(
      `[EmbeddedRedisError: could not start the embedded Redis: redis-server could not be run (spawn no-such-redis-server ENOENT). Install redis-server (Debian: apt-get install redis-server) or set REDIS_URL]`,
    );
  });
});
