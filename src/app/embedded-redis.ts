import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * Without REDIS_URL, `npm start` runs a private redis-server child: loopback only, data (AOF) under
 * STORAGE_DIR/redis, `noeviction` as BullMQ requires. Its port is written to STORAGE_DIR/redis/embedded.json
 * so `npm run cli` finds the running instance instead of starting a second one.
 */
export interface EmbeddedRedis {
  url: string;
  /** True when this process started the server (and so stops it). */
  isOwner: boolean;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

async function ping(url: string, timeoutMs = 1000): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** The embedded Redis another process of ours already runs for this STORAGE_DIR, if any. */
export async function findEmbeddedRedis(storageDir: string): Promise<string | undefined> {
  try {
    const info = JSON.parse(readFileSync(path.join(storageDir, 'redis', 'embedded.json'), 'utf8')) as { port: number };
    const url = `redis://127.0.0.1:${info.port}`;
    return (await ping(url)) ? url : undefined;
  } catch {
    return undefined;
  }
}

export async function startEmbeddedRedis(
  storageDir: string,
  logger: Logger,
  opts: { persist?: boolean } = {},
): Promise<EmbeddedRedis> {
  const log = logger.child({ module: 'embedded-redis' });
  const existing = await findEmbeddedRedis(storageDir);
  if (existing) {
    log.info({ url: existing }, 'using the embedded Redis another comfy-relay process runs');
    return { url: existing, isOwner: false, stop: async () => undefined };
  }
  const dir = path.join(storageDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
  ];
  args.push('--appendonly', opts.persist === false ? 'no' : 'yes');
  let child: ChildProcess;
  try {
    child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(
      'could not start redis-server; install it (Debian: apt-get install redis-server) or set REDIS_URL',
      { cause: err },
    );
  }
  const url = `redis://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));

  const deadline = Date.now() + 10_000;
  for (;;) {
    const early = await Promise.race([
      exited.then((c) => `exited with ${c}`),
      spawnError.then((e) => e.message),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)),
    ]);
    if (early)
      throw new Error(`redis-server failed to start (${early}); install redis-server or set REDIS_URL\n${output}`);
    if (await ping(url, 500)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer within 10 s\n${output}`);
    }
  }
  const infoFile = path.join(dir, 'embedded.json');
  writeFileSync(infoFile, JSON.stringify({ port, pid: child.pid }));
  log.info({ url, dir }, 'embedded Redis started');
  return {
    url,
    isOwner: true,
    async stop() {
      rmSync(infoFile, { force: true });
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      log.info('embedded Redis stopped');
    },
  };
}
