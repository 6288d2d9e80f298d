import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createComfyClient } from '../../src/comfy/client.js';
import { createComfySocket } from '../../src/comfy/socket.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createProducer } from '../../src/queue/producer.js';
import { connectProducer, createRedis } from '../../src/queue/redis.js';
import { createGenerationWorker } from '../../src/queue/worker.js';
import { createStorage } from '../../src/storage.js';
import { startFakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';
import { labelValues, parseMetrics } from '../support/prometheus.js';

describe('what the generation worker records in the metrics', () => {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('counts jobs by workflow and outcome, failures by kind, queue wait, ComfyUI time and socket reconnects', async () => {
    const comfy = await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 1 });
    closers.push(() => comfy.close());
    const config = testConfig({ COMFY_URL: comfy.url });
    const redisUrl = config.redisUrl as string;
    const { logger } = memoryLogger('silent');
    const workflows = loadWorkflows(config.workflowsDir);
    const metrics = createMetrics({ workflows: workflows.keys(), defaultMetrics: false });
    const redis = await connectProducer(redisUrl);
    const producer = createProducer({ redis, prefix: config.queuePrefix, workflows: ['imagine'], attempts: 3 });
    closers.push(
      () => redis.disconnect(),
      () => producer.close(),
    );
    const socket = createComfySocket({ baseUrl: comfy.url, logger, metrics, backoffMs: { initial: 10, max: 50 } });
    const worker = createGenerationWorker({
      connection: () => createRedis(redisUrl, 'worker'),
      prefix: config.queuePrefix,
      client: createComfyClient({ baseUrl: comfy.url, logger }),
      socket,
      workflows,
      workflowNames: ['imagine'],
      storage: createStorage(config.storageDir),
      logger,
      jobTimeoutMs: 60_000,
      maxPromptChars: 1000,
      pollIntervalMs: 200,
      progressThrottleMs: 50,
      metrics,
    });
    closers.push(
      () => socket.close(),
      () => worker.close(),
    );
    await worker.waitUntilReady();
    await socket.ready();

    // A new seed each time: like ComfyUI, the fake answers an identical graph from its cache without sampling.
    let seed = 0;
    const run = async (settle: (jobId: string) => Promise<unknown> = async () => undefined) => {
      const jobId = randomUUID();
      await producer.enqueue({
        jobId,
        workflow: 'imagine',
        params: { prompt: 'a fox', steps: 2, seed: ++seed },
        requestedBy: { platform: 'telegram', userId: '123456789' },
        createdAt: Date.now(),
      });
      await settle(jobId);
      await vi.waitFor(
        async () => expect(['completed', 'failed']).toContain((await producer.state(jobId, 'imagine'))?.state),
        { timeout: 20_000, interval: 50 },
      );
    };
    await run();
    comfy.script({ failAt: 'sampler' });
    await run();
    comfy.script({ holdAt: 'sampler' });
    await run(async (jobId) => {
      await vi.waitFor(() => expect(comfy.isHolding()).toBe(true), { timeout: 20_000, interval: 20 });
      await producer.cancel(jobId, 'imagine');
    });
    let families = parseMetrics(await metrics.text());
    const value = (name: string, labels: Record<string, string>, field: 'value' | 'count' = 'value') =>
      families.get(name)?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))?.[field];
    const instance = new URL(comfy.url).host;
    expect(value('comfy_relay_comfy_ws_reconnects_total', { instance })).toBeUndefined();
    socket.drop();
    await vi.waitFor(
      async () => {
        families = parseMetrics(await metrics.text());
        expect(value('comfy_relay_comfy_ws_reconnects_total', { instance })).toBe('1');
      },
      { timeout: 5000, interval: 20 },
    );
    expect({
      succeeded: value('comfy_relay_jobs_total', { workflow: 'imagine', outcome: 'succeeded' }),
      failed: value('comfy_relay_jobs_total', { workflow: 'imagine', outcome: 'failed' }),
      cancelled: value('comfy_relay_jobs_total', { workflow: 'imagine', outcome: 'cancelled' }),
      execution: value('comfy_relay_failures_total', { kind: 'execution' }),
      waits: value('comfy_relay_queue_wait_seconds', { workflow: 'imagine' }, 'count'),
      runs: value('comfy_relay_job_duration_seconds', { workflow: 'imagine' }, 'count'),
    }).toEqual({ succeeded: '1', failed: '1', cancelled: '1', execution: '1', waits: '3', runs: '1' });
    expect(labelValues(families).filter((v) => v.includes('123456789') || v.includes('fox'))).toEqual([]);
  });
});
