import { randomUUID } from 'node:crypto';
import { QueueEvents, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import type { Logger } from '../logger.js';
import type { GenerationJob, GenerationResult } from './contracts.js';
import { createFairShare, fairOrder, peekWaiting } from './fair-share.js';
import { choose, createGpuTable, modelOf } from './gpu-picker.js';
import { CANCEL_EVENT, generateQueue } from './names.js';

/**
 * One GPU taking jobs one at a time from every queue its ComfyUI can run, in fair order (fair-share.ts) with the
 * warm-model preference (gpu-picker.ts). BullMQ's manual fetch: a Worker per queue that never runs its own loop
 * (autorun off); we pick the queue, `getNextJob` takes its head atomically, and `processJob` runs our processor
 * with BullMQ's failure, retry, cancel-signal and hand-back handling. Locks are renewed here, every half lock time,
 * and each Worker runs BullMQ's stalled-job check, so a killed GPU's job is picked up as before.
 */
export interface GpuConsumerDeps {
  /** A new connection BullMQ may block on (maxRetriesPerRequest: null); the caller closes them. */
  connect: () => Redis;
  /** For our own commands (peeks, the GPU table, fair-share bookkeeping). */
  redis: Redis;
  prefix: string;
  comfyUrl: string;
  workflows: WorkflowRegistry;
  processor: (workflow: string, job: Job, token: string, signal?: AbortSignal) => Promise<GenerationResult>;
  lockDurationMs: number;
  logger: Logger;
  logError: (err: Error, context?: Record<string, unknown>) => void;
  /** How long a job may wait for a GPU that has its model loaded while this one is free (WARM_MODEL_GRACE_S). */
  warmGraceMs?: number;
  /** How often a free GPU looks for work. */
  pollMs?: number;
  /** Queues to consume from the start (see setWorkflows). */
  initial: string[];
}

const TABLE_REFRESH_MS = 5000;

export function createGpuConsumer(deps: GpuConsumerDeps) {
  const { redis, prefix, logger: log } = deps;
  const id = randomUUID();
  const pollMs = deps.pollMs ?? 250;
  const graceMs = deps.warmGraceMs ?? 10_000;
  const fair = createFairShare({ redis, prefix, workflows: [] });
  const table = createGpuTable({ redis, prefix });
  const queues = new Map<string, { worker: Worker; events: QueueEvents }>();
  const retiring: Array<{ worker: Worker; events: QueueEvents }> = [];
  const models = new Map<string, string | undefined>();
  const leftSince = new Map<string, number>();
  let model: string | undefined;
  /** The queue of the job this GPU runs now. */
  let running: string | undefined;
  let closing = false;
  let wake: (() => void) | undefined;
  let seq = 0;

  const publish = () =>
    table
      .publish({
        id,
        comfyUrl: deps.comfyUrl,
        model,
        isIdle: !running && !closing,
        workflows: [...queues.keys()],
        at: Date.now(),
      })
      .catch((err) => deps.logError(err));
  const refresh = setInterval(() => void publish(), TABLE_REFRESH_MS);
  refresh.unref();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  function startFor(workflow: string) {
    const name = generateQueue(workflow);
    const worker: Worker = new Worker(
      name,
      (job, token, signal) => deps.processor(workflow, job, token ?? '', signal),
      {
        connection: deps.connect(),
        prefix,
        autorun: false,
        concurrency: 1,
        lockDuration: deps.lockDurationMs,
        stalledInterval: Math.round(deps.lockDurationMs / 2),
        maxStalledCount: 3,
      },
    );
    worker.on('error', (err) => deps.logError(err, { workflow }));
    // Completed here and nowhere else: charge and learn from the measured run, once per job (see fair-share.ts).
    worker.on('completed', (job: Job, result: GenerationResult) => {
      const data = job.data as GenerationJob;
      fair
        .succeeded({
          jobId: data.jobId,
          workflow,
          owner: data.requestedBy,
          startedAt: result.startedAt,
          finishedAt: result.finishedAt,
        })
        .catch((err) => log.warn({ err, jobId: job.id }, 'could not record the GPU time of a job'));
    });
    void worker.startStalledCheckTimer().catch((err) => deps.logError(err, { workflow }));
    // Cancel requests for running jobs arrive as a custom event; only the worker holding the job acts on it.
    const events = new QueueEvents(name, { connection: deps.connect(), prefix });
    events.on('error', (err) => deps.logError(err, { workflow }));
    events.on(
      CANCEL_EVENT as 'error',
      ((args: { jobId: string }) => {
        if (worker.cancelJob(args.jobId, 'cancel requested'))
          log.info({ jobId: args.jobId }, 'aborting job on request');
      }) as never,
    );
    queues.set(workflow, { worker, events });
  }

  async function stop(q: { worker: Worker; events: QueueEvents }) {
    await q.worker.close();
    await q.events.close();
  }

  /** The queue whose head this GPU should take now, if any. */
  async function pick() {
    const names = [...queues.keys()];
    const waiting = fairOrder(await peekWaiting(redis, prefix, names));
    const ids = new Set(waiting.map((e) => e.jobId));
    for (const k of models.keys()) if (!ids.has(k)) models.delete(k);
    for (const k of leftSince.keys()) if (!ids.has(k)) leftSince.delete(k);
    if (waiting.length === 0) return undefined;
    const unknown = waiting.filter((e) => !models.has(e.jobId));
    if (unknown.length) {
      const pipe = redis.pipeline();
      for (const e of unknown) pipe.hget(`${prefix}:${generateQueue(e.workflow)}:${e.jobId}`, 'data');
      const res = (await pipe.exec()) ?? [];
      for (const [i, e] of unknown.entries()) models.set(e.jobId, modelOf(deps.workflows, safeJson(res[i]?.[1])));
    }
    const candidates = waiting.map((e) => ({ ...e, model: models.get(e.jobId) }));
    const head = candidates[0];
    if (head && (head.model === undefined || head.model === model)) return head;
    const others = (await table.list()).filter((g) => g.id !== id);
    return choose({ waiting: candidates, me: { id, model }, others, leftSince, now: Date.now(), graceMs });
  }

  async function run(workflow: string, worker: Worker, job: Job, token: string) {
    running = workflow;
    model = models.get(job.id as string) ?? modelOf(deps.workflows, job.data) ?? model;
    void publish();
    fair.started(job.opts.priority).catch((err) => log.warn({ err }, 'could not advance the fair-share clock'));
    const renew = setInterval(
      () => void job.extendLock(token, deps.lockDurationMs).catch((err) => deps.logError(err, { workflow })),
      Math.max(500, Math.round(deps.lockDurationMs / 2)),
    );
    try {
      await worker.processJob(job, token, () => false);
    } finally {
      clearInterval(renew);
      running = undefined;
      for (const q of retiring.splice(0)) await stop(q);
      void publish();
    }
  }

  async function loop() {
    while (!closing) {
      const next = await pick().catch((err) => {
        deps.logError(err);
        return undefined;
      });
      const q = next && queues.get(next.workflow);
      if (closing) break;
      if (!next || !q) {
        await sleep(pollMs);
        continue;
      }
      const token = `${q.worker.id}:${seq++}`;
      const job = await q.worker.getNextJob(token, { block: false }).catch((err) => {
        deps.logError(err, { workflow: next.workflow });
        return undefined;
      });
      // Taken by another GPU in the meantime: look again soon (not at once: a paused queue would spin).
      if (!job) {
        await sleep(Math.min(pollMs, 50));
        continue;
      }
      if (closing) {
        await job.moveToWait(token).catch((err) => deps.logError(err));
        break;
      }
      // processJob settles the job itself (completed, failed, retried, handed back); anything left is logged.
      await run(next.workflow, q.worker, job, token).catch((err) => deps.logError(err, { workflow: next.workflow }));
    }
  }
  for (const wf of deps.initial) startFor(wf);
  void publish();
  const done = loop();

  return {
    id,
    workflows: () => [...queues.keys()],
    /** Consume exactly these workflows' queues from now on; a queue whose job is running is closed after it. */
    async setWorkflows(names: string[]) {
      for (const [wf, q] of [...queues]) {
        if (names.includes(wf)) continue;
        queues.delete(wf);
        if (running === wf) retiring.push(q);
        else await stop(q);
      }
      for (const wf of names) if (!queues.has(wf)) startFor(wf);
      await publish();
    },
    async waitUntilReady() {
      await Promise.all([...queues.values()].map((q) => q.worker.waitUntilReady()));
    },
    /** Takes no new job; resolves once the running one (if any) has ended and every queue is closed. */
    async close() {
      closing = true;
      clearInterval(refresh);
      wake?.();
      await done;
      const all = [...queues.values(), ...retiring.splice(0)];
      queues.clear();
      await Promise.all(all.map((q) => q.worker.close()));
      await Promise.all(all.map((q) => q.events.close()));
      await table.remove(id).catch(() => undefined);
    },
  };
}

function safeJson(v: unknown): unknown {
  try {
    return typeof v === 'string' ? JSON.parse(v) : undefined;
  } catch {
    return undefined;
  }
}
