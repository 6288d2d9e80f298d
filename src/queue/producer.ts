import { Queue, QueueEventsProducer, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { generationJobSchema, type GenerationJob, type GenerationResult } from './contracts.js';
import { CANCEL_EVENT, GENERATE_JOB, cancelKey, generateQueue, heartbeatPattern } from './names.js';

export interface WorkerInfo {
  id: string;
  comfyUrl: string;
  busyJobId?: string;
  /** Its GPU as its ComfyUI reported it at the last heartbeat (bytes). */
  gpu?: { name: string; vramTotal: number; vramFree: number };
  /** Workflows this worker's ComfyUI can run, and why it cannot run the others. */
  workflows?: string[];
  unsupported?: Record<string, string>;
}

export interface Producer {
  /** Adds the job to its workflow's queue; returns its position among that queue's waiting jobs (0 = next). */
  enqueue(job: GenerationJob): Promise<{ jobId: string; position: number }>;
  /** Positions of waiting jobs by id in these workflows' queues (absent = not waiting any more). */
  positions(workflows: Iterable<string>): Promise<Map<string, number>>;
  /** 'removed' when it was still waiting, 'signalled' when a worker was asked to abort it, 'gone' when finished or unknown. */
  cancel(jobId: string, workflow: string): Promise<'removed' | 'signalled' | 'gone'>;
  state(
    jobId: string,
    workflow: string,
  ): Promise<{ state: string; result?: GenerationResult; failedReason?: string } | undefined>;
  /** Workers whose heartbeat is fresh. */
  onlineWorkers(): Promise<WorkerInfo[]>;
  /** Job counts summed over every workflow queue. */
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

  async function positions(workflows: Iterable<string>) {
    const out = new Map<string, number>();
    for (const wf of new Set(workflows)) {
      // Oldest first; prioritized jobs (fair queues, later) run before plain waiting ones.
      const jobs = await of(wf).queue.getJobs(['prioritized', 'waiting'], 0, -1, true);
      for (const [i, j] of jobs.filter((x): x is Job => Boolean(x?.id)).entries()) out.set(j.id as string, i);
    }
    return out;
  }

  return {
    async enqueue(job) {
      const data = generationJobSchema.parse(job);
      await of(data.workflow).queue.add(GENERATE_JOB, data, {
        jobId: data.jobId,
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
          return 'removed';
        } catch {
          // Picked up by a worker in the meantime (locked): ask that worker instead.
        }
      }
      await events.publishEvent({ eventName: CANCEL_EVENT, jobId });
      return 'signalled';
    },

    async state(jobId, workflow) {
      const job = await of(workflow).queue.getJob(jobId);
      if (!job) return undefined;
      return {
        state: await job.getState(),
        result: job.returnvalue as GenerationResult | undefined,
        failedReason: job.failedReason,
      };
    },

    async onlineWorkers() {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', heartbeatPattern(prefix), 'COUNT', 100);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      if (keys.length === 0) return [];
      const values = await redis.mget(keys);
      return values.flatMap((v) => {
        if (!v) return [];
        try {
          return [JSON.parse(v) as WorkerInfo];
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
      return total;
    },

    async close() {
      for (const { queue, events } of queues.values()) {
        await events.close();
        await queue.close();
      }
    },
  };
}
