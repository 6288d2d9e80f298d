import { afterEach, describe, expect, it } from 'vitest';
import { startWorkerRole } from '../../src/app/worker-role.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import { createLifecycle } from '../../src/lifecycle.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';
import { png } from '../support/media.js';
import { recordingSink, startPipeline } from '../support/pipeline.js';
import { storeInputs } from '../../src/media/store-inputs.js';

describe('capability-aware routing over several ComfyUIs', () => {
  const fakes: FakeComfy[] = [];
  const lifecycle = createLifecycle(memoryLogger('warn').logger);
  let pipeline: Awaited<ReturnType<typeof startPipeline>> | undefined;
  afterEach(async () => {
    await lifecycle.shutdown('done');
    await pipeline?.close();
    for (const f of fakes.splice(0)) await f.close();
  });

  it('sends face swaps only to the GPU with the ReActor pack, and text-to-image to both', async () => {
    const plain = await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 10 });
    const reactor = await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 10, customNodes: true });
    fakes.push(plain, reactor);
    const config = testConfig({ COMFY_URL: `${plain.url},${reactor.url}` });
    const { logger } = memoryLogger('warn');
    const workflows = loadWorkflows(config.workflowsDir);
    await startWorkerRole({ config, redisUrl: config.redisUrl as string, workflows, logger, lifecycle });
    pipeline = await startPipeline(config, logger);
    const online = await pipeline.producer.onlineWorkers();
    expect(online.find((w) => w.comfyUrl === plain.url)).toMatchObject({
      unsupported: { faceswap: 'nodes ReActorFaceSwap' },
    });
    expect(online.find((w) => w.comfyUrl === reactor.url)?.workflows).toContain('faceswap');

    const requester = { platform: 'cli' as const, userId: 'u', locale: 'en' as const };
    const jobs = [];
    for (let i = 0; i < 3; i++) {
      const params = await storeInputs(
        workflows.get('faceswap')!,
        {},
        { face: await png(), target: await png(128, 128) },
        pipeline.storage,
      );
      jobs.push(await pipeline.tracker.submit({ workflow: 'faceswap', params, requester, sink: recordingSink().sink }));
      jobs.push(
        await pipeline.tracker.submit({
          workflow: 'imagine',
          params: { prompt: `fox ${i}`, steps: 6 },
          requester,
          sink: recordingSink().sink,
        }),
      );
    }
    await Promise.all(jobs.map((j) => j.done));
    const swaps = jobs.filter((_, i) => i % 2 === 0).map((j) => j.jobId);
    expect(plain.historyIds().filter((id) => swaps.includes(id))).toEqual([]);
    expect(
      reactor
        .historyIds()
        .filter((id) => swaps.includes(id))
        .sort(),
    ).toEqual([...swaps].sort());
    for (const j of jobs) expect(pipeline.repo.get(j.jobId)?.status).toBe('succeeded');
  });
});
