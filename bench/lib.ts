import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { startRedisServer } from '../tests/support/redis-server.js';
import { loadConfig, type Config } from '../src/config.js';

export const SCALE = Number(process.env.BENCH_SCALE ?? '1') || 1;
/** n scaled by BENCH_SCALE, never below min. */
export const scaled = (n: number, min = 2) => Math.max(min, Math.round(n * SCALE));

export interface Row {
  scenario: string;
  measured: string;
  target: string;
  met: boolean | null;
  details?: Record<string, unknown>;
}

export interface BenchContext {
  redisUrl: string;
  dir: string;
}

export type Scenario = {
  name: string;
  target: string;
  run: (ctx: BenchContext) => Promise<Omit<Row, 'scenario' | 'target'>>;
};

/** The bench's own redis-server (the same helper the tests use). */
export const startRedis = () => startRedisServer('relay-bench-redis-');

/** Lets tests/support modules that call vitest's inject('redisUrl') run outside vitest. */
export function provideRedisToTestSupport(redisUrl: string) {
  (globalThis as Record<string, unknown>).__vitest_worker__ = { providedContext: { redisUrl } };
}

let prefixN = 0;
export function benchConfig(ctx: BenchContext, env: Record<string, string> = {}): Config {
  const storage = mkdtempSync(path.join(ctx.dir, 'storage-'));
  return loadConfig({
    REDIS_URL: ctx.redisUrl,
    STORAGE_DIR: storage,
    QUEUE_PREFIX: `bench${process.pid}x${prefixN++}`,
    LOG_LEVEL: 'silent',
    PROGRESS_INTERVAL_S: '1',
    ...env,
  });
}

export const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
/** Nearest-rank percentile. */
export function pct(xs: number[], p: number): number {
  const s = sorted(xs);
  if (!s.length) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const r1 = (x: number) => Math.round(x * 10) / 10;
export const r3 = (x: number) => Math.round(x * 1000) / 1000;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
