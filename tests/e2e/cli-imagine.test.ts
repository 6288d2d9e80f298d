import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { openDb } from '../../src/history/db.js';
import { createJobsRepo } from '../../src/history/jobs-repo.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { captureStream } from '../support/streams.js';

describe('npm run cli -- imagine (end to end: CLI → real Redis → worker → fake ComfyUI → files + history)', () => {
  let comfy: FakeComfy;
  let env: Record<string, string>;
  let storage: string;

  beforeEach(async () => {
    comfy = await startFakeComfy({ models: fakeModels });
    const cfg = testConfig();
    storage = cfg.storageDir;
    env = {
      REDIS_URL: cfg.redisUrl as string,
      STORAGE_DIR: storage,
      QUEUE_PREFIX: cfg.queuePrefix,
      COMFY_URL: comfy.url,
      LOG_LEVEL: 'silent',
      PROGRESS_INTERVAL_S: '0.5',
    };
  });
  afterEach(async () => {
    await comfy.close();
  });

  const history = () => createJobsRepo({ db: openDb(path.join(storage, 'history.db')) });

  it('generates the requested images, saves PNGs under outputs/<job id> and records the job', async () => {
    const out = captureStream();
    const err = captureStream();
    const outDir = path.join(storage, 'mine');
    const code = await runCli(
      ['imagine', 'a red fox in snow', '--count', '2', '--aspect', '16:9', '--out', outDir],
      env,
      { out, err },
    );
    expect(err.text()).toContain('No worker is online');
    expect(code).toBe(0);
    const copied = readdirSync(outDir).sort();
    expect(copied).toHaveLength(2);
    const meta = await sharp(path.join(outDir, copied[0] as string)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 768, 432]);

    const repo = history();
    const [job] = repo.page({ platform: 'cli', userId: process.env.USER ?? 'local' }, 0, 10).items;
    expect(job?.status).toBe('succeeded');
    expect(job?.outputs.map((o) => o.path)).toEqual([`outputs/${job?.id}/01.png`, `outputs/${job?.id}/02.png`]);
    expect(typeof job?.params.seed).toBe('number');
    expect(job?.params).toMatchObject({ prompt: 'a red fox in snow', count: 2, aspect: '16:9' });
    expect(job?.comfyUrl).toBe(comfy.url);
    expect(out.text()).toContain('Done in');

    // What ComfyUI received: our prompt_id (= job id), our seed, the aspect's size.
    const submitted = comfy.requests.find((r) => r.path === '/prompt')?.body as {
      prompt_id: string;
      prompt: Record<string, { inputs: Record<string, unknown> }>;
    };
    expect(submitted.prompt_id).toBe(job?.id);
    expect(submitted.prompt.sampler?.inputs.seed).toBe(job?.params.seed);
    expect(submitted.prompt.latent?.inputs).toMatchObject({ width: 768, height: 432, batch_size: 2 });
  });

  it('reports a model ComfyUI does not have as a clear, non-retried failure naming node and input', async () => {
    const out = captureStream();
    const code = await runCli(['imagine', 'a fox', '--model', 'missing.safetensors'], env, {
      out,
      err: captureStream(),
    });
    expect(code).toBe(1);
    expect(out.text()).toMatch(
      /ComfyUI refused the workflow at node ckpt \(CheckpointLoaderSimple\).*ckpt_name.*missing\.safetensors/s,
    );
    expect(comfy.submissions()).toBe(1); // not retried
    const [job] = history().page({ platform: 'cli', userId: process.env.USER ?? 'local' }, 0, 1).items;
    expect(job?.status).toBe('failed');
    expect(job?.error).toMatch(/^rejected: /);
  });

  it('refuses bad options before anything is queued, in the user’s language', async () => {
    const err = captureStream();
    const code = await runCli(
      ['imagine', 'x'.repeat(1001)],
      { ...env, LANG: 'zh_TW.UTF-8' },
      { out: captureStream(), err },
    );
    expect(code).toBe(2);
    expect(err.text()).toContain('提示詞太長：1001 個字元，上限為 1000');
    const err2 = captureStream();
    expect(await runCli(['imagine', 'fox', '--colour', 'red'], env, { out: captureStream(), err: err2 })).toBe(2);
    expect(err2.text()).toContain('Unknown option --colour');
    expect(comfy.submissions()).toBe(0);
  });
});

describe('npm run cli on its own (no REDIS_URL, no worker running)', () => {
  it('runs a private redis-server and a worker for the job, then stops the server', async () => {
    const comfy = await startFakeComfy({ models: fakeModels });
    try {
      const storage = testConfig().storageDir;
      const out = captureStream();
      const code = await runCli(
        ['imagine', 'a fox'],
        { STORAGE_DIR: storage, COMFY_URL: comfy.url, LOG_LEVEL: 'silent', PROGRESS_INTERVAL_S: '0.5' },
        { out, err: captureStream() },
      );
      expect(code).toBe(0);
      expect(out.text()).toMatch(/outputs\/[0-9a-f-]{36}\/01\.png/);
      // The embedded server announced itself while running and is gone afterwards.
      expect(readdirSync(path.join(storage, 'redis'))).not.toContain('embedded.json');
      expect(readdirSync(path.join(storage, 'redis'))).toContain('appendonlydir');
    } finally {
      await comfy.close();
    }
  });
});

describe('npm run cli -- doctor', () => {
  it('prints ✔ for what works and ✘ for a missing model, and exits 1', async () => {
    const comfy = await startFakeComfy({ models: { 'CheckpointLoaderSimple.ckpt_name': ['other.safetensors'] } });
    try {
      const cfg = testConfig();
      const out = captureStream();
      const code = await runCli(
        ['doctor'],
        { REDIS_URL: cfg.redisUrl as string, COMFY_URL: comfy.url, STORAGE_DIR: cfg.storageDir, LOG_LEVEL: 'silent' },
        { out, err: captureStream() },
      );
      expect(code).toBe(1);
      const lines = out.text().trim().split('\n');
      expect(lines[0]).toMatch(/^✔ Redis reachable \(redis:\/\/127\.0\.0\.1:\d+, v[\d.]+\)$/);
      expect(lines[1]).toBe(
        `✔ ComfyUI ${comfy.url} reachable (version 0.3.64, cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync)`,
      );
      expect(lines).toContain(
        `✘ imagine on ${comfy.url}: model "v1-5-pruned-emaonly.safetensors" (ckpt.ckpt_name) is not installed`,
      );
    } finally {
      await comfy.close();
    }
  });

  it('says plainly when ComfyUI is unreachable', async () => {
    const cfg = testConfig();
    const out = captureStream();
    const code = await runCli(
      ['doctor'],
      {
        REDIS_URL: cfg.redisUrl as string,
        COMFY_URL: 'http://127.0.0.1:9',
        STORAGE_DIR: cfg.storageDir,
        LOG_LEVEL: 'silent',
      },
      { out, err: captureStream() },
    );
    expect(code).toBe(1);
    expect(out.text()).toMatch(
      /✘ ComfyUI http:\/\/127\.0\.0\.1:9 not reachable: ComfyUI at http:\/\/127\.0\.0\.1:9 unavailable: GET \/system_stats: fetch failed/,
    );
  });
});
