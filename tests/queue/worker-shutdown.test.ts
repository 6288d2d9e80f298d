import { afterEach, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';
import { recordingSink, startPipeline, until } from '../support/pipeline.js';

describe('a worker shutting down while its prompt runs on ComfyUI', () => {
  let comfy: FakeComfy | undefined;
  let pipeline: Awaited<ReturnType<typeof startPipeline>> | undefined;
  afterEach(async () => {
    await pipeline?.close();
    await comfy?.close();
  });

  async function holdOnePrompt() {
    comfy = await startFakeComfy({ models: fakeModels });
    comfy.script({ holdAt: 'sampler' });
    const { logger, lines } = memoryLogger('info');
    pipeline = await startPipeline(testConfig(), logger);
    const first = await pipeline.startWorker(comfy.url);
    const rec = recordingSink();
    const job = await pipeline.tracker.submit({
      workflow: 'imagine',
      params: { prompt: 'a fox' },
      requester: { platform: 'cli', userId: 'u', locale: 'en' },
      sink: rec.sink,
    });
    await until(() => comfy?.isHolding(), 'the prompt to run on ComfyUI');
    return { comfy, pipeline, first, rec, job, lines };
  }

  it('hands the job back to the queue, and the next worker re-attaches to the same prompt', async () => {
    const { comfy, pipeline, first, rec, job, lines } = await holdOnePrompt();

    await first.close({ handBackAfterMs: 0 });
    await first.socket.close();
    // Back in the wait list, unlocked and unfailed; the prompt was neither interrupted nor removed.
    expect((await pipeline.producer.state(job.jobId, 'imagine'))?.state).toBe('waiting');
    expect(comfy.isHolding()).toBe(true);
    expect(comfy.requests.filter((r) => r.path.startsWith('/interrupt'))).toEqual([]);
    expect(lines.map((l) => l.msg)).toContain('shutting down: job handed back to the queue; its prompt keeps running');

    await pipeline.startWorker(comfy.url);
    await until(
      () => lines.some((l) => l.msg === 'prompt already in the ComfyUI queue; re-attaching'),
      'the next worker to re-attach',
    );
    comfy.release();
    await job.done;
    expect(rec.failures).toEqual([]);
    expect(comfy.submissions()).toBe(1);
    const state = await pipeline.producer.state(job.jobId, 'imagine');
    expect(state?.state).toBe('completed');
    expect(state?.result?.resumedFrom).toBe('queue');
  });

  it('lets the running prompt finish when it ends before the hand-back time', async () => {
    const { comfy, pipeline, first, rec, job } = await holdOnePrompt();

    const closing = first.close({ handBackAfterMs: 600_000 });
    comfy.release();
    await closing;
    await job.done;
    expect(rec.failures).toEqual([]);
    const state = await pipeline.producer.state(job.jobId, 'imagine');
    expect(state?.state).toBe('completed');
    expect(state?.result?.resumedFrom).toBe('submit');
  });
});
