import { afterEach, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';
import { recordingSink, startPipeline, until } from '../support/pipeline.js';

/** The GPU's hot path: woken by arrivals, ComfyUI's queue kept one deep, three ComfyUI calls per first attempt. */
describe('a GPU keeping ComfyUI busy', () => {
  let comfy: FakeComfy | undefined;
  let pipeline: Awaited<ReturnType<typeof startPipeline>> | undefined;
  afterEach(async () => {
    await pipeline?.close();
    await comfy?.close();
  });

  async function start(opts: { gpuPollMs?: number } = {}) {
    comfy = await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 2 });
    const { logger, lines } = memoryLogger('info');
    pipeline = await startPipeline(testConfig(), logger);
    await pipeline.startWorker(comfy.url, { gpuPollMs: opts.gpuPollMs });
    const p = pipeline;
    const submit = (prompt: string, userId = 'u') =>
      p.tracker.submit({
        workflow: 'imagine',
        params: { prompt, steps: 4 },
        requester: { platform: 'cli', userId, locale: 'en' },
        sink: recordingSink().sink,
      });
    return { comfy, pipeline: p, submit, lines };
  }
  /** ComfyUI calls that concern jobs (not the worker's start-up reads of /object_info and the like). */
  const jobCalls = (c: FakeComfy, from: number) =>
    c.requests
      .slice(from)
      .filter((r) => /^\/(prompt|history|queue|view|upload|interrupt)/.test(r.path))
      .map((r) => `${r.method} ${r.path.replace(/\/history\/.*/, '/history/<id>').replace(/\?.*/, '')}`);

  it('takes a new job when it arrives, without waiting for its next look at the queues', async () => {
    // One look a minute: only the arrival event can bring the job to the GPU within the wait below.
    const { pipeline, submit } = await start({ gpuPollMs: 60_000 });
    await new Promise((r) => setTimeout(r, 300)); // the free GPU has looked once and gone to sleep
    const job = await submit('a fox');
    await job.done;
    expect(pipeline.repo.get(job.jobId)?.status).toBe('succeeded');
  });

  it('spends exactly prompt, history and view on a first attempt', async () => {
    const { comfy, submit } = await start();
    const from = comfy.requests.length;
    const job = await submit('a fox');
    await job.done;
    expect(jobCalls(comfy, from)).toEqual(['POST /prompt', 'GET /history/<id>', 'GET /view']);
  });

  it('hands ComfyUI the next job while one runs, so it starts the moment the first ends', async () => {
    const { comfy, pipeline, submit } = await start();
    comfy.script({ holdAt: 'sampler' });
    const first = await submit('a fox');
    await until(() => comfy.isHolding(), 'the first prompt to run');
    const second = await submit('a hare');
    await until(() => comfy.pendingIds().includes(second.jobId), 'the second prompt in ComfyUI’s queue');
    expect(comfy.runningId()).toBe(first.jobId);
    comfy.release();
    await Promise.all([first.done, second.done]);
    expect(pipeline.repo.get(first.jobId)?.status).toBe('succeeded');
    expect(pipeline.repo.get(second.jobId)?.status).toBe('succeeded');
    expect(comfy.submissions()).toBe(2);
    // Never more than one job waiting in ComfyUI's queue on this GPU's account.
    const third = await submit('an owl');
    await third.done;
    expect(pipeline.repo.get(third.jobId)?.status).toBe('succeeded');
  });

  it('takes back a job handed over early when a job ahead of it in fair order arrives', async () => {
    const { comfy, pipeline, submit, lines } = await start();
    comfy.script({ holdAt: 'sampler' });
    const a1 = await submit('fox one', 'A');
    await until(() => comfy.isHolding(), 'A’s first prompt to run');
    const a2 = await submit('fox two', 'A');
    await until(() => comfy.pendingIds().includes(a2.jobId), 'A’s second prompt in ComfyUI’s queue');
    // B's first job comes before A's second in fair order: it takes A's place in ComfyUI's queue.
    const b = await submit('a hare', 'B');
    await until(() => comfy.pendingIds().includes(b.jobId), 'B’s prompt in ComfyUI’s queue');
    expect(comfy.pendingIds()).not.toContain(a2.jobId);
    comfy.release();
    await Promise.all([a1.done, a2.done, b.done]);
    for (const j of [a1, a2, b]) expect(pipeline.repo.get(j.jobId)?.status).toBe('succeeded');
    const started = (id: string) => comfy?.runTimes.get(id)?.start ?? Number.NaN;
    expect(started(a1.jobId)).toBeLessThan(started(b.jobId));
    expect(started(b.jobId)).toBeLessThan(started(a2.jobId));
    expect(lines.some((l) => l.msg === 'withdrawing a job handed over early')).toBe(true);
  });

  it('leaves a new job to an idle GPU rather than handing it over early to a busy one', async () => {
    const { comfy: one, pipeline, submit } = await start();
    const two = await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 2 });
    try {
      await pipeline.startWorker(two.url);
      one.script({ holdAt: 'sampler' });
      two.script({ holdAt: 'sampler' });
      const first = await submit('a fox');
      await until(() => one.isHolding() || two.isHolding(), 'the first prompt to run');
      const second = await submit('a hare');
      await until(() => one.isHolding() && two.isHolding(), 'both GPUs running');
      expect([one.runningId(), two.runningId()].sort()).toEqual([first.jobId, second.jobId].sort());
      expect([...one.pendingIds(), ...two.pendingIds()]).toEqual([]);
      one.release();
      two.release();
      await Promise.all([first.done, second.done]);
    } finally {
      await pipeline.close();
      await two.close();
    }
  }, 60_000);

  it('cancels a job handed over early by deleting it from ComfyUI’s queue, leaving the running one alone', async () => {
    const { comfy, pipeline, submit } = await start();
    comfy.script({ holdAt: 'sampler' });
    const first = await submit('a fox');
    await until(() => comfy.isHolding(), 'the first prompt to run');
    const second = await submit('a hare');
    await until(() => comfy.pendingIds().includes(second.jobId), 'the second prompt in ComfyUI’s queue');
    await pipeline.tracker.cancel(second.jobId, { platform: 'cli', userId: 'u' });
    await second.done;
    expect(pipeline.repo.get(second.jobId)?.status).toBe('cancelled');
    expect(comfy.pendingIds()).not.toContain(second.jobId);
    expect(comfy.requests.filter((r) => r.path === '/interrupt')).toEqual([]);
    expect(comfy.isHolding()).toBe(true);
    comfy.release();
    await first.done;
    expect(pipeline.repo.get(first.jobId)?.status).toBe('succeeded');
  });
});
