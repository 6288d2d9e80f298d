import { finalStatuses, type JobRecord, type JobsRepo, type JobStatus } from '../../history/jobs-repo.js';
import { asLocale, type Locale } from '../../i18n/index.js';
import type { Logger } from '../../logger.js';
import {
  decodeFailure,
  generationResultSchema,
  type ProgressEvent,
  progressEventSchema,
} from '../../queue/contracts.js';
import type { JobEvents } from '../../queue/events.js';
import type { Producer } from '../../queue/producer.js';
import type { Storage } from '../../storage.js';
import type { FrontendFiles } from '../../transfer/frontend-files.js';
import { type DeliveryDeps, deliver, type FinalView, type Outcome, recordOutcome, viewOf } from '../delivery.js';
import type { JobInfo, ProgressState } from '../progress/model.js';
import { renderProgress } from '../progress/render.js';
import { createProgressReporter } from '../progress/reporter.js';
import type { ProgressSink, ProgressView } from '../progress/sink.js';
import type { PositionPoller } from './positions.js';

/**
 * Follows jobs from queued to delivered: queue positions, progress events, the final state. Each job's end is
 * delivered once: the first of a live event, the start-up check or the 30 s sweep wins (`finalize` changes the
 * history row only while it is not final).
 */
export interface FollowerDeps {
  producer: Producer;
  events: JobEvents;
  repo: JobsRepo;
  storage: Storage;
  positions: PositionPoller;
  logger: Logger;
  progressIntervalMs: number;
  /** HEARTBEAT_S: "still working" after this long without an update. */
  heartbeatMs?: number;
  /** PREVIEW_INTERVAL_S: at most one new preview picture per message per this long (0: none). */
  previewIntervalMs?: number;
  /** NOTIFY_AFTER_S: a job that took longer (from the command to its end) also pings its user when it ends. */
  notifyAfterMs?: number;
  /**
   * Whether this job's user wants that ping. A hook for the per-user settings (pings on/off); until they exist,
   * every long job pings.
   */
  shouldPing?: (record: JobRecord) => boolean;
  /** Results shown as spoilers (the user's setting, or the chat's policy). */
  wantsSpoiler?: (record: JobRecord) => boolean;
  now: () => number;
  /** Counted for metrics: one failed delivery attempt that will be retried. */
  onDeliveryRetry?: (platform: string) => void;
  onProgressEdit?: (result: 'sent' | 'skipped') => void;
  deliveryDelaysMs?: readonly number[];
  /** Outputs made on another disk come through the transfer store before delivery; absent: one shared disk. */
  transfer?: Pick<FrontendFiles, 'receiveOutputs' | 'release' | 'previewOf'>;
}

const isFinal = (s: JobStatus) => finalStatuses.includes(s);

const malformed: Outcome = { ok: false, failure: { kind: 'internal', message: 'malformed result' } };
const resultOutcome = (value: unknown): Outcome => {
  const r = generationResultSchema.safeParse(value);
  return r.success ? { ok: true, result: r.data } : malformed;
};

