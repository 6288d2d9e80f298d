import type { Redis } from 'ioredis';

/**
 * Readiness checks behind /readyz. Each role registers what it depends on (Redis, SQLite, its ComfyUI); a check
 * passes when it resolves. Every check runs at once with one timeout, so a dead dependency answers "timed out"
 * instead of holding the probe open.
 */
export type ReadinessCheck = () => unknown;

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

export interface ReadinessReport {
  ok: boolean;
  /** Names of the checks that failed. */
  failing: string[];
  checks: Record<string, CheckResult>;
}

export interface Readiness {
  add(name: string, check: ReadinessCheck): void;
  run(): Promise<ReadinessReport>;
}

export function createReadiness(opts: { timeoutMs?: number } = {}): Readiness {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const checks = new Map<string, ReadinessCheck>();
  const one = async (check: ReadinessCheck): Promise<CheckResult> => {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => check())(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return { ok: true, ms: Math.round(performance.now() - started) };
    } catch (err) {
      // Messages only (they are ours and the drivers'), cut short: this endpoint may be reachable from outside.
      const error = String((err as Error)?.message ?? err).slice(0, 200);
      return { ok: false, ms: Math.round(performance.now() - started), error };
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    /** The same name again replaces the check (two workers on one ComfyUI share one). */
    add(name, check) {
      checks.set(name, check);
    },
    async run() {
      const entries = [...checks];
      const results = await Promise.all(entries.map(([, check]) => one(check)));
      const report: ReadinessReport = { ok: true, failing: [], checks: {} };
      for (const [i, [name]] of entries.entries()) {
        const r = results[i] as CheckResult;
        report.checks[name] = r;
        if (!r.ok) report.failing.push(name);
      }
      report.ok = report.failing.length === 0;
      return report;
    },
  };
}

/**
 * Redis answers PING. A connection that is not ready fails at once: a worker's connection (maxRetriesPerRequest
 * null) would otherwise queue the PING until Redis comes back.
 */
export const redisCheck = (redis: Pick<Redis, 'status' | 'ping'>) => async () => {
  if (redis.status !== 'ready') throw new Error(`connection is ${redis.status}`);
  const pong = await redis.ping();
  if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
};

/** The history database answers a query. */
export const sqliteCheck = (db: { prepare(sql: string): { get(): unknown } }) => () => {
  db.prepare('select 1').get();
};

/** ComfyUI answers /system_stats (cheap, and it fails while ComfyUI is still loading). */
export const comfyCheck = (client: { systemStats(): Promise<unknown> }) => () => client.systemStats();
