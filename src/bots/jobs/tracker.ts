import { randomUUID } from 'node:crypto';
import type { WorkflowRegistry } from '../../comfy/workflows.js';
import { UserError } from '../../errors.js';
import type { JobRecord, JobsRepo, Owner } from '../../history/jobs-repo.js';
import type { Locale } from '../../i18n/index.js';
import type { Logger } from '../../logger.js';
import type { JobEvents } from '../../queue/events.js';
import { shortId } from '../../queue/names.js';
import type { Producer } from '../../queue/producer.js';
import type { Storage } from '../../storage.js';
import { type Outcome, recordOutcome } from '../delivery.js';
import type { ProgressSink } from '../progress/sink.js';
import { validParams } from '../validate.js';
import { createFollower } from './follower.js';
import { createPositionPoller } from './positions.js';
import { createRedelivery } from './redelivery.js';

/** How long a cancel's answer waits for a job a worker holds to end (see cancel). */
const CANCEL_SETTLE_MS = 3000;

/**
 * The job lifecycle as every frontend sees it, written once: history row → enqueue → follow → deliver once.
 * Frontends only supply a ProgressSink; the follower and the position poller do the watching.
 */
export interface Requester {
  platform: 'cli' | 'telegram' | 'discord';
  userId: string;
  locale: Locale;
  chatId?: string;
  messageId?: string;
}

export interface Submitted {
  jobId: string;
  shortId: string;
  position: number;
  params: Record<string, unknown>;
  /** Resolves after the final result or failure was handed to the sink. */
  done: Promise<void>;
}

export interface JobTrackerDeps {
  producer: Producer;
  events: JobEvents;
  repo: JobsRepo;
  storage: Storage;
  workflows: WorkflowRegistry;
  logger: Logger;
  progressIntervalMs: number;
  maxPromptChars: number;
  heartbeatMs?: number;
  previewIntervalMs?: number;
  notifyAfterMs?: number;
  /** Per-user pings on/off (see FollowerDeps.shouldPing). */
  shouldPing?: (record: JobRecord) => boolean;
  wantsSpoiler?: (record: JobRecord) => boolean;
  now?: () => number;
  onDeliveryRetry?: (platform: string) => void;
  onProgressEdit?: (result: 'sent' | 'skipped') => void;
  deliveryDelaysMs?: readonly number[];
}

/**
 * Refuses a workflow that no online worker can run (its ComfyUI lacks a node pack or model), instead of letting
 * it wait forever. With no worker online at all the job is accepted: a worker may be restarting.
 */
async function ensureRunnable(producer: Producer, workflow: string) {
  let workers: Awaited<ReturnType<Producer['onlineWorkers']>>;
  try {
    workers = await producer.onlineWorkers({ withModels: false });
  } catch (err) {
    throw new UserError('error.queue_unavailable', {}, { cause: err });
  }
  if (workers.length === 0 || workers.some((w) => w.workflows?.includes(workflow))) return;
  const missing = workers.map((w) => w.unsupported?.[workflow]).find(Boolean);
  throw new UserError('error.no_capable_worker', { name: workflow, ...(missing ? { missing } : {}) });
}

export function createJobTracker(deps: JobTrackerDeps) {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ module: 'jobs' });
  const positions = createPositionPoller({ producer: deps.producer, intervalMs: deps.progressIntervalMs, logger: log });
  const follower = createFollower({ ...deps, positions, logger: log, now });

  /** History row, then the queue; params already validated by the command are not checked again. */
  async function submit(req: {
    workflow: string;
    params: Record<string, unknown>;
    requester: Requester;
    sink: ProgressSink;
  }): Promise<Submitted> {
    const workflow = deps.workflows.get(req.workflow);
    if (!workflow) throw new UserError('error.unknown_workflow', { name: req.workflow });
    const params = validParams(workflow.manifest, req.params, deps.maxPromptChars);
    const jobId = randomUUID();
    const { platform, userId, chatId, messageId, locale } = req.requester;
    const record = deps.repo.insert({
      id: jobId,
      platform,
      userId,
      chatId,
      messageId,
      locale,
      workflow: req.workflow,
      params,
      createdAt: now(),
    });
    let position: number;
    try {
      ({ position } = await deps.producer.enqueue({
        jobId,
        workflow: req.workflow,
        params,
        requestedBy: { platform, userId },
        createdAt: record.createdAt,
      }));
    } catch (err) {
      // Nothing silently vanishes: the row says why, and the user is told to try again.
      deps.repo.finish(jobId, { status: 'failed', error: `unavailable: could not enqueue: ${(err as Error).message}` });
      deps.repo.markDelivered(jobId); // the user is told right now, as the command's answer
      log.error({ err, jobId }, 'enqueue failed');
      throw new UserError('error.queue_unavailable', {}, { cause: err });
    }
    log.info({ jobId, workflow: req.workflow, platform, position }, 'job queued');
    const done = follower.follow(record, req.sink, position);
    return { jobId, shortId: shortId(jobId), position, params, done };
  }

  async function cancel(idOrShort: string, owner: Owner) {
    const record = deps.repo.getOwned(idOrShort, owner);
    if (!record) throw new UserError('error.job_not_found', { id: idOrShort.slice(0, 36) });
    const outcome = await deps.producer.cancel(record.id, record.workflow);
    if (outcome === 'removed') {
      // Removed while waiting: no worker will ever report it, so finish it here.
      const cancelled: Outcome = { ok: false, failure: { kind: 'cancelled', message: 'cancelled while queued' } };
      if (!(await follower.end(record.id, cancelled))) recordOutcome(deps.repo, record, cancelled);
    }
    // A job a worker holds ends through that worker: at once when it still waits in ComfyUI's queue (handed over
    // early), after the interrupt when it runs. The answer waits a moment so that what it shows is the outcome.
    if (outcome === 'signalled') await follower.settled(record.id, CANCEL_SETTLE_MS);
    log.info({ jobId: record.id, outcome }, 'cancel requested');
    return { record, outcome };
  }

  const redelivery = createRedelivery({ repo: deps.repo, follower, logger: log, now });

  return {
    ensureRunnable: (workflow: string) => ensureRunnable(deps.producer, workflow),
    submit,
    cancel,
    follow: follower.follow,
    /** Start-up: follow every unfinished job of this platform and deliver what it still owes; then every minute. */
    reconcile: redelivery.reconcile,
    /** Shutdown: every followed job's message says the bot restarts and the job is safe. */
    suspendAll: follower.suspendAll,
    async close() {
      redelivery.close();
      positions.close();
      await follower.close();
    },
  };
}

export type JobTracker = ReturnType<typeof createJobTracker>;
