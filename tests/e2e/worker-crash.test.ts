import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';
import { recordingSink, startPipeline, until } from '../support/pipeline.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('a worker killed with SIGKILL mid-job', () => {
  let comfy: FakeComfy | undefined;
  let pipeline: Awaited<ReturnType<typeof startPipeline>> | undefined;
  afterEach(async () => {
    await pipeline?.close();
    await comfy?.close();
  });

  it('loses nothing: stalled-job recovery re-attaches to the prompt already in ComfyUI instead of running it twice', async () => {
    comfy = await startFakeComfy({ models: fakeModels });
    comfy.script({ holdAt: 'sampler' });
    const config = testConfig({ WORKER_LOCK_S: '2' });
    const { logger, lines } = memoryLogger('info');
    pipeline = await startPipeline(config, logger);

    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'worker'], {
      cwd: root,
      env: {
        ...process.env,
        REDIS_URL: config.redisUrl,
        COMFY_URL: comfy.url,
        STORAGE_DIR: config.storageDir,
        QUEUE_PREFIX: config.queuePrefix,
        WORKER_LOCK_S: '2',
        LOG_LEVEL: 'warn',
        HTTP_PORT: '0',
      },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', r));
    const rec = recordingSink();
    const job = await pipeline.tracker.submit({
      workflow: 'imagine',
      params: { prompt: 'a fox' },
      requester: { platform: 'cli', userId: 'u', locale: 'en' },
      sink: rec.sink,
    });
    await until(() => comfy?.isHolding(), 'the child worker to start the prompt on ComfyUI', 20_000);
    child.kill('SIGKILL');
    await exited;

    await pipeline.startWorker(comfy.url);
    // Give the new worker time to pick the stalled job up and re-attach, then let ComfyUI finish.
    await until(
      () =>
        lines.some((l) => l.msg === 'prompt already in the ComfyUI queue; re-attaching' && l.promptId === job.jobId),
      'the new worker to re-attach',
      20_000,
    );
    comfy.release();
    await job.done;

    expect(rec.failures).toEqual([]);
    expect(pipeline.repo.get(job.jobId)?.status).toBe('succeeded');
    expect(comfy.submissions()).toBe(1);
    expect((await pipeline.producer.state(job.jobId, 'imagine'))?.result?.resumedFrom).toBe('queue');
  }, 60_000);
});
