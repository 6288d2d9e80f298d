import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { until } from '../support/pipeline.js';
import { captureStream } from '../support/streams.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm start without REDIS_URL', () => {
  let comfy: FakeComfy | undefined;
  afterEach(async () => comfy?.close());

  it('runs a private Redis and a worker; the CLI uses both; SIGTERM shuts everything down cleanly', async () => {
    comfy = await startFakeComfy({ models: fakeModels });
    const storage = testConfig().storageDir;
    const env = {
      ...process.env,
      STORAGE_DIR: storage,
      COMFY_URL: comfy.url,
      LOG_LEVEL: 'info',
      REDIS_URL: '',
      HTTP_PORT: '0',
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      await until(() => log.includes('"msg":"ready"'), 'npm start to be ready', 20_000);
      expect(existsSync(path.join(storage, 'redis', 'embedded.json'))).toBe(true);

      const out = captureStream();
      const err = captureStream();
      const code = await runCli(
        ['imagine', 'a fox'],
        { STORAGE_DIR: storage, COMFY_URL: comfy.url, LOG_LEVEL: 'silent', PROGRESS_INTERVAL_S: '0.5' },
        { out, err },
      );
      expect(code).toBe(0);
      expect(err.text()).not.toContain('No worker is online'); // the running npm start did the work
      expect(log).toContain('"msg":"job done"');

      // The process's HTTP server: ready (Redis and this worker's ComfyUI answer), and the job in /metrics.
      const port = /"port":(\d+)[^\n]*"msg":"http server listening"/.exec(log)?.[1];
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      const body = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
      expect([ready.status, Object.keys(body.checks).sort()]).toEqual([
        200,
        [`comfy ${new URL(comfy.url).host}`, 'redis'],
      ]);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('comfy_relay_jobs_total{workflow="imagine",outcome="succeeded"} 1');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(log).toContain('"msg":"embedded Redis stopped"');
    expect(existsSync(path.join(storage, 'redis', 'embedded.json'))).toBe(false);
  }, 60_000);
});
