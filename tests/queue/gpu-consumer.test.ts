import { afterEach, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';
import { recordingSink, startPipeline, until } from '../support/pipeline.js';

describe('a GPU taking jobs itself (manual fetch)', () => {
  let comfy: FakeComfy | undefined;
  let pipeline: Awaited<ReturnType<typeof startPipeline>> | undefined;
  afterEach(async () => {
    await pipeline?.close();
    await comfy?.close();
  });

  async function start(env: Record<string, string> = {}) {
    comfy = await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 2 });
    const { logger, lines } = memoryLogger('info');
    pipeline = await startPipeline(testConfig(env), logger);
    const worker = await pipeline.startWorker(comfy.url);
    const submit = (prompt: string) =>
      (pipeline as NonNullable<typeof pipeline>).tracker.submit({
        workflow: 'imagine',
        params: { prompt, steps: 4 },
        requester: { platform: 'cli', userId: 'u', locale: 'en' },
        sink: recordingSink().sink,
      });
    return { comfy, pipeline, worker, submit, lines };
  }

  it('keeps renewing the lock of a job that runs many lock lifetimes, so it is never taken over', async () => {
    const { comfy, pipeline, submit, lines } = await start({ WORKER_LOCK_S: '1' });
    comfy.script({ holdAt: 'sampler' });
    const job = await submit('a long fox');
    await until(() => comfy.isHolding(), 'the prompt to run');
    await new Promise((r) => setTimeout(r, 3500));
    comfy.release();
    await job.done;
    const state = await pipeline.producer.state(job.jobId, 'imagine');
    expect(state?.state).toBe('completed');
    expect(state?.result?.resumedFrom).toBe('submit');
    expect(comfy.submissions()).toBe(1);
    expect(lines.filter((l) => Number(l.level) >= 50)).toEqual([]);
  });

  it('finishes the running job of a queue it stops consuming, then leaves that queue alone', async () => {
    const { comfy, pipeline, worker, submit } = await start();
    comfy.script({ holdAt: 'sampler' });
    const running = await submit('a fox');
    await until(() => comfy.isHolding(), 'the prompt to run');
    await worker.setWorkflows([]);
    const later = await submit('another fox');
    comfy.release();
    await running.done;
    expect(pipeline.repo.get(running.jobId)?.status).toBe('succeeded');
    expect((await pipeline.producer.state(later.jobId, 'imagine'))?.state).toBe('waiting');
    await worker.setWorkflows(['imagine']);
    await later.done;
    expect(pipeline.repo.get(later.jobId)?.status).toBe('succeeded');
  });
});
