/**
 * npm run bench — runs every scenario in bench/scenarios in sequence against a private redis-server child, SQLite
 * and the protocol fakes (ComfyUI, Telegram, Discord); prints one table and writes bench/results.json.
 * BENCH_SCALE (default 1) scales job counts; BENCH_ONLY=a,b runs only scenarios whose name contains one of these.
 * A failing scenario prints "failed: <reason>" in its row; the others still run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { provideRedisToTestSupport, SCALE, startRedis, type Row, type Scenario } from './lib.js';

async function loadScenarios(): Promise<Scenario[]> {
  const mods = await Promise.all(
    [
      import('./scenarios/overhead.js'),
      import('./scenarios/gpu-idle.js'),
      import('./scenarios/fast-gpu.js'),
      import('./scenarios/throughput.js'),
      import('./scenarios/fairness.js'),
      import('./scenarios/edit-discipline.js'),
      import('./scenarios/edit-discipline-discord.js'),
      import('./scenarios/memory.js'),
      import('./scenarios/startup.js'),
      import('./scenarios/history.js'),
      import('./scenarios/warm-models.js'),
    ].map((p) => p.catch((err: Error) => ({ default: null, err }))),
  );
  return mods.flatMap((m) => ('default' in m && m.default ? [m.default as Scenario] : []));
}

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`timed out after ${ms / 1000} s`)), ms).unref()),
  ]);

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'relay-bench-'));
  const redis = await startRedis();
  provideRedisToTestSupport(redis.url);
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);
  const rows: Row[] = [];
  const scenarios = (await loadScenarios()).filter((s) => !only || only.some((o) => s.name.includes(o)));
  try {
    for (const sc of scenarios) {
      const t0 = performance.now();
      process.stderr.write(`… ${sc.name}\n`);
      try {
        const r = await withTimeout(
          sc.run({ redisUrl: redis.url, dir }),
          Number(process.env.BENCH_TIMEOUT_S ?? 900) * 1000,
        );
        rows.push({ scenario: sc.name, target: sc.target, ...r });
      } catch (err) {
        rows.push({ scenario: sc.name, target: sc.target, measured: `failed: ${(err as Error).message}`, met: false });
      }
      process.stderr.write(`  ${rows.at(-1)?.measured} (${Math.round(performance.now() - t0)} ms)\n`);
      writeResults(rows, false); // after every scenario, so an interrupted run still leaves its numbers
    }
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  writeResults(rows, true);
  const header = ['scenario', 'measured', 'target', 'met'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows)
    lines.push(`| ${[r.scenario, r.measured, r.target, r.met === null ? '–' : r.met ? '✔' : '✘'].join(' | ')} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exit(0);
}

function writeResults(rows: Row[], complete: boolean) {
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryMB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
    scale: SCALE,
  };
  writeFileSync(
    new URL('./results.json', import.meta.url),
    `${JSON.stringify({ machine, complete, rows }, null, 2)}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
