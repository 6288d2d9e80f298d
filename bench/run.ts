/**
 * npm run bench — orchestration overhead per job: everything comfy-relay adds around the GPU work
 * (validation, history, BullMQ, WebSocket following, /history + /view downloads, delivery), measured end to
 * end against the protocol fake, whose execution time stands in for GPU time. Target: ≤ 2 % of GPU time.
 * Prints a table and writes bench/results.json. Timings live here, never in pass/fail tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedRedis } from '../src/app/embedded-redis.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startFakeComfy } from '../tests/fakes/comfy/server.js';
import { recordingSink, startPipeline } from '../tests/support/pipeline.js';

const scenarios = [
  { name: 'imagine 512², 20 steps × 25 ms', jobs: 20, steps: 20, stepMs: 25, count: 1 },
  { name: 'imagine 512², 20 steps × 100 ms', jobs: 10, steps: 20, stepMs: 100, count: 1 },
  { name: 'imagine 768×432 ×4, 30 steps × 50 ms', jobs: 8, steps: 30, stepMs: 50, count: 4 },
];

async function main() {
  const logger = createLogger({ level: 'silent' });
  const dir = mkdtempSync(path.join(tmpdir(), 'relay-bench-'));
  const redis = await startEmbeddedRedis(dir, logger, { persist: false });
  const rows = [];
  try {
    for (const sc of scenarios) {
      const comfy = await startFakeComfy({
        models: { 'CheckpointLoaderSimple.ckpt_name': ['v1-5-pruned-emaonly.safetensors'] },
        defaultStepDelayMs: sc.stepMs,
      });
      const config = loadConfig({
        REDIS_URL: redis.url,
        STORAGE_DIR: path.join(dir, sc.name.replace(/\W+/g, '-')),
        QUEUE_PREFIX: `bench${rows.length}`,
        LOG_LEVEL: 'silent',
        PROGRESS_INTERVAL_S: '1',
      });
      const pipeline = await startPipeline(config, logger);
      await pipeline.startWorker(comfy.url, { pollIntervalMs: 15_000 });
      const gpu: number[] = [];
      const total: number[] = [];
      const requestsBefore = comfy.requests.length;
      // Sequential jobs: each is measured alone, so queueing time does not hide in the numbers.
      for (let i = 0; i < sc.jobs; i++) {
        const t0 = performance.now();
        const rec = recordingSink();
        const job = await pipeline.tracker.submit({
          workflow: 'imagine',
          params: { prompt: `bench ${i}`, steps: sc.steps, count: sc.count, aspect: sc.count > 1 ? '16:9' : '1:1' },
          requester: { platform: 'cli', userId: 'bench', locale: 'en' },
          sink: rec.sink,
        });
        await job.done;
        total.push(performance.now() - t0);
        const rt = comfy.runTimes.get(job.jobId);
        if (!rt?.end || rec.results.length !== 1) throw new Error(`job ${i} did not complete`);
        gpu.push(rt.end - rt.start);
      }
      const httpPerJob = (comfy.requests.length - requestsBefore) / sc.jobs;
      await pipeline.close();
      await comfy.close();
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const overhead = total.map((t, i) => t - (gpu[i] as number));
      const p95 = [...overhead].sort((a, b) => a - b)[Math.floor(overhead.length * 0.95) - 1] ?? 0;
      rows.push({
        scenario: sc.name,
        jobs: sc.jobs,
        gpuMs: Math.round(mean(gpu)),
        endToEndMs: Math.round(mean(total)),
        overheadMs: Math.round(mean(overhead)),
        overheadP95Ms: Math.round(p95),
        overheadPct: Number(((mean(overhead) / mean(gpu)) * 100).toFixed(2)),
        httpCallsPerJob: Number(httpPerJob.toFixed(1)),
      });
    }
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const header = [
    'scenario',
    'jobs',
    'GPU ms',
    'end-to-end ms',
    'overhead ms',
    'overhead p95 ms',
    'overhead %',
    'HTTP calls/job',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows)
    lines.push(
      `| ${[r.scenario, r.jobs, r.gpuMs, r.endToEndMs, r.overheadMs, r.overheadP95Ms, r.overheadPct, r.httpCallsPerJob].join(' | ')} |`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
  writeFileSync(
    new URL('./results.json', import.meta.url),
    `${JSON.stringify({ at: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
