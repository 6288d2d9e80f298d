/**
 * The product as users start it: `npm start -- <role>` as a child process (whatever the start script runs: node on
 * dist/main.js, built first when a source is newer, or tsx on src/main.ts), with its memory and CPU read from /proc, so
 * what the bench measures is our process and not the bench's fakes. The process measured is the one that runs main: its
 * pid is read from the JSON log lines (pino writes `"pid"` on each), so npm, sh and a tsx launcher in between are not
 * in the numbers (their RSS is reported on the side). BENCH_CHILD_NODE_OPTIONS is given to the children as
 * NODE_OPTIONS; with BENCH_CHILD_LOG_DIR set, each child's output is also written to a file there.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleSource } from '../src/app/code-layout.js';
import type { FakeTelegram } from '../tests/fakes/telegram/server.js';
import { TOKEN } from '../tests/support/telegram-harness.js';
import { type BenchContext, sleep, until } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ; 100 on every Linux build we run on). */
const TICKS_PER_S = 100;
const LOG_TAIL = 20_000;

export type Role = 'all' | 'bot' | 'worker';

let prefixN = 0;
/**
 * Settings for a product child: the bench's Redis, a fresh STORAGE_DIR and queue prefix, the default LOG_LEVEL
 * (info, as users run it; the "ready" line must get through), and quotas out of the way of a load test.
 */
export function productEnv(ctx: BenchContext, env: Record<string, string> = {}): Record<string, string> {
  // BENCH_CHILD_NODE_OPTIONS=--cpu-prof (or --heap-prof, --max-semi-space-size=…) reaches every node in the child.
  const nodeOptions = process.env.BENCH_CHILD_NODE_OPTIONS;
  return {
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    REDIS_URL: ctx.redisUrl,
    STORAGE_DIR: mkdtempSync(path.join(ctx.dir, 'product-')),
    QUEUE_PREFIX: `benchp${process.pid}x${prefixN++}`,
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_MINUTE: '1000',
    MAX_QUEUED_PER_USER: '100',
    ...env,
  };
}

/** The settings that point a bot process at the fake Telegram. */
export const telegramEnv = (telegram: FakeTelegram) => ({
  TELEGRAM_BOT_TOKEN: TOKEN,
  TELEGRAM_API_ROOT: telegram.apiRoot,
  TELEGRAM_API_LOCAL: 'false',
});

/** VmRSS or VmHWM (peak RSS) of a process in MB; NaN once it has gone. */
export function memoryMB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU a process has used so far, in ms (not its children's). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after "(comm)": state is field 3, utime 14 and stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_S;
}

/** The processes below `pid` (children, grandchildren…), from /proc/<n>/stat's ppid. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) out.push(child), walk(child);
  };
  walk(pid);
  return out;
}

export interface ProductProcess {
  role: Role;
  /** The process that runs main (not npm's). */
  pid: number;
  /** Its current RSS in MB. */
  rssMB(): number;
  /** Its peak RSS in MB, as the kernel counted it (VmHWM). */
  peakMB(): number;
  cpuMs(): number;
  /** RSS of the launchers between the bench and main (npm, sh, a tsx CLI), in MB. */
  launcherMB(): number;
  /** JSON log lines seen so far. */
  lines(): number;
  /** The last part of its output, for error messages. */
  tail(): string;
  /** SIGTERM to main (a graceful shutdown), SIGKILL after `timeoutMs`; resolves with npm's exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

const live = new Set<ChildProcess>();
// A scenario that timed out may leave children behind when run.ts exits: they go with it.
process.once('exit', () => {
  for (const c of live) {
    for (const p of c.pid ? descendants(c.pid) : []) killQuietly(p, 'SIGKILL');
    c.kill('SIGKILL');
  }
});
const killQuietly = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
};

let built: Promise<void> | undefined;
/** `npm start` runs the compiled dist/ when the start script says so: built once a run when a source is newer. */
function buildIfStale() {
  built ??= (async () => {
    const script = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson).scripts;
    if (!script?.start?.includes('dist/') || !script.build || !(await staleSource(root))) return;
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  })();
  return built;
}
type PackageJson = { scripts?: Record<string, string> };

