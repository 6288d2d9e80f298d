import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';
import { recordingSink, startPipeline, until } from '../support/pipeline.js';

const requester = { platform: 'telegram' as const, userId: '42', locale: 'en' as const };

describe('job lifecycle through the real queue, worker and history', () => {
  let comfy: FakeComfy;
  let pipeline: Awaited<ReturnType<typeof startPipeline>>;
  const { logger, lines } = memoryLogger('info');

  beforeEach(async () => {
    comfy = await startFakeComfy({ models: fakeModels });
    pipeline = await startPipeline(testConfig(), logger);
  });
  afterEach(async () => {
    await pipeline.close();
    await comfy.close();
  });

  it('cancels a job still waiting in the queue: removed, never sent to ComfyUI, row cancelled', async () => {
    const rec = recordingSink();
    const job = await pipeline.tracker.submit({
      workflow: 'imagine',
      params: { prompt: 'a fox' },
      requester,
      sink: rec.sink,
    });
    expect(job.position).toBe(0);
    const { outcome } = await pipeline.tracker.cancel(job.shortId, { platform: 'telegram', userId: '42' });
    expect(outcome).toBe('removed');
    await job.done;
    expect(rec.failures.map((f) => f.failure.kind)).toEqual(['cancelled']);
    expect(pipeline.repo.get(job.jobId)?.status).toBe('cancelled');
    await pipeline.startWorker(comfy.url);
    await new Promise((r) => setTimeout(r, 300));
    expect(comfy.submissions()).toBe(0);
  });

  it('cancels a running job with a ComfyUI interrupt for that prompt only', async () => {
    comfy.script({ holdAt: 'sampler' });
    await pipeline.startWorker(comfy.url);
    const rec = recordingSink();
    const job = await pipeline.tracker.submit({
      workflow: 'imagine',
      params: { prompt: 'a fox' },
      requester,
      sink: rec.sink,
    });
    await until(() => comfy.isHolding(), 'ComfyUI to reach the sampler');
    await until(() => pipeline.repo.get(job.jobId)?.status === 'running', 'row to be running');
    const { outcome } = await pipeline.tracker.cancel(job.jobId, { platform: 'telegram', userId: '42' });
    expect(outcome).toBe('signalled');
    await job.done;
    expect(rec.failures.map((f) => f.text)).toEqual(['Cancelled.']);
    expect(pipeline.repo.get(job.jobId)?.status).toBe('cancelled');
    expect(comfy.requests.filter((r) => r.path === '/interrupt').map((r) => r.body)).toContainEqual({
      prompt_id: job.jobId,
    });
  });

  it('nobody can cancel another user’s job', async () => {
    const job = await pipeline.tracker.submit({
      workflow: 'imagine',
      params: { prompt: 'a fox' },
      requester,
      sink: recordingSink().sink,
    });
    await expect(pipeline.tracker.cancel(job.shortId, { platform: 'telegram', userId: '7' })).rejects.toMatchObject({
      key: 'error.job_not_found',
    });
    await expect(pipeline.tracker.cancel(job.shortId, { platform: 'discord', userId: '42' })).rejects.toMatchObject({
      key: 'error.job_not_found',
    });
    expect((await pipeline.producer.state(job.jobId, 'imagine'))?.state).toBe('waiting');
  });

  it('finishes a job whose WebSocket dropped mid-run, by reconnecting and polling', async () => {
    comfy.script({ dropSocketsAtStep: 3, stepDelayMs: 30 });
    const worker = await pipeline.startWorker(comfy.url);
    const rec = recordingSink();
    const job = await pipeline.tracker.submit({
      workflow: 'imagine',
      params: { prompt: 'a fox', steps: 10 },
      requester,
      sink: rec.sink,
    });
    await job.done;
    expect(rec.failures).toEqual([]);
    expect(rec.results[0]?.files).toHaveLength(1);
    expect(pipeline.repo.get(job.jobId)?.status).toBe('succeeded');
    expect(lines.some((l) => l.msg === 'connected' && l.isReconnect === true)).toBe(true);
    expect(worker.socket.isConnected()).toBe(true);
    expect(comfy.submissions()).toBe(1);
  });

  it('reports a node failure with the node, its class and the exception, without retrying', async () => {
    comfy.script({
      failAt: 'sampler',
      exceptionType: 'torch.OutOfMemoryError',
      exceptionMessage: 'Allocation on device',
    });
    await pipeline.startWorker(comfy.url);
    const rec = recordingSink();
    const job = await pipeline.tracker.submit({
      workflow: 'imagine',
      params: { prompt: 'a fox' },
      requester,
      sink: rec.sink,
    });
    await job.done;
    expect(rec.failures[0]?.text).toBe(
      'Generation failed at node sampler (KSampler): node sampler (KSampler) failed: torch.OutOfMemoryError: Allocation on device',
    );
    expect(comfy.submissions()).toBe(1);
    expect(pipeline.repo.get(job.jobId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^execution: /),
    });
  });

  it('shows queue positions while waiting, then live progress, then the result', async () => {
    comfy.script({ stepDelayMs: 40 });
    const first = recordingSink();
    const second = recordingSink();
    const a = await pipeline.tracker.submit({
      workflow: 'imagine',
      params: { prompt: 'one', steps: 30 },
      requester,
      sink: first.sink,
    });
    const b = await pipeline.tracker.submit({
      workflow: 'imagine',
      params: { prompt: 'two', steps: 3 },
      requester,
      sink: second.sink,
    });
    expect([a.position, b.position]).toEqual([0, 1]);
    await pipeline.startWorker(comfy.url);
    await Promise.all([a.done, b.done]);
    expect(second.progress[0]?.text).toMatch(/^Queued — 1 ahead of you · job [0-9a-f]{8}$/);
    expect(
      first.progress.some((p) => /Generating · job .*\n[█░]+ \d+%\nstep \d+\/30 · node: KSampler/.test(p.text)),
    ).toBe(true);
    const percents = first.progress.map((p) => p.percent);
    expect(percents).toEqual([...percents].sort((x, y) => x - y));
    expect(first.results[0]?.text).toMatch(/^Done in 0:0\d — 1 file\(s\)$/);
    expect(new Set(first.progress.map((p) => p.text)).size).toBe(first.progress.length); // never the same text twice
  });

  it('hands the latest preview image to the sink, saved beside the outputs', async () => {
    comfy.script({ previews: true, stepDelayMs: 60 });
    await pipeline.startWorker(comfy.url);
    const rec = recordingSink();
    const job = await pipeline.tracker.submit({
      workflow: 'imagine',
      params: { prompt: 'a fox', steps: 20 },
      requester,
      sink: rec.sink,
    });
    await job.done;
    const withPreview = rec.progress.filter((p) => p.previewPath);
    expect(withPreview.length).toBeGreaterThan(0);
    expect(withPreview[0]?.previewPath).toBe(pipeline.storage.resolveInside(`outputs/${job.jobId}/preview.jpg`));
    expect(readFileSync(withPreview[0]!.previewPath!).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('runs against a ComfyUI that sends only the fields older versions send', async () => {
    await comfy.close();
    comfy = await startFakeComfy({ models: fakeModels, legacy: true });
    comfy.script({ stepDelayMs: 40 });
    await pipeline.startWorker(comfy.url);
    const rec = recordingSink();
    const job = await pipeline.tracker.submit({
      workflow: 'imagine',
      params: { prompt: 'a fox', count: 3, steps: 15 },
      requester,
      sink: rec.sink,
    });
    await job.done;
    expect(rec.results[0]?.files.map((f) => f.mime)).toEqual(['image/png', 'image/png', 'image/png']);
    expect(rec.progress.some((p) => /step \d+\/15/.test(p.text))).toBe(true);
  });
});
