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
    env = { REDIS_URL: cfg.redisUrl as string, STORAGE_DIR: storage, QUEUE_PREFIX: cfg.queuePrefix, COMFY_URL: comfy.url, LOG_LEVEL: 'silent', PROGRESS_INTERVAL_S: '0.5' };
  });
  afterEach(async () => {
    await comfy.close();
  });

  const history = () => createJobsRepo({ db: openDb(path.join(storage, 'history.db')) });

  it('generates the requested images, saves PNGs under outputs/<job id> and records the job', async () => {
    const out = captureStream();
    const err = captureStream();
    const outDir = path.join(storage, 'mine');
    const code = await runCli(['imagine', 'a red fox in snow', '--count', '2', '--aspect', '16:9', '--out', outDir], env, { out, err });
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
    const submitted = comfy.requests.find((r) => r.path === '/prompt')?.body as { prompt_id: string; prompt: Record<string, { inputs: Record<string, unknown> }> };
    expect(submitted.prompt_id).toBe(job?.id);
    expect(submitted.prompt.sampler?.inputs.seed).toBe(job?.params.seed);
    expect(submitted.prompt.latent?.inputs).toMatchObject({ width: 768, height: 432, batch_size: 2 });
  });

  it('reports a model ComfyUI does not have as a clear, non-retried failure naming node and input', async () => {
    const out = captureStream();
    const code = await runCli(['imagine', 'a fox', '--model', 'missing.safetensors'], env, { out, err: captureStream() });
    expect(code).toBe(1);
    expect(out.text()).toMatch(/ComfyUI refused the workflow at node ckpt \(CheckpointLoaderSimple\).*ckpt_name.*missing\.safetensors/s);
    expect(comfy.submissions()).toBe(1); // not retried
    const [job] = history().page({ platform: 'cli', userId: process.env.USER ?? 'local' }, 0, 1).items;
    expect(job?.status).toBe('failed');
    expect(job?.error).toMatch(/^rejected: /);
  });

  it('refuses bad options before anything is queued, in the user’s language', async () => {
    const err = captureStream();
    const code = await runCli(['imagine', 'x'.repeat(1001)], { ...env, LANG: 'zh_TW.UTF-8' }, { out: captureStream(), err });
    expect(code).toBe(2);
    expect(err.text()).toContain('提示詞太長：1001 個字元，上限為 1000');
    const err2 = captureStream();
    expect(await runCli(['imagine', 'fox', '--colour', 'red'], env, { out: captureStream(), err: err2 })).toBe(2);
    expect(err2.text()).toContain('Unknown option --colour');
    expect(comfy.submissions()).toBe(0);
  });
});
