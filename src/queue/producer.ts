import { Queue, QueueEventsProducer, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { generationJobSchema, type GenerationJob, type GenerationResult } from './contracts.js';
import { CANCEL_EVENT, GENERATE_JOB, GENERATE_QUEUE, cancelKey, heartbeatPattern } from './names.js';

export interface Producer {
  /** Adds the job; returns its position among waiting jobs (0 = next to start). */
  enqueue(job: GenerationJob): Promise<{ jobId: string; position: number }>;
  /** Positions of waiting jobs by id (absent = not waiting any more). One Redis round trip. */
  positions(): Promise<Map<string, number>>;
  /** 'removed' when it was still waiting, 'signalled' when a worker was asked to abort it, 'gone' when finished or unknown. */
  cancel(jobId: string): Promise<'removed' | 'signalled' | 'gone'>;
  state(jobId: string): Promise<{ state: string; result?: GenerationResult; failedReason?: string } | undefined>;
  /** Workers whose heartbeat is fresh. */
  onlineWorkers(): Promise<Array<{ id: string; comfyUrl: string; busyJobId?: string }>>;
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface ProducerDeps {
  /** A ready producer connection (fail-fast). */
  redis: Redis;
  prefix: string;
  /** Attempts for retryable failures (ComfyUI unreachable, prompt lost in a restart). */
  attempts?: number;
}

export function createProducer(deps: ProducerDeps): Producer {
  const { redis, prefix } = deps;
  const queue = new Queue(GENERATE_QUEUE, { connection: redis, prefix });
  const events = new QueueEventsProducer(GENERATE_QUEUE, { connection: redis, prefix });

  async function positions() {
    // Waiting jobs, oldest first. Prioritized jobs (fair queues, later) run before plain waiting ones.
    const jobs = await queue.getJobs(['prioritized', 'waiting'], 0, -1, true);
    return new Map(jobs.filter((j): j is Job => Boolean(j?.id)).map((j, i) => [j.id as string, i]));
  }

  return {
    async enqueue(job) {
      const data = generationJobSchema.parse(job);
      await queue.add(GENERATE_JOB, data, {
        jobId: data.jobId,
        attempts: deps.attempts ?? 5,
        backoff: { type: 'exponential', delay: 5000 },
        // Kept long enough for a restarted frontend to reconcile and deliver (see bots/delivery.ts).
        removeOnComplete: { age: 7 * 24 * 3600, count: 5000 },
        removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
      });
      const pos = (await positions()).get(data.jobId);
      return { jobId: data.jobId, position: pos ?? 0 };
    },

    positions,

    async cancel(jobId) {
      await redis.set(cancelKey(prefix, jobId), '1', 'EX', 3600);
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

    async state(jobId) {
      const job = await queue.getJob(jobId);
      if (!job) return undefined;
      return { state: await job.getState(), result: job.returnvalue as GenerationResult | undefined, failedReason: job.failedReason };
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
          return [JSON.parse(v) as { id: string; comfyUrl: string; busyJobId?: string }];
        } catch {
          return [];
        }
      });
    },

    counts: () => queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'),

    async close() {
      await events.close();
      await queue.close();
    },
  };
}
