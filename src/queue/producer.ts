import { Queue, QueueEventsProducer } from 'bullmq';
import type { Redis } from 'ioredis';
import { generationJobSchema, type GenerationJob, type GenerationResult } from './contracts.js';
import { createFairShare, fairOrder, peekWaiting } from './fair-share.js';
import { createGpuTable } from './gpu-picker.js';
import {
  CANCEL_EVENT,
  GENERATE_JOB,
  cancelKey,
  generateQueue,
  heartbeatKey,
  heartbeatPattern,
  workersKey,
} from './names.js';

export interface WorkerInfo {
  id: string;
  comfyUrl: string;
  busyJobId?: string;
  /** Its GPU as its ComfyUI reported it at the last heartbeat (bytes). */
  gpu?: { name: string; vramTotal: number; vramFree: number };
  /** Workflows this worker's ComfyUI can run, and why it cannot run the others. */
  workflows?: string[];
  unsupported?: Record<string, string>;
  /** The checkpoint its ComfyUI ran last (warm-model routing), when it has run one. */
  model?: string;
}

export interface Producer {
  /**
   * Adds the job to its workflow's queue with its fair-share priority; returns its position (0 = next): the jobs
   * that will start before it on the GPUs that can run it, whatever their workflow.
   */
  enqueue(job: GenerationJob): Promise<{ jobId: string; position: number }>;
  /** Positions of the waiting jobs of these workflows' queues by id, counted as enqueue does (absent = not waiting). */
  positions(workflows: Iterable<string>): Promise<Map<string, number>>;
  /** 'removed' when it was still waiting, 'signalled' when a worker was asked to abort it, 'gone' when finished or unknown. */
  cancel(jobId: string, workflow: string): Promise<'removed' | 'signalled' | 'gone'>;
  state(
    jobId: string,
    workflow: string,
  ): Promise<{ state: string; result?: GenerationResult; failedReason?: string } | undefined>;
  /** Workers whose heartbeat is fresh; `withModels: false` leaves out the model each ran last (one call less). */
  onlineWorkers(opts?: { withModels?: boolean }): Promise<WorkerInfo[]>;
  /** Job counts summed over every workflow queue (prioritized jobs count as waiting). */
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface ProducerDeps {
  /** A ready producer connection (fail-fast). */
  redis: Redis;
  prefix: string;
  workflows: Iterable<string>;
  /** Attempts for retryable failures (ComfyUI unreachable, prompt lost in a restart). */
  attempts?: number;
  /** Admins' jobs jump the queue (priority 1) and are not counted in their fair share. */
  isAdmin?: (platform: string, userId: string) => boolean;
}

export function createProducer(deps: ProducerDeps): Producer {
  const { redis, prefix } = deps;
  const queues = new Map<string, { queue: Queue; events: QueueEventsProducer }>();
  const of = (workflow: string) => {
    let q = queues.get(workflow);
    if (!q) {
      const name = generateQueue(workflow);
      q = {
        queue: new Queue(name, { connection: redis, prefix }),
        events: new QueueEventsProducer(name, { connection: redis, prefix }),
      };
      queues.set(workflow, q);
    }
    return q;
  };
  const known = [...deps.workflows];

  const fair = createFairShare({ redis, prefix, workflows: known });
  const gpus = createGpuTable({ redis, prefix });

  async function scanHeartbeats() {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', heartbeatPattern(prefix), 'COUNT', 100);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  }

  /**
   * One fair order over every queue; a job's position counts the jobs before it whose workflow shares a GPU with
   * its own (an online GPU runs both). With no GPU online, every workflow counts as sharing.
   */
  async function positions(workflows: Iterable<string>) {
    const wanted = new Set(workflows);
    const online = await gpus.list();
    // Jobs handed to a GPU's ComfyUI early come first: they start the moment that GPU's running job ends.
    const early = online.flatMap((g) => g.early ?? []);
    const waiting = fairOrder(await peekWaiting(redis, prefix, known));
    const order = [...early, ...waiting.filter((e) => !early.some((x) => x.jobId === e.jobId))];
    const shares = (a: string, b: string) =>
      a === b || online.length === 0 || online.some((g) => g.workflows.includes(a) && g.workflows.includes(b));
    const out = new Map<string, number>();
    for (const [i, e] of order.entries()) {
      if (!wanted.has(e.workflow)) continue;
      out.set(e.jobId, order.slice(0, i).filter((x) => shares(x.workflow, e.workflow)).length);
    }
    return out;
  }

  return {
    async enqueue(job) {
      const data = generationJobSchema.parse(job);
      const { platform, userId } = data.requestedBy;
      const priority = await fair.priorityFor(
        data.requestedBy,
        data.workflow,
        deps.isAdmin?.(platform, userId) ?? false,
      );
      await of(data.workflow).queue.add(GENERATE_JOB, data, {
        jobId: data.jobId,
        priority,
        attempts: deps.attempts ?? 5,
        backoff: { type: 'exponential', delay: 5000 },
        // Kept long enough for a restarted frontend to reconcile and deliver (see bots/delivery.ts).
        removeOnComplete: { age: 7 * 24 * 3600, count: 5000 },
        removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
      });
      const pos = (await positions([data.workflow])).get(data.jobId);
      return { jobId: data.jobId, position: pos ?? 0 };
    },

    positions,

    async cancel(jobId, workflow) {
      await redis.set(cancelKey(prefix, jobId), '1', 'EX', 3600);
      const { queue, events } = of(workflow);
      const job = await queue.getJob(jobId);
      if (!job) return 'gone';
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') return 'gone';
      if (state === 'waiting' || state === 'prioritized' || state === 'delayed') {
        try {
          await job.remove();
          await fair
            .refund((job.data as GenerationJob).requestedBy, workflow, job.opts.priority)
            .catch(() => undefined);
          return 'removed';
        } catch {
          // Picked up by a worker in the meantime (locked): ask that worker instead.
        }
      }
      await events.publishEvent({ eventName: CANCEL_EVENT, jobId });
      return 'signalled';
    },

    async state(jobId, workflow) {
      const { queue } = of(workflow);
      // The state before the job's fields: a job that finishes between the two reads is then seen as still running,
      // not as completed without its result (which the follower took for a malformed result and failed the job).
      const state = await queue.getJobState(jobId);
      const job = state === 'unknown' ? undefined : await queue.getJob(jobId);
      if (!job) return undefined;
      return {
        // Waiting its fair turn is waiting: callers need not know BullMQ keeps it in a sorted set.
        state: state === 'prioritized' ? 'waiting' : state,
        result: job.returnvalue as GenerationResult | undefined,
        failedReason: job.failedReason,
      };
    },

    async onlineWorkers({ withModels = true } = {}) {
      // Every job asks (is a worker able to run it?): the registry answers in one round trip and forgets the
      // workers whose heartbeat ran out. A worker of an earlier version is not in it, so a scan is the fallback.
      const registry = workersKey(prefix);
      const [, listed] = (await redis
        .pipeline()
        .zremrangebyscore(registry, '-inf', Date.now())
        .zrange(registry, 0, -1)
        .exec()) as [unknown, [Error | null, string[]]];
      if (listed[0]) throw listed[0];
      const keys = listed[1].length ? listed[1].map((id) => heartbeatKey(prefix, id)) : await scanHeartbeats();
      if (keys.length === 0) return [];
      const values = await redis.mget(keys);
      // The model each one ran last comes from the GPU table (warm-model routing), matched by ComfyUI.
      const models = new Map(withModels ? (await gpus.list()).map((g) => [g.comfyUrl, g.model]) : []);
      return values.flatMap((v) => {
        if (!v) return [];
        try {
          const w = JSON.parse(v) as WorkerInfo;
          const model = models.get(w.comfyUrl);
          return [model ? { ...w, model } : w];
        } catch {
          return [];
        }
      });
    },

    async counts() {
      const total: Record<string, number> = {};
      for (const wf of known) {
        const c = await of(wf).queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
        for (const [k, v] of Object.entries(c)) total[k] = (total[k] ?? 0) + v;
      }
      // As in state(): a job waiting for its fair-share turn is waiting.
      return { ...total, waiting: (total.waiting ?? 0) + (total.prioritized ?? 0), prioritized: 0 };
    },

    async close() {
      for (const { queue, events } of queues.values()) {
        await events.close();
        await queue.close();
      }
    },
  };
}
