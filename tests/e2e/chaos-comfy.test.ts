import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { renderProgress } from '../../src/bots/progress/render.js';
import { createComfyClient, type ComfyClientDeps } from '../../src/comfy/client.js';
import { createComfySocket } from '../../src/comfy/socket.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import {
  decodeFailure,
  generationResultSchema,
  progressEventSchema,
  type Failure,
  type GenerationResult,
  type ProgressEvent,
} from '../../src/queue/contracts.js';
import { createJobEvents } from '../../src/queue/events.js';
import { createProducer } from '../../src/queue/producer.js';
import { connectProducer, createRedis } from '../../src/queue/redis.js';
import { createGenerationWorker } from '../../src/queue/worker.js';
import { createStorage } from '../../src/storage.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';

/**
 * ComfyUI going away under a real worker, producer and job events (no chat bot): a restart mid-job, a server that
 * is down when the job starts, a download that stalls, an output over the size cap. BullMQ retries after its
 * 5 s backoff, so a retried story takes about that long.
 */
describe('chaos: ComfyUI restarts, outages and bad downloads', () => {
  let comfy: FakeComfy | undefined;
  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  afterEach(async () => {
    await stack?.close();
    await comfy?.close();
    stack = undefined;
  });

  it('a ComfyUI restart mid-job: waiting for the GPU server while it is down, then resubmitted and done', async () => {
    comfy = await startFakeComfy({ models: fakeModels });
    comfy.script({ holdAt: 'sampler' });
    stack = await startStack(testConfig(), comfy.url);
    const job = await stack.submit();
    await until(() => comfy?.isHolding(), 'the prompt to run on ComfyUI');

    await comfy.down(); // sockets cut, port closed, queue and history forgotten
    const waiting = await until(() => job.progress.find((e) => e.waitingForComfy), 'a waiting-for-ComfyUI event');
    expect(headline(waiting, job.jobId)).toBe(`Waiting for the GPU server… · job ${job.jobId.slice(0, 8)}`);
    expect(headline(waiting, job.jobId, 'zh-TW')).toBe(`正在等待 GPU 伺服器… · 任務 ${job.jobId.slice(0, 8)}`);
    await comfy.up();

    await until(() => job.result ?? job.failure, 'the job to end', 20_000);
    expect(job.failure).toBeUndefined();
    expect(job.result?.files).toHaveLength(1);
    expect(job.result?.resumedFrom).toBe('submit');
    expect(comfy.submissions()).toBe(2); // lost in the restart, so submitted again
    expect(job.progress.at(-1)?.waitingForComfy).toBeUndefined();
  }, 40_000);

  it('ComfyUI unreachable when the job starts: waiting for the GPU server, then done once it is up', async () => {
    comfy = await startFakeComfy({ models: fakeModels });
    await comfy.down();
    stack = await startStack(testConfig(), comfy.url);
    const job = await stack.submit();
    await until(() => job.progress.some((e) => e.waitingForComfy), 'a waiting-for-ComfyUI event');
    await comfy.up();

    await until(() => job.result ?? job.failure, 'the job to end', 20_000);
    expect(job.failure).toBeUndefined();
    expect(job.result?.files).toHaveLength(1);
    expect(comfy.submissions()).toBe(1);
    // Reachable, then waiting (the first attempt and BullMQ's backoff), then reachable again for good.
    const flags = job.progress.map((e) => Boolean(e.waitingForComfy));
    expect(flags.filter((f, i) => i === 0 || f !== flags[i - 1])).toEqual([false, true, false]);
  }, 40_000);

  it('a download that stalls is retried and fetches the finished prompt from /history without running it again', async () => {
    comfy = await startFakeComfy({ models: fakeModels });
    comfy.scriptView({ chunkBytes: 40, stallAfterBytes: 40 });
    stack = await startStack(testConfig(), comfy.url, { downloadIdleTimeoutMs: 300 });
    const job = await stack.submit();
    await until(() => comfy?.lastView(), 'the first download to start');
    comfy.scriptView({}); // the retry gets the whole file at once

    await until(() => job.result ?? job.failure, 'the job to end', 20_000);
    expect(job.failure).toBeUndefined();
    expect(job.result?.resumedFrom).toBe('history');
    const file = job.result?.files[0];
    expect(file?.bytes).toBe(statSync(stack.storage.resolveInside(file?.path ?? '')).size);
    expect(comfy.submissions()).toBe(1);
  }, 40_000);

  it('an output over the download cap fails at once as too large, without a retry', async () => {
    comfy = await startFakeComfy({ models: fakeModels });
    stack = await startStack(testConfig(), comfy.url, { downloadMaxBytes: 100 });
    const job = await stack.submit();

    await until(() => job.result ?? job.failure, 'the job to end');
    expect(job.failure?.kind).toBe('too_large');
    expect(job.failure?.message).toMatch(
      /^output imagine_00001_\.png is \d+ (bytes|KB), over the 100 bytes download limit$/,
    );
    expect(comfy.submissions()).toBe(1);
    // 'failed' arrives only when BullMQ gives up: after one download, so no retry was made.
    expect(comfy.requests.filter((r) => r.path.startsWith('/view?'))).toHaveLength(1);
  });
});

