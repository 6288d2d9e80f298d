/**
 * start-up: `npm start` (node dist/main.js, as the npm script runs it; dist/ is built first when a source file is newer)
 * with Telegram + ComfyUI fakes and the bench's redis-server, spawn → the "ready" log line. Median of 3 runs (each
 * child stopped with SIGTERM). The child's RSS and the CPU time it used up to "ready" are read from /proc (Linux): on a
 * shared machine the CPU time moves much less than the wall-clock time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleSource } from '../../src/app/code-layout.js';
import { startFakeComfy } from '../../tests/fakes/comfy/server.js';
import { startFakeTelegram } from '../../tests/fakes/telegram/server.js';
import { fakeModels } from '../../tests/support/config.js';
import { TOKEN } from '../../tests/support/telegram-harness.js';
import { pct, until, type Scenario } from '../lib.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

const scenario: Scenario = {
  name: 'start-up',
  target: '≤ 1.5 s',
  async run(ctx) {
    const comfy = await startFakeComfy({ models: fakeModels });
    const telegram = await startFakeTelegram({ token: TOKEN });
    const times: number[] = [];
    const rssMB: number[] = [];
    const cpuMs: number[] = [];
    if (await staleSource(root))
      execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      for (let i = 0; i < 3; i++) {
        const env = {
          ...process.env,
          STORAGE_DIR: mkdtempSync(path.join(ctx.dir, 'start-')),
          COMFY_URL: comfy.url,
          REDIS_URL: ctx.redisUrl,
          QUEUE_PREFIX: `benchstart${i}`,
          TELEGRAM_BOT_TOKEN: TOKEN,
          TELEGRAM_API_ROOT: telegram.apiRoot,
          TELEGRAM_API_LOCAL: 'false',
          LOG_LEVEL: 'info',
          HTTP_PORT: '0',
        };
        const t0 = performance.now();
        const child = spawn(process.execPath, ['dist/main.js'], {
          cwd: root,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let log = '';
        child.stdout.on('data', (d: Buffer) => (log += d.toString()));
        child.stderr.on('data', (d: Buffer) => (log += d.toString()));
        const exited = new Promise((r) => child.once('exit', r));
        try {
          await until(() => log.includes('"msg":"ready"') || child.exitCode !== null, 'npm start to be ready', 30_000);
          if (!log.includes('"msg":"ready"')) throw new Error(`npm start exited: ${log.slice(-300)}`);
          times.push(performance.now() - t0);
          const use = usageOf(child.pid);
          if (use) {
            rssMB.push(use.rssMB);
            cpuMs.push(use.cpuMs);
          }
        } finally {
          child.kill('SIGTERM');
          await exited;
        }
      }
    } finally {
      await telegram.close();
      await comfy.close();
    }
    const med = pct(times, 50);
    const use = rssMB.length
      ? `; at ready: RSS ${Math.round(pct(rssMB, 50))} MB, CPU ${Math.round(pct(cpuMs, 50))} ms (medians)`
      : '';
    return {
      measured: `median ${Math.round(med)} ms (${times.map(Math.round).join(', ')} ms)${use}`,
      met: med <= 1500,
      details: { runsMs: times, rssMB, cpuMs },
    };
  },
};
export default scenario;

/** A process's resident memory (MB) and CPU time so far (user + system, ms), from /proc; undefined without /proc. */
function usageOf(pid: number | undefined): { rssMB: number; cpuMs: number } | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks of 1/100 s, counted after the ") " of the name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(stat[11]) + Number(stat[12]);
    return kb && Number.isFinite(ticks) ? { rssMB: Number(kb) / 1024, cpuMs: ticks * 10 } : undefined;
  } catch {
    return undefined;
  }
}
