import { randomUUID } from 'node:crypto';
import { paramsSchemaOf, withSeeds } from '../comfy/params.js';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import { UserError } from '../errors.js';
import type { JobRecord, JobsRepo, Owner } from '../history/jobs-repo.js';
import { asLocale, type Locale } from '../i18n/index.js';
import type { Logger } from '../logger.js';
import { decodeFailure, generationResultSchema, progressEventSchema } from '../queue/contracts.js';
import type { JobEvents } from '../queue/events.js';
import { shortId } from '../queue/names.js';
import type { Producer } from '../queue/producer.js';
import type { Storage } from '../storage.js';
import { finalize, type DeliveryDeps, type Outcome } from './delivery.js';
import type { JobInfo, ProgressState } from './progress/model.js';
import { renderProgress } from './progress/render.js';
import { createProgressReporter } from './progress/reporter.js';
import type { ProgressSink } from './progress/sink.js';

/**
 * A little over 300 lines: submit, follow, reconcile and cancel share the per-job maps (followed, queued, enders),
 * which is what keeps delivery exactly-once; splitting them would expose that state.
 *
 * The job lifecycle as every frontend sees it, written once: validate → history row → enqueue →
 * follow (positions, progress, final state) → deliver exactly once. Frontends only supply a ProgressSink.
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
  now?: () => number;
}

export function createJobTracker(deps: JobTrackerDeps) {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ module: 'jobs' });
  const delivery: DeliveryDeps = { repo: deps.repo, storage: deps.storage, logger: log };
  const queued = new Map<string, { workflow: string; update: (position: number) => void }>();
  const following = new Map<string, Promise<void>>();
  const enders = new Map<string, (o: Outcome) => Promise<void>>();

  // One position poll for every waiting job this process follows: one Redis round trip per interval.
  const positionTimer = setInterval(() => {
    if (queued.size === 0) return;
    deps.producer
      .positions([...queued.values()].map((q) => q.workflow))
      .then((pos) => {
        for (const [id, q] of queued) {
          const p = pos.get(id);
          if (p !== undefined) q.update(p);
        }
      })
      .catch((err) => log.warn({ err }, 'could not read queue positions'));
  }, deps.progressIntervalMs);
  positionTimer.unref();

  // Safety net for events lost to a Redis disconnect: every 30 s, ask BullMQ about the jobs still followed.
  const sweepTimer = setInterval(() => {
    for (const [id, end] of enders) {
      const rec = deps.repo.get(id);
      if (rec) void checkState(rec, end);
    }
  }, 30_000);
  sweepTimer.unref();

  function validate(workflowName: string, params: Record<string, unknown>) {
    const workflow = deps.workflows.get(workflowName);
    if (!workflow) throw new UserError('error.unknown_workflow', { name: workflowName });
    for (const p of workflow.manifest.params) {
      const v = params[p.name];
      const max = p.type === 'text' ? Math.min(p.maxLength, deps.maxPromptChars) : 0;
      if (p.type === 'text' && typeof v === 'string' && v.trim().length > max) {
        throw new UserError('error.prompt_too_long', { length: v.trim().length, max });
      }
    }
    const parsed = paramsSchemaOf(workflow.manifest, deps.maxPromptChars).safeParse(params);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `• ${i.path.join('.') || '(options)'}: ${i.message}`).join('\n');
      throw new UserError('error.invalid_options', { issues });
    }
    return { workflow, params: withSeeds(workflow.manifest, parsed.data as Record<string, unknown>) };
  }

  /**
   * Refuses a workflow that no online worker can run (its ComfyUI lacks a node pack or model), instead of letting
   * it wait forever. With no worker online at all the job is accepted: a worker may be restarting.
   */
  async function ensureRunnable(workflow: string) {
    let workers: Awaited<ReturnType<Producer['onlineWorkers']>>;
    try {
      workers = await deps.producer.onlineWorkers();
    } catch (err) {
      throw new UserError('error.queue_unavailable', {}, { cause: err });
    }
    if (workers.length === 0 || workers.some((w) => w.workflows?.includes(workflow))) return;
    const missing = workers.map((w) => w.unsupported?.[workflow]).find(Boolean);
    throw new UserError('error.no_capable_worker', { name: workflow, ...(missing ? { missing } : {}) });
  }

  /** Follows one job to its end; safe to call more than once per job (the first call wins). */
  function follow(record: JobRecord, sink: ProgressSink, initialPosition = 0): Promise<void> {
    const existing = following.get(record.id);
    if (existing) return existing;
    const locale = asLocale(record.locale);
    const info: JobInfo = {
      jobId: record.id,
      shortId: record.shortId,
      workflow: record.workflow,
      createdAt: record.createdAt,
      typicalMs: median(deps.repo.recentDurations(record.workflow)),
    };
    const reporter = createProgressReporter({
      sink,
      intervalMs: deps.progressIntervalMs,
      heartbeatMs: deps.heartbeatMs,
      now,
      logger: log,
    });
    let state: ProgressState =
      record.status === 'running'
        ? { phase: 'running', percent: record.progress, startedAt: record.startedAt ?? now() }
        : { phase: 'queued', position: initialPosition };
    const push = () => {
      const s = state;
      reporter.update((heartbeat) => ({
        ...renderProgress(s, info, locale, { now: now(), heartbeat }),
        jobId: record.id,
        shortId: record.shortId,
        locale,
        canCancel: true,
      }));
    };

    let settle!: () => void;
    const done = new Promise<void>((r) => (settle = r));
    let finished = false;
    const end = async (outcome: Outcome) => {
      if (finished) return;
      finished = true;
      unwatch();
      queued.delete(record.id);
      const view = finalize(delivery, record, outcome);
      await reporter.finish(async () => {
        if (!view) return;
        try {
          if ('result' in view) await sink.showResult(view.result);
          else await sink.showFailure(view.failure);
        } catch (err) {
          log.error({ err, jobId: record.id }, 'final delivery failed');
        }
      });
      following.delete(record.id);
      enders.delete(record.id);
      settle();
    };

    const unwatch = deps.events.watch(record.id, {
      active() {
        queued.delete(record.id);
        deps.repo.markRunning(record.id);
        if (state.phase === 'queued') {
          state = { phase: 'running', percent: 0, startedAt: now() };
          push();
        }
      },
      progress(data) {
        const p = progressEventSchema.safeParse(data);
        if (!p.success) return;
        queued.delete(record.id);
        const e = p.data;
        if (state.phase === 'queued')
          deps.repo.markRunning(record.id, { comfyUrl: e.comfyUrl, promptId: record.id, at: e.startedAt });
        deps.repo.setProgress(record.id, e.percent);
        state = {
          phase: 'running',
          percent: e.percent,
          startedAt: e.startedAt,
          node: e.node,
          nodeClass: e.nodeClass,
          step: e.step,
          comfyPosition: e.comfyPosition,
          previewPath: e.previewPath ? deps.storage.resolveInside(e.previewPath) : undefined,
          previewSeq: e.previewSeq,
        };
        push();
      },
      completed(rv) {
        const r = generationResultSchema.safeParse(rv);
        void end(
          r.success
            ? { ok: true, result: r.data }
            : { ok: false, failure: { kind: 'internal', message: 'malformed result' } },
        );
      },
      failed(reason) {
        void end({ ok: false, failure: decodeFailure(reason) });
      },
      removed() {
        void end({ ok: false, failure: { kind: 'cancelled', message: 'removed from the queue' } });
      },
    });
    if (state.phase === 'queued') {
      queued.set(record.id, {
        workflow: record.workflow,
        update: (position) => {
          if (state.phase === 'queued' && state.position !== position) {
            state = { phase: 'queued', position };
            push();
          }
        },
      });
    }
    push();
    following.set(record.id, done);
    enders.set(record.id, end);
    // The job may have ended before we started listening (fast job, or a restart): ask once.
    void checkState(record, end);
    return done;
  }

  async function checkState(record: JobRecord, end: (o: Outcome) => Promise<void>) {
    try {
      const s = await deps.producer.state(record.id, record.workflow);
      if (!s) {
        // Gone from Redis entirely (removed while waiting, or expired): it will not finish by itself.
        await end({ ok: false, failure: { kind: 'lost', message: 'the job is no longer in the queue' } });
      } else if (s.state === 'completed') {
        const r = generationResultSchema.safeParse(s.result);
        await end(
          r.success
            ? { ok: true, result: r.data }
            : { ok: false, failure: { kind: 'internal', message: 'malformed result' } },
        );
      } else if (s.state === 'failed') {
        await end({ ok: false, failure: decodeFailure(s.failedReason) });
      }
    } catch (err) {
      log.warn({ err, jobId: record.id }, 'could not read job state');
    }
  }

  return {
    validate,
    ensureRunnable,

    async submit(req: {
      workflow: string;
      params: Record<string, unknown>;
      requester: Requester;
      sink: ProgressSink;
    }): Promise<Submitted> {
      const { params } = validate(req.workflow, req.params);
      await ensureRunnable(req.workflow);
      const jobId = randomUUID();
      const record = deps.repo.insert({
        id: jobId,
        platform: req.requester.platform,
        userId: req.requester.userId,
        chatId: req.requester.chatId,
        messageId: req.requester.messageId,
        locale: req.requester.locale,
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
          requestedBy: { platform: req.requester.platform, userId: req.requester.userId },
          createdAt: record.createdAt,
        }));
      } catch (err) {
        // Nothing silently vanishes: the row says why, and the user is told to try again.
        deps.repo.finish(jobId, {
          status: 'failed',
          error: `unavailable: could not enqueue: ${(err as Error).message}`,
        });
        log.error({ err, jobId }, 'enqueue failed');
        throw new UserError('error.queue_unavailable', {}, { cause: err });
      }
      log.info({ jobId, workflow: req.workflow, platform: req.requester.platform, position }, 'job queued');
      const done = follow(record, req.sink, position);
      return { jobId, shortId: shortId(jobId), position, params, done };
    },

    follow,

    /** Start-up reconciliation: follow (and so finish) every unfinished job of this platform. */
    reconcile(platform: string, sinkFor: (r: JobRecord) => ProgressSink | undefined): Promise<void>[] {
      return deps.repo.unfinished(platform).flatMap((r) => {
        const sink = sinkFor(r);
        return sink ? [follow(r, sink)] : [];
      });
    },

    async cancel(
      idOrShort: string,
      owner: Owner,
    ): Promise<{ record: JobRecord; outcome: 'removed' | 'signalled' | 'gone' }> {
      const record = deps.repo.getOwned(idOrShort, owner);
      if (!record) throw new UserError('error.job_not_found', { id: idOrShort.slice(0, 36) });
      const outcome = await deps.producer.cancel(record.id, record.workflow);
      if (outcome === 'removed') {
        // Removed while waiting: no worker will ever report it, so finish it here.
        const cancelled: Outcome = { ok: false, failure: { kind: 'cancelled', message: 'cancelled while queued' } };
        const end = enders.get(record.id);
        if (end) await end(cancelled);
        else finalize(delivery, record, cancelled);
      }
      log.info({ jobId: record.id, outcome }, 'cancel requested');
      return { record, outcome };
    },

    close() {
      clearInterval(positionTimer);
      clearInterval(sweepTimer);
    },
  };
}

export type JobTracker = ReturnType<typeof createJobTracker>;

function median(xs: number[]): number | undefined {
  if (xs.length < 3) return undefined; // too few runs to predict anything
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
