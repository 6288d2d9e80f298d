import { createJobTracker } from '../../src/bots/jobs/tracker.js';
import type { FailureView, ProgressSink, ProgressView, ResultView } from '../../src/bots/progress/sink.js';
import { createComfyClient } from '../../src/comfy/client.js';
import { createComfySocket } from '../../src/comfy/socket.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import type { Config } from '../../src/config.js';
import { openDb } from '../../src/history/db.js';
import { createJobsRepo } from '../../src/history/jobs-repo.js';
import type { Logger } from '../../src/logger.js';
import { createJobEvents } from '../../src/queue/events.js';
import { createProducer } from '../../src/queue/producer.js';
import { connectProducer, createRedis } from '../../src/queue/redis.js';
import { createGenerationWorker } from '../../src/queue/worker.js';
import { createStorage } from '../../src/storage.js';

/** A sink that records what a frontend was asked to show. */
export function recordingSink() {
  const progress: ProgressView[] = [];
  const results: ResultView[] = [];
  const failures: FailureView[] = [];
  const sink: ProgressSink = {
    showProgress: async (v) => void progress.push(v),
    showResult: async (v) => void results.push(v),
    showFailure: async (v) => void failures.push(v),
  };
  return { sink, progress, results, failures };
}

/** Frontend side (history, producer, events, tracker) and on-demand workers, all real, against one fake ComfyUI. */
export async function startPipeline(config: Config, logger: Logger) {
  const closers: Array<() => Promise<void> | void> = [];
  const workflows = loadWorkflows(config.workflowsDir);
  const storage = createStorage(config.storageDir);
  const db = openDb(config.databasePath);
  const repo = createJobsRepo({ db });
  const producerRedis = await connectProducer(config.redisUrl as string);
  const producer = createProducer({
    redis: producerRedis,
    prefix: config.queuePrefix,
    attempts: 3,
    workflows: workflows.keys(),
  });
  const events = createJobEvents({
    connection: () => createRedis(config.redisUrl as string, 'worker', logger),
    prefix: config.queuePrefix,
    workflows: workflows.keys(),
    logger,
  });
  await events.ready();
  const tracker = createJobTracker({
    producer,
    events,
    repo,
    storage,
    workflows,
    logger,
    progressIntervalMs: config.progressIntervalMs,
    maxPromptChars: config.maxPromptChars,
  });

  async function startWorker(comfyUrl: string, opts: { pollIntervalMs?: number; gpuPollMs?: number } = {}) {
    const client = createComfyClient({ baseUrl: comfyUrl, logger });
    const socket = createComfySocket({ baseUrl: comfyUrl, logger, backoffMs: { initial: 50, max: 500 } });
    const gw = createGenerationWorker({
      connection: () => createRedis(config.redisUrl as string, 'worker', logger),
      prefix: config.queuePrefix,
      client,
      socket,
      workflows,
      storage,
      logger,
      jobTimeoutMs: config.jobTimeoutMs,
      maxPromptChars: config.maxPromptChars,
      lockDurationMs: config.workerLockMs,
      pollIntervalMs: opts.pollIntervalMs ?? 1000,
      progressThrottleMs: 50,
      gpuPollMs: opts.gpuPollMs,
    });
    await gw.waitUntilReady();
    const stop = async () => {
      await gw.close();
      await socket.close();
    };
    closers.push(stop);
    return { ...gw, socket, client, stop };
  }

  return {
    workflows,
    storage,
    repo,
    producer,
    tracker,
    startWorker,
    async close() {
      for (const c of closers.reverse()) await c();
      tracker.close();
      await events.close();
      await producer.close();
      producerRedis.disconnect();
      db.close();
    },
  };
}

/** Polls until fn() is truthy (real time; for cross-process conditions only). */
export async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
