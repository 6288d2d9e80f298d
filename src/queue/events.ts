import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { generateQueue } from './names.js';

/** What a frontend hears about the jobs it tracks. */
export interface JobEventHandlers {
  active?(): void;
  progress?(data: unknown): void;
  completed?(returnvalue: unknown): void;
  failed?(failedReason: string): void;
  removed?(): void;
}

export interface JobEvents {
  /** Routes events of one job to handlers; returns an unsubscribe function. */
  watch(jobId: string, handlers: JobEventHandlers): () => void;
  /** Resolves once the events streams are being read (events before that are covered by reconciliation). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** One QueueEvents reader per workflow queue (each needs its own blocking connection), fanned out by job id. */
export function createJobEvents(deps: { connection: () => Redis; prefix: string; workflows: Iterable<string>; logger: Logger }): JobEvents {
  const log = deps.logger.child({ module: 'job-events' });
  const watchers = new Map<string, JobEventHandlers>();
  const call = (jobId: string, fn: (h: JobEventHandlers) => void) => {
    const h = watchers.get(jobId);
    if (!h) return;
    try {
      fn(h);
    } catch (err) {
      log.error({ err, jobId }, 'job event handler threw');
    }
  };
  const readers = [...new Set(deps.workflows)].map((wf) => {
    const connection = deps.connection();
    const qe = new QueueEvents(generateQueue(wf), { connection, prefix: deps.prefix });
    qe.on('active', ({ jobId }) => call(jobId, (h) => h.active?.()));
    qe.on('progress', ({ jobId, data }) => call(jobId, (h) => h.progress?.(data)));
    qe.on('completed', ({ jobId, returnvalue }) => call(jobId, (h) => h.completed?.(returnvalue)));
    qe.on('failed', ({ jobId, failedReason }) => call(jobId, (h) => h.failed?.(failedReason)));
    qe.on('removed', ({ jobId }) => call(jobId, (h) => h.removed?.()));
    qe.on('error', (err) => log.warn({ err, workflow: wf }, 'queue events error'));
    return { qe, connection };
  });

  return {
    watch(jobId, handlers) {
      watchers.set(jobId, handlers);
      return () => {
        if (watchers.get(jobId) === handlers) watchers.delete(jobId);
      };
    },
    ready: () => Promise.all(readers.map((r) => r.qe.waitUntilReady())).then(() => undefined),
    async close() {
      for (const r of readers) {
        await r.qe.close();
        r.connection.disconnect(); // handed to BullMQ, so ours to close
      }
    },
  };
}
