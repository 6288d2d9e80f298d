import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/*
 * Without REDIS_URL, `npm start` runs a private redis-server child: loopback only, data (AOF) under
 * STORAGE_DIR/redis, `noeviction` as BullMQ requires. Its port is written to STORAGE_DIR/redis/embedded.json
 * so `npm run cli` finds the running instance instead of starting a second one.
 *
 * It is supervised: when it dies on its own it is started again on the same port with the same data directory,
 * so every ioredis/BullMQ connection reconnects to the same URL and finds its jobs (AOF) again. When it cannot be
 * restarted, onFatal is called once: a relay without its queue must exit, not sit there taking no jobs.
 * It runs in its own process group (detached) so a terminal's Ctrl-C reaches only us, and we stop it last,
 * after the workers have handed their jobs back.
 */
export interface EmbeddedRedis {
  url: string;
  /** True when this process started the server (and so stops it). */
  isOwner: boolean;
  /** PID of the redis-server running now (undefined when not the owner, or while it is being restarted). */
  pid(): number | undefined;
  stop(): Promise<void>;
  /** Synchronous SIGTERM for the last moment (process exit, shutdown deadline); redis-server still writes its AOF. */
  kill(): void;
}

export interface EmbeddedRedisOptions {
  persist?: boolean;
  /** Called once when the server died and could not be restarted. Default: exit the process with code 1. */
  onFatal?: (err: EmbeddedRedisError) => void;
  /** The wait before each restart attempt; as many attempts as entries. */
  restartDelaysMs?: number[];
  /** A server up this long counts as healthy again: the attempts start over at its next death. */
  stableAfterMs?: number;
  /** The redis-server binary. */
  command?: string;
  /** How restart delays are waited out (a test passes its own clock). */
  wait?: (ms: number) => Promise<void>;
}

