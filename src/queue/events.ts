import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { generateQueue } from './names.js';
import { repeatedErrorLog } from './redis.js';

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
export function createJobEvents(deps: {
  connection: () => Redis;
  prefix: string;
  workflows: Iterable<string>;
  logger: Logger;
}): JobEvents {
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
  const workflows = [...new Set(deps.workflows)];
  const readers: Array<{ qe: QueueEvents; connection: Redis }> = [];
  const logError = repeatedErrorLog((obj, msg) => log.warn(obj, msg), 'queue events error');

  /**
   * Each reader starts from the stream's last id read *before* it was created, not from "$" at its first XREAD:
   * an event published in between (a job finishing while a restarted frontend starts) would otherwise be lost.
   */
  async function start() {
    for (const wf of workflows) {
      const connection = deps.connection();
      const name = generateQueue(wf);
      const last = (await connection.xrevrange(`${deps.prefix}:${name}:events`, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
      const qe = new QueueEvents(name, { connection, prefix: deps.prefix, lastEventId: last });
      qe.on('active', ({ jobId }) => call(jobId, (h) => h.active?.()));
      qe.on('progress', ({ jobId, data }) => call(jobId, (h) => h.progress?.(data)));
      qe.on('completed', ({ jobId, returnvalue }) => call(jobId, (h) => h.completed?.(returnvalue)));
      qe.on('failed', ({ jobId, failedReason }) => call(jobId, (h) => h.failed?.(failedReason)));
      qe.on('removed', ({ jobId }) => call(jobId, (h) => h.removed?.()));
      qe.on('error', (err) => logError(err, { workflow: wf }));
      readers.push({ qe, connection });
    }
    await Promise.all(readers.map((r) => r.qe.waitUntilReady()));
  }
  let started: Promise<void> | undefined;

  return {
    watch(jobId, handlers) {
      watchers.set(jobId, handlers);
      return () => {
        if (watchers.get(jobId) === handlers) watchers.delete(jobId);
      };
    },
    ready: () => (started ??= start()),
    async close() {
      await started?.catch(() => undefined);
      for (const r of readers) {
        await r.qe.close();
        r.connection.disconnect(); // handed to BullMQ, so ours to close
      }
    },
  };
}