export function createFollower(deps: FollowerDeps) {
  const { now, logger: log } = deps;
  const delivery: DeliveryDeps = { repo: deps.repo, storage: deps.storage, logger: log };
  const inFlight = new Set<Promise<void>>();
  const following = new Map<
    string,
    {
      done: Promise<void>;
      end: (o?: Outcome) => Promise<void>;
      suspend: (view: ProgressView) => Promise<void>;
      record: JobRecord;
      locale: Locale;
    }
  >();

  /** Shows a final row's result or failure, then marks it delivered (unless it stays owed for a later sweep). */
  async function deliverOwed(jobId: string, sink: ProgressSink, outcome?: Outcome) {
    const row = deps.repo.get(jobId);
    if (!row || row.deliveredAt || !isFinal(row.status)) return;
    let shown = row;
    if (row.status === 'succeeded' && deps.transfer) {
      // Unreachable store: the job stays owed and the redelivery sweep comes back to it.
      const isHere = await deps.transfer.receiveOutputs(row).catch((err) => {
        log.warn({ err, jobId }, 'could not fetch the outputs from the transfer store; delivery stays owed');
      });
      if (isHere === undefined) return;
      if (!isHere) shown = { ...row, status: 'failed', error: 'internal: the outputs expired in the transfer store' };
    }
    const view = withSpoiler(withPing(viewOf(delivery, shown, outcome), wantsPing(row)), deps.wantsSpoiler?.(row));
    const result = await deliver(sink, view, {
      logger: log,
      onRetry: () => deps.onDeliveryRetry?.(row.platform),
      delaysMs: deps.deliveryDelaysMs,
    });
    if (result === 'owed') return;
    deps.repo.markDelivered(jobId);
    await deps.transfer?.release(jobId).catch((err) => log.warn({ err, jobId }, 'could not clear the transfer store'));
  }

  /** Long jobs end with a ping as well as the edit; a cancel needs none (the user asked for it). */
  function wantsPing(row: JobRecord): boolean {
    if (deps.notifyAfterMs === undefined || row.status === 'cancelled') return false;
    const took = (row.finishedAt ?? now()) - row.createdAt;
    return took > deps.notifyAfterMs && (deps.shouldPing?.(row) ?? true);
  }

  // Safety net for events lost to a Redis disconnect: every 30 s, ask BullMQ about the jobs still followed.
  const sweepTimer = setInterval(() => {
    for (const [id, f] of following) {
      const rec = deps.repo.get(id);
      if (rec) void checkState(rec, f.end);
    }
  }, 30_000);
  sweepTimer.unref();

  function initialState(record: JobRecord, position: number): ProgressState {
    return record.status === 'running'
      ? { phase: 'running', percent: record.progress, startedAt: record.startedAt ?? now() }
      : { phase: 'queued', position };
  }

  /** Follows one job to its end; safe to call more than once per job (the first call wins). */
  function follow(record: JobRecord, sink: ProgressSink, initialPosition = 0): Promise<void> {
    const existing = following.get(record.id);
    if (existing) return existing.done;
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
      previewIntervalMs: deps.previewIntervalMs,
      now,
      logger: log,
      onEdit: deps.onProgressEdit,
    });
    let state = initialState(record, initialPosition);
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
    let unwatch = () => {};
    const end = async (outcome?: Outcome) => {
      if (finished) return;
      finished = true;
      unwatch();
      deps.positions.unwatch(record.id);
      const delivering = (async () => {
        if (outcome) recordOutcome(deps.repo, record, outcome);
        await reporter.finish(() => deliverOwed(record.id, sink, outcome));
      })()
        // A delivery cut short (shutdown closed the history) stays owed: the next start delivers it.
        .catch((err) => log.warn({ err, jobId: record.id }, 'delivery interrupted; it stays owed'))
        .finally(() => inFlight.delete(delivering));
      inFlight.add(delivering);
      await delivering;
      following.delete(record.id);
      settle();
    };
    const suspend = async (view: ProgressView) => {
      if (finished) return;
      finished = true;
      unwatch();
      reporter.stop();
      await sink.showProgress(view).catch((err) => log.warn({ err, jobId: record.id }, 'could not say we restart'));
      following.delete(record.id);
      settle();
    };
    if (isFinal(record.status)) {
      // Already final, still owed to the chat (a crash or an outage came between): deliver it, nothing to watch.
      following.set(record.id, { done, end, suspend, record, locale });
      void end();
      return done;
    }

    // From a worker on another disk the preview comes through the transfer store: the newest one fetched is shown.
    const previewFromStore = (e: ProgressEvent) =>
      e.previewInStore && e.previewPath && deps.transfer
        ? deps.transfer.previewOf(record.id, { previewPath: e.previewPath, previewSeq: e.previewSeq }, (p) => {
            if (state.phase !== 'running') return;
            state = { ...state, ...p };
            push();
          })
        : {};
    let savedProgressAt = Number.NEGATIVE_INFINITY;
    const toRunning = () => {
      deps.positions.unwatch(record.id);
      if (state.phase !== 'queued') return false;
      state = { phase: 'running', percent: 0, startedAt: now() };
      return true;
    };
    unwatch = deps.events.watch(record.id, {
      // Taken by a worker; the worker's first progress event (sent at once) says whether it runs or, handed over
      // early, still waits behind its GPU's running job, which for the user is "next up".
      progress(data) {
        const p = progressEventSchema.safeParse(data);
        if (!p.success) return;
        const e = p.data;
        if (e.queuedOnGpu) {
          if (state.phase === 'queued' && state.position !== 0) {
            state = { phase: 'queued', position: 0 };
            push();
          }
          return;
        }
        if (state.phase === 'queued')
          deps.repo.markRunning(record.id, { comfyUrl: e.comfyUrl, promptId: record.id, at: e.startedAt });
        toRunning();
        // The history's percent is read after a restart and by /me: one write per progress interval is enough, where
        // every event was an UPDATE (a dozen a job, the frontend's costliest statement).
        if (now() - savedProgressAt >= deps.progressIntervalMs) {
          deps.repo.setProgress(record.id, e.percent);
          savedProgressAt = now();
        }
        state = {
          ...e,
          phase: 'running',
          previewPath: e.previewPath ? deps.storage.resolveInside(e.previewPath) : undefined,
          ...previewFromStore(e),
        };
        push();
      },
      completed: (rv) => void end(resultOutcome(rv)),
      failed: (reason) => void end({ ok: false, failure: decodeFailure(reason) }),
      removed: () => void end({ ok: false, failure: { kind: 'cancelled', message: 'removed from the queue' } }),
    });
    if (state.phase === 'queued') {
      deps.positions.watch(record.id, record.workflow, (position) => {
        if (state.phase === 'queued' && state.position !== position) {
          state = { phase: 'queued', position };
          push();
        }
      });
    }
    push();
    following.set(record.id, { done, end, suspend, record, locale });
    // The job may have ended before we started listening (fast job, or a restart): ask once.
    void checkState(record, end);
    return done;
  }

  async function checkState(record: JobRecord, end: (o: Outcome) => Promise<void>) {
    try {
      const s = await deps.producer.state(record.id, record.workflow);
      // Gone from Redis entirely (removed while waiting, or expired): it will not finish by itself.
      if (!s) await end({ ok: false, failure: { kind: 'lost', message: 'the job is no longer in the queue' } });
      else if (s.state === 'completed') await end(resultOutcome(s.result));
      else if (s.state === 'failed') await end({ ok: false, failure: decodeFailure(s.failedReason) });
    } catch (err) {
      log.warn({ err, jobId: record.id }, 'could not read job state');
    }
  }

  return {
    follow,
    isFollowing: (jobId: string) => following.has(jobId),
    /**
     * Shutdown: each followed job's message says the bot restarts and the job is safe; the next start continues
     * the same message (reconciliation) and delivers the result.
     */
    async suspendAll(view: (record: JobRecord, locale: Locale) => ProgressView) {
      await Promise.all([...following.values()].map((f) => f.suspend(view(f.record, f.locale))));
    },
    /** Resolves when a followed job has ended (delivered or failed), or after `ms`, whichever comes first. */
    async settled(jobId: string, ms: number): Promise<void> {
      const f = following.get(jobId);
      if (!f) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([f.done.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
      clearTimeout(timer);
    },
    /** Ends a followed job now (a cancel while queued); false when this process does not follow it. */
    async end(jobId: string, outcome: Outcome): Promise<boolean> {
      const f = following.get(jobId);
      if (!f) return false;
      await f.end(outcome);
      return true;
    },
    /** Stops the sweep and lets deliveries already under way finish (at most `graceMs`) before the history closes. */
    async close(graceMs = 5_000) {
      clearInterval(sweepTimer);
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
      await Promise.race([Promise.all(inFlight), grace]);
      clearTimeout(timer);
    },
  };
}

export type Follower = ReturnType<typeof createFollower>;

function withSpoiler(view: FinalView, spoiler: boolean | undefined): FinalView {
  return spoiler && 'result' in view ? { result: { ...view.result, spoiler } } : view;
}

function withPing(view: FinalView, notify: boolean): FinalView {
  if (!notify) return view;
  return 'result' in view ? { result: { ...view.result, notify } } : { failure: { ...view.failure, notify } };
}

function median(xs: number[]): number | undefined {
  if (xs.length < 3) return undefined; // too few runs to predict anything
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
