import { createLogger } from '../../src/logger.js';
import { startFakeComfy, type FakeComfy } from '../../tests/fakes/comfy/server.js';
import { fakeModels } from '../../tests/support/config.js';
import { recordingSink, startPipeline } from '../../tests/support/pipeline.js';
import { benchConfig, type BenchContext } from '../lib.js';

export const silent = createLogger({ level: 'silent' });

/** Frontend (tracker, history, producer, events) + n workers, each on its own fake ComfyUI. */
export async function pipelineWith(
  ctx: BenchContext,
  opts: { workers?: number; stepMs: number; env?: Record<string, string> },
) {
  const config = benchConfig(ctx, opts.env);
  const comfies: FakeComfy[] = [];
  for (let i = 0; i < (opts.workers ?? 1); i++)
    comfies.push(await startFakeComfy({ models: fakeModels, defaultStepDelayMs: opts.stepMs }));
  const pipeline = await startPipeline(config, silent);
  for (const c of comfies) await pipeline.startWorker(c.url, { pollIntervalMs: 15_000 });
  let n = 0;
  return {
    config,
    comfies,
    pipeline,
    /** Submits one imagine job; resolves with timestamps (Date.now ms) when its result has been delivered to the sink. */
    async job(params: Record<string, unknown>, userId = 'bench') {
      const t0 = Date.now();
      const rec = recordingSink();
      const job = await pipeline.tracker.submit({
        workflow: 'imagine',
        params: { prompt: `bench ${n++}`, ...params },
        requester: { platform: 'cli', userId, locale: 'en' },
        sink: rec.sink,
      });
      await job.done;
      const t1 = Date.now();
      if (rec.results.length !== 1) throw new Error(`job ${job.jobId} did not deliver a result`);
      let rt: { start: number; end?: number } | undefined;
      for (const c of comfies) rt = rt ?? c.runTimes.get(job.jobId);
      return { jobId: job.jobId, t0, t1, start: rt?.start, end: rt?.end };
    },
    async close() {
      await pipeline.close();
      for (const c of comfies) await c.close();
    },
  };
}