function headline(e: ProgressEvent, jobId: string, locale: 'en' | 'zh-TW' = 'en') {
  const info = { jobId, shortId: jobId.slice(0, 8), workflow: 'imagine', createdAt: e.startedAt };
  const state = { phase: 'running' as const, ...e };
  return renderProgress(state, info, locale, { now: e.startedAt }).text.split('\n')[0];
}

/** Producer, job events and one worker, all real, on the test Redis; records what each job reports. */
async function startStack(
  config: Config,
  comfyUrl: string,
  download: Pick<ComfyClientDeps, 'downloadIdleTimeoutMs' | 'downloadMaxBytes'> = {},
) {
  const { logger } = memoryLogger('warn');
  const redisUrl = config.redisUrl as string;
  const workflows = loadWorkflows(config.workflowsDir);
  const storage = createStorage(config.storageDir);
  const producerRedis = await connectProducer(redisUrl, logger);
  const producer = createProducer({
    redis: producerRedis,
    prefix: config.queuePrefix,
    attempts: 3,
    workflows: workflows.keys(),
  });
  const events = createJobEvents({
    connection: () => createRedis(redisUrl, 'worker', logger),
    prefix: config.queuePrefix,
    workflows: workflows.keys(),
    logger,
  });
  await events.ready();
  const { worker, socket } = await startWorker(config, comfyUrl, logger, download);

  return {
    storage,
    async submit() {
      const jobId = randomUUID();
      const job = watchJob(events, jobId);
      await producer.enqueue({
        jobId,
        workflow: 'imagine',
        params: { prompt: 'a fox', seed: 1, steps: 4 },
        requestedBy: { platform: 'cli', userId: 'chaos' },
        createdAt: Date.now(),
      });
      return job;
    },
    async close() {
      await worker.close();
      await socket.close();
      await events.close();
      await producer.close();
      producerRedis.disconnect();
    },
  };
}

async function startWorker(
  config: Config,
  comfyUrl: string,
  logger: Logger,
  download: Pick<ComfyClientDeps, 'downloadIdleTimeoutMs' | 'downloadMaxBytes'>,
) {
  const client = createComfyClient({ baseUrl: comfyUrl, logger, ...download });
  const socket = createComfySocket({ baseUrl: comfyUrl, logger, backoffMs: { initial: 50, max: 300 } });
  const worker = createGenerationWorker({
    connection: () => createRedis(config.redisUrl as string, 'worker', logger),
    prefix: config.queuePrefix,
    client,
    socket,
    workflows: loadWorkflows(config.workflowsDir),
    storage: createStorage(config.storageDir),
    logger,
    jobTimeoutMs: config.jobTimeoutMs,
    maxPromptChars: config.maxPromptChars,
    lockDurationMs: config.workerLockMs,
    pollIntervalMs: 1000,
    progressThrottleMs: 50,
  });
  await worker.waitUntilReady();
  return { worker, socket };
}

function watchJob(events: ReturnType<typeof createJobEvents>, jobId: string) {
  const job: { jobId: string; progress: ProgressEvent[]; result?: GenerationResult; failure?: Failure } = {
    jobId,
    progress: [],
  };
  events.watch(jobId, {
    progress: (data) => job.progress.push(progressEventSchema.parse(data)),
    completed: (rv) => (job.result = generationResultSchema.parse(rv)),
    failed: (reason) => (job.failure = decodeFailure(reason)),
  });
  return job;
}

/** Polls until fn() is truthy (real time; the worker and ComfyUI run on their own). */
async function until<T>(fn: () => T, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
