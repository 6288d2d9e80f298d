import { randomUUID } from 'node:crypto';
import { QueueEvents, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import type { Logger } from '../logger.js';
import type { GenerationJob, GenerationResult } from './contracts.js';
import { comesBefore, createFairShare, fairOrder, peekWaiting, type WaitingEntry } from './fair-share.js';
import { choose, createGpuTable, modelOf } from './gpu-picker.js';
import { CANCEL_EVENT, generateQueue } from './names.js';

/**
 * One GPU taking jobs from every queue its ComfyUI can run, in fair order (fair-share.ts) with the warm-model
 * preference (gpu-picker.ts). BullMQ's manual fetch: a Worker per queue that never runs its own loop (autorun off);
 * we pick the queue, `getNextJob` takes its head atomically, and `processJob` runs our processor with BullMQ's
 * failure, retry, cancel-signal and hand-back handling. Locks are renewed here, every half lock time, and each
 * Worker runs BullMQ's stalled-job check, so a killed GPU's job is picked up as before.
 *
 * ComfyUI's own queue one deep: once the running job's prompt has started on ComfyUI, the next job is taken and
 * handed over ("early"), so ComfyUI starts it the moment the first ends, while we are still fetching the first one's
 * files. At most two jobs are in flight per GPU, and the second only while the first runs. A job handed over early
 * that a later arrival overtakes in fair order (and no idle GPU can take that arrival) is withdrawn: deleted from
 * ComfyUI's queue and put back in BullMQ's wait list with its priority; once its prompt has started it is kept.
 * Cancel works as for any running job (the prompt is deleted from ComfyUI's queue). A free GPU wakes when a job is
 * added to one of its queues (BullMQ's "waiting" event) and otherwise looks again every `pollMs` (delayed retries).
 */
export interface GpuConsumerDeps {
  /** A new connection BullMQ may block on (maxRetriesPerRequest: null); the caller closes them. */
  connect: () => Redis;
  /** For our own commands (peeks, the GPU table, fair-share bookkeeping). */
  redis: Redis;
  prefix: string;
  comfyUrl: string;
  workflows: WorkflowRegistry;
  processor: (
    workflow: string,
    job: Job,
    token: string,
    signal: AbortSignal | undefined,
    handover: Handover,
  ) => Promise<GenerationResult>;
  lockDurationMs: number;
  logger: Logger;
  logError: (err: Error, context?: Record<string, unknown>) => void;
  /** How long a job may wait for a GPU that has its model loaded while this one is free (WARM_MODEL_GRACE_S). */
  warmGraceMs?: number;
  /** How often a free GPU looks for work when no job arrival woke it (delayed retries come due this way). */
  pollMs?: number;
  /** Hand ComfyUI the next job while one runs (default on). */
  handOverEarly?: boolean;
  /** Queues to consume from the start (see setWorkflows). */
  initial: string[];
}

/** What the processor tells the GPU and hears from it about the one-deep hand-over. */
export interface Handover {
  /** The job's prompt has started on ComfyUI: the GPU may hand over its next job. */
  started(): void;
  /** Aborted when the job, handed over early and not started yet, should go back to the queue. */
  withdraw: AbortSignal;
  /** Taken while another job of this GPU runs: it waits in ComfyUI's queue until `started`. */
  isEarly: boolean;
}

interface InFlight {
  workflow: string;
  entry: WaitingEntry;
  isStarted: boolean;
  /** Taken while another job of this GPU was in flight. */
  isEarly: boolean;
  withdraw: AbortController;
}

const TABLE_REFRESH_MS = 5000;

export function createGpuConsumer(deps: GpuConsumerDeps) {
  const { redis, prefix, logger: log } = deps;
  const id = randomUUID();
  const pollMs = deps.pollMs ?? 1000;
  const handOverEarly = deps.handOverEarly ?? true;
  const graceMs = deps.warmGraceMs ?? 10_000;
  const fair = createFairShare({ redis, prefix, workflows: [] });
  const table = createGpuTable({ redis, prefix });
  const queues = new Map<string, { worker: Worker; events: QueueEvents }>();
  const retiring: Array<{ workflow: string; q: { worker: Worker; events: QueueEvents } }> = [];
  const models = new Map<string, string | undefined>();
  const leftSince = new Map<string, number>();
  let model: string | undefined;
  /** Jobs of this GPU now: the running one, and at most one handed over early. */
  const inflight = new Map<string, InFlight>();
  const runs = new Set<Promise<void>>();
  let closing = false;
  let seq = 0;

  const publish = () =>
    table
      .publish({
        id,
        comfyUrl: deps.comfyUrl,
        model,
        isIdle: inflight.size === 0 && !closing,
        workflows: [...queues.keys()],
        early: [...inflight.entries()]
          .filter(([, f]) => f.isEarly && !f.isStarted)
          .map(([jobId, f]) => ({ jobId, workflow: f.workflow })),
        at: Date.now(),
      })
      .catch((err) => deps.logError(err));
  const refresh = setInterval(() => void publish(), TABLE_REFRESH_MS);
  refresh.unref();

  // A poke while the loop is busy is kept, so the next sleep returns at once.
  let isPoked = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    isPoked = true;
    wake?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (isPoked) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  function startFor(workflow: string) {
    const name = generateQueue(workflow);
    const worker: Worker = new Worker(
      name,
      (job, token, signal) => {
        const f = inflight.get(job.id as string);
        const handover: Handover = {
          started: () => {
            if (!f || f.isStarted) return;
            f.isStarted = true;
            // The fair clock moves when a job starts on the GPU: an early job waiting in ComfyUI's queue has not.
            if (f.isEarly) {
              advanceClock(job);
              void publish();
            }
            poke();
          },
          withdraw: f?.withdraw.signal ?? new AbortController().signal,
          isEarly: f?.isEarly ?? false,
        };
        return deps.processor(workflow, job, token ?? '', signal, handover);
      },
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
    events.on('waiting', poke);
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

  async function run(entry: WaitingEntry, worker: Worker, job: Job, token: string) {
    const { workflow } = entry;
    const jobId = job.id as string;
    inflight.set(jobId, {
      workflow,
      entry,
      isStarted: false,
      isEarly: inflight.size > 0,
      withdraw: new AbortController(),
    });
    model = models.get(jobId) ?? modelOf(deps.workflows, job.data) ?? model;
    void publish();
    if (!inflight.get(jobId)?.isEarly) advanceClock(job);
    const renew = setInterval(
      () => void job.extendLock(token, deps.lockDurationMs).catch((err) => deps.logError(err, { workflow })),
      Math.max(500, Math.round(deps.lockDurationMs / 2)),
    );
    try {
      await worker.processJob(job, token, () => false);
    } finally {
      clearInterval(renew);
      inflight.delete(jobId);
      for (const [i, r] of [...retiring.entries()].reverse()) {
        if ([...inflight.values()].some((f) => f.workflow === r.workflow)) continue;
        retiring.splice(i, 1);
        await stop(r.q);
      }
      void publish();
      poke();
    }
  }

  const advanceClock = (job: Job) =>
    fair.started(job.opts.priority).catch((err) => log.warn({ err }, 'could not advance the fair-share clock'));

  /** Room for a job: none in flight, or one whose prompt runs on ComfyUI already (the one-deep hand-over). */
  const canTake = () =>
    inflight.size === 0 || (handOverEarly && inflight.size === 1 && [...inflight.values()].every((f) => f.isStarted));

  /** Another GPU is free for this workflow: a job is better started there now than handed over early here. */
  async function idleElsewhere(workflow: string) {
    const others = await table.list().catch(() => []);
    return others.some((g) => g.id !== id && g.isIdle && g.workflows.includes(workflow));
  }

  /** The early job goes back when a waiting job comes before it in fair order and no idle GPU will take that one. */
  async function reconsiderEarly() {
    const early = [...inflight.values()].find((f) => f.isEarly && !f.isStarted && !f.withdraw.signal.aborted);
    if (!early || inflight.size < 2) return;
    const head = fairOrder(await peekWaiting(redis, prefix, [...queues.keys()]))[0];
    if (!head || !comesBefore(head, early.entry)) return;
    if (await idleElsewhere(head.workflow)) return;
    log.info({ jobId: early.entry.jobId, overtakenBy: head.jobId }, 'withdrawing a job handed over early');
    early.withdraw.abort();
  }

  async function loop() {
    while (!closing) {
      isPoked = false;
      if (!canTake()) {
        await reconsiderEarly().catch((err) => deps.logError(err));
        await sleep(pollMs);
        continue;
      }
      const next = await pick().catch((err) => {
        deps.logError(err);
        return undefined;
      });
      const q = next && queues.get(next.workflow);
      if (closing) break;
      if (!next || !q || (inflight.size > 0 && (await idleElsewhere(next.workflow)))) {
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
        isPoked = false;
        await sleep(Math.min(pollMs, 50));
        continue;
      }
      if (closing) {
        await job.moveToWait(token).catch((err) => deps.logError(err));
        break;
      }
      // processJob settles the job itself (completed, failed, retried, handed back); anything left is logged.
      const r: Promise<void> = run(next, q.worker, job, token)
        .catch((err) => deps.logError(err, { workflow: next.workflow }))
        .finally(() => runs.delete(r));
      runs.add(r);
    }
    while (runs.size) await Promise.allSettled([...runs]);
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
        if ([...inflight.values()].some((f) => f.workflow === wf)) retiring.push({ workflow: wf, q });
        else await stop(q);
      }
      for (const wf of names) if (!queues.has(wf)) startFor(wf);
      await publish();
    },
    async waitUntilReady() {
      await Promise.all([...queues.values()].map((q) => q.worker.waitUntilReady()));
    },
    /** Takes no new job; resolves once the jobs in flight (if any) have ended and every queue is closed. */
    async close() {
      closing = true;
      clearInterval(refresh);
      poke();
      await done;
      const all = [...queues.values(), ...retiring.splice(0).map((r) => r.q)];
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
