import { afterEach, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';
import { recordingSink, startPipeline } from '../support/pipeline.js';

describe('several ComfyUI instances sharing one queue', () => {
  const fakes: FakeComfy[] = [];
  let pipeline: Awaited<ReturnType<typeof startPipeline>> | undefined;
  afterEach(async () => {
    await pipeline?.close();
    for (const f of fakes.splice(0)) await f.close();
  });

  it('spreads jobs over both GPUs and runs no job twice', async () => {
    for (let i = 0; i < 2; i++) fakes.push(await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 10 }));
    pipeline = await startPipeline(testConfig(), memoryLogger('warn').logger);
    for (const f of fakes) await pipeline.startWorker(f.url);
    const jobs = [];
    for (let i = 0; i < 6; i++) {
      jobs.push(
        await pipeline.tracker.submit({
          workflow: 'imagine',
          params: { prompt: `fox ${i}`, steps: 8 },
          requester: { platform: 'cli', userId: 'u', locale: 'en' },
          sink: recordingSink().sink,
        }),
      );
    }
    await Promise.all(jobs.map((j) => j.done));
    const ran = fakes.map((f) => f.historyIds());
    expect(ran[0]!.length).toBeGreaterThan(0);
    expect(ran[1]!.length).toBeGreaterThan(0);
    expect([...ran[0]!, ...ran[1]!].sort()).toEqual(jobs.map((j) => j.jobId).sort());
    for (const j of jobs) {
      const row = pipeline.repo.get(j.jobId)!;
      expect(row.status).toBe('succeeded');
      expect(fakes.find((f) => f.historyIds().includes(j.jobId))?.url).toBe(row.comfyUrl);
    }
  });
});