/** redis-server would not start or came back no more; holds what it last said. */
export class EmbeddedRedisError extends Error {
  constructor(
    message: string,
    readonly output: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EmbeddedRedisError';
  }
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

/** embedded.json: where the server listens, and which process of ours runs it. */
function readInfo(storageDir: string): { port: number; pid?: number; ownerPid?: number } | undefined {
  try {
    return JSON.parse(readFileSync(path.join(storageDir, 'redis', 'embedded.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The embedded Redis another process of ours already runs for this STORAGE_DIR, if any. */
export async function findEmbeddedRedis(storageDir: string): Promise<string | undefined> {
  const info = readInfo(storageDir);
  if (!info) return undefined;
  const url = `redis://127.0.0.1:${info.port}`;
  return (await ping(url)) ? url : undefined;
}

/** SHUTDOWN writes the AOF and exits; the command's own connection drops, so its error is expected. */
async function shutDown(url: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  await r
    .connect()
    .then(() => r.call('SHUTDOWN'))
    .catch(() => undefined);
  r.disconnect();
  for (let i = 0; i < 100 && (await ping(url, 200)); i++) await sleep(100);
}

/** The last two warnings redis-server logged: the cause ("…: bind: Address already in use") and "aborting". */
function complaintIn(output: string): string {
  const lines = output.split('\n').filter((l) => l.trim());
  const warnings = lines.filter((l) => l.includes(' # ')).map((l) => l.slice(l.indexOf(' # ') + 3).trim());
  return warnings.length ? warnings.slice(-2).join(' ') : (lines.at(-1)?.trim() ?? '');
}

export async function startEmbeddedRedis(
  storageDir: string,
  logger: Logger,
  opts: EmbeddedRedisOptions = {},
): Promise<EmbeddedRedis> {
  const log = logger.child({ module: 'embedded-redis' });
  const existing = await findEmbeddedRedis(storageDir);
  const ownerPid = readInfo(storageDir)?.ownerPid;
  if (existing && (ownerPid === undefined || isRunning(ownerPid))) {
    log.info({ url: existing }, 'using the embedded Redis another comfy-relay process runs');
    return { url: existing, isOwner: false, pid: () => undefined, stop: async () => undefined, kill: () => undefined };
  }
  if (existing) {
    // Its owner was killed (SIGKILL, OOM) before it could stop it: stop it cleanly and run our own on the same data.
    log.warn({ url: existing, ownerPid }, 'replacing the embedded Redis a killed comfy-relay left running');
    await shutDown(existing);
  }
  const dir = path.join(storageDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const infoFile = path.join(dir, 'embedded.json');
  const command = opts.command ?? 'redis-server';
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--maxmemory-policy', 'noeviction', '--appendonly', opts.persist === false ? 'no' : 'yes');

  /** Starts redis-server and resolves once it answers PING. */
  async function launch(): Promise<ChildProcess> {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const keep = (d: Buffer) => void (output = (output + d.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const early = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(`exited with ${signal ?? code}`));
      child.once('error', (err) => resolve(`could not be run (${err.message})`));
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const problem = await Promise.race([early, sleep(100).then(() => undefined)]);
      if (problem) {
        const said = complaintIn(output);
        throw new EmbeddedRedisError(`redis-server ${problem}${said ? `: ${said}` : ''}`, output);
      }
      if (await ping(url, 500)) return child;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new EmbeddedRedisError('redis-server did not answer within 10 s', output);
      }
    }
  }

  let child: ChildProcess | undefined;
  try {
    child = await launch();
  } catch (err) {
    throw new EmbeddedRedisError(
      `could not start the embedded Redis: ${(err as Error).message}. Install redis-server (Debian: apt-get install redis-server) or set REDIS_URL`,
      (err as EmbeddedRedisError).output ?? '',
      { cause: err },
    );
  }

  const delays = opts.restartDelaysMs ?? [500, 1000, 2000, 4000, 8000];
  const wait = opts.wait ?? ((ms: number) => sleep(ms));
  const onFatal = opts.onFatal ?? (() => process.exit(1));
  let isStopping = false;
  let upSince = Date.now();
  let attempts = 0;

  const isAlive = (c: ChildProcess | undefined) => c !== undefined && c.exitCode === null && c.signalCode === null;
  const adopt = (c: ChildProcess) => {
    child = c;
    upSince = Date.now();
    writeFileSync(infoFile, JSON.stringify({ port, pid: c.pid, ownerPid: process.pid }));
    c.once('exit', (code, signal) => {
      if (isStopping || child !== c) return;
      child = undefined;
      void recover(code, signal);
    });
  };

  async function recover(code: number | null, signal: NodeJS.Signals | null) {
    if (Date.now() - upSince >= (opts.stableAfterMs ?? 60_000)) attempts = 0;
    log.warn({ code, signal, url }, 'embedded Redis exited unexpectedly; restarting it on the same port');
    let last: Error | undefined;
    while (attempts < delays.length) {
      await wait(delays[attempts] ?? 0);
      attempts += 1;
      if (isStopping) return;
      try {
        const c = await launch();
        if (isStopping) {
          c.kill('SIGTERM');
          return;
        }
        adopt(c);
        log.info({ url, attempt: attempts }, 'embedded Redis restarted; its data was kept (AOF)');
        return;
      } catch (err) {
        last = err as Error;
        log.warn({ attempt: attempts, of: delays.length, reason: last.message }, 'embedded Redis restart failed');
      }
    }
    rmSync(infoFile, { force: true });
    const fatal = new EmbeddedRedisError(
      `the embedded Redis died and could not be restarted on ${url} after ${delays.length} attempts (${last?.message ?? 'stopped'}); exiting`,
      last instanceof EmbeddedRedisError ? last.output : '',
      { cause: last },
    );
    log.fatal({ dir }, fatal.message);
    onFatal(fatal);
  }

  const kill = () => {
    isStopping = true;
    process.off('exit', kill);
    rmSync(infoFile, { force: true });
    if (isAlive(child)) child?.kill('SIGTERM');
  };
  // Whatever ends this process (a crash, the shutdown deadline), the server must not outlive it.
  process.on('exit', kill);
  adopt(child);
  log.info({ url, dir }, 'embedded Redis started');

  return {
    url,
    isOwner: true,
    pid: () => (isAlive(child) ? child?.pid : undefined),
    kill,
    async stop() {
      const c = child;
      kill();
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      log.info('embedded Redis stopped');
    },
  };
}