/**
 * Starts `npm start -- <role>` with `env` on top of the bench's environment, and resolves once it has logged
 * "ready" (rejects with its output when it exits first or takes over `timeoutMs`). LOG_LEVEL must let info through.
 */
export async function startProduct(role: Role, env: Record<string, string>, timeoutMs = 60_000) {
  await buildIfStale();
  const child = spawn('npm', ['start', '--silent', '--', role], {
    cwd: root,
    env: { ...process.env, HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<number | null>((r) => child.once('exit', r)).finally(() => live.delete(child));
  let out = '';
  let lines = 0;
  let pid: number | undefined;
  const logFile = process.env.BENCH_CHILD_LOG_DIR
    ? path.join(process.env.BENCH_CHILD_LOG_DIR, `${role}-${Date.now()}-${child.pid}.log`)
    : undefined;
  const onData = (d: Buffer) => {
    const s = d.toString();
    if (logFile) appendFileSync(logFile, s);
    for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) lines++;
    out = (out + s).slice(-LOG_TAIL);
    pid ??= Number(/"pid":(\d+)/.exec(s)?.[1]) || undefined;
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  try {
    await until(() => out.includes('"msg":"ready"') || child.exitCode !== null, `npm start -- ${role}`, timeoutMs);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${out.slice(-400)}`);
  }
  if (!out.includes('"msg":"ready"') || !pid) throw new Error(`npm start -- ${role} exited: ${out.slice(-400)}`);
  const mainPid = pid;
  const launchers = descendants(child.pid as number)
    .filter((p) => p !== mainPid)
    .concat(child.pid as number);
  const proc: ProductProcess = {
    role,
    pid: mainPid,
    rssMB: () => memoryMB(mainPid),
    peakMB: () => memoryMB(mainPid, 'VmHWM'),
    cpuMs: () => cpuMs(mainPid),
    launcherMB: () => launchers.reduce((s, p) => s + (memoryMB(p) || 0), 0),
    lines: () => lines,
    tail: () => out.slice(-2000),
    async stop(stopTimeoutMs = 20_000) {
      if (child.exitCode !== null) return exited;
      killQuietly(mainPid, 'SIGTERM');
      const timer = setTimeout(() => {
        killQuietly(mainPid, 'SIGKILL');
        child.kill('SIGKILL');
      }, stopTimeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return proc;
}

/** Samples the RSS of each process every `everyMs` (100 ms: the rate) and keeps the highest seen per pid. */
export function sampleRss(procs: ProductProcess[], everyMs = 100) {
  const peak = new Map<number, number>();
  const tick = () => {
    for (const p of procs) {
      const v = p.rssMB();
      if (v > (peak.get(p.pid) ?? 0)) peak.set(p.pid, v);
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    peakMB: (p: ProductProcess) => peak.get(p.pid) ?? Number.NaN,
    stop: () => (tick(), clearInterval(timer)),
  };
}

/** CPU ms used by all of `procs` since this call. */
export function cpuMeter(procs: ProductProcess[]) {
  const at0 = procs.map((p) => p.cpuMs());
  return () => procs.reduce((s, p, i) => s + p.cpuMs() - (at0[i] as number), 0);
}

/**
 * The RSS (MB) once it has stopped moving (by more than 1 MB for `quietMs`; at most `timeoutMs`): right after a burst
 * of jobs it still holds garbage that V8 returns within seconds of idling, which says nothing about what is kept.
 */
export async function settledRss(p: ProductProcess, quietMs = 3000, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last = p.rssMB();
  let since = Date.now();
  while (Date.now() < deadline && Date.now() - since < quietMs) {
    await sleep(100);
    const v = p.rssMB();
    if (Math.abs(v - last) > 1) since = Date.now();
    last = v;
  }
  return last;
}
