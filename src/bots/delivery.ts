/**
 * Final delivery of a job: history row to its final state, then the sink's result or failure — exactly once.
 *
 * Mechanism: live QueueEvents (completed/failed) plus reconciliation at start-up. A frontend that was down
 * when a job finished misses the event, so on start it walks its history rows still 'queued'/'running' and
 * asks BullMQ for their state (completed and failed jobs are kept 7 days). "Exactly once" comes from SQLite:
 * `repo.finish` changes a row only while it is not final, and only the caller that changed it delivers.
 * We chose this over a separate "deliver" job because the history row already is the durable record of
 * who must be told, and the reconciliation walk is one indexed query.
 */
import { randomBytes } from 'node:crypto';
import type { JobRecord, JobsRepo } from '../history/jobs-repo.js';
import { asLocale, formatDuration, t, type Locale } from '../i18n/index.js';
import type { Logger } from '../logger.js';
import type { Failure, GenerationResult } from '../queue/contracts.js';
import type { Storage } from '../storage.js';
import type { FailureView, ResultView } from './progress/sink.js';

export type Outcome = { ok: true; result: GenerationResult } | { ok: false; failure: Failure };

export interface DeliveryDeps {
  repo: JobsRepo;
  storage: Storage;
  logger: Logger;
}

/** Moves the row to its final state; returns the view to deliver, or undefined when it was already final. */
export function finalize(
  deps: DeliveryDeps,
  job: JobRecord,
  outcome: Outcome,
): { result: ResultView } | { failure: FailureView } | undefined {
  const locale = asLocale(job.locale);
  const base = { jobId: job.id, shortId: job.shortId, locale };
  if (outcome.ok) {
    const r = outcome.result;
    const changed = deps.repo.finish(job.id, {
      status: 'succeeded',
      outputs: r.files,
      comfyUrl: r.comfyUrl,
      promptId: r.promptId,
      startedAt: r.startedAt,
      at: r.finishedAt,
    });
    if (!changed) return undefined;
    const durationMs = r.finishedAt - r.startedAt;
    return {
      result: {
        ...base,
        workflow: job.workflow,
        params: job.params,
        files: r.files.map((f) => ({ ...f, absolutePath: deps.storage.resolveInside(f.path) })),
        durationMs,
        text: t(locale, 'progress.done', { time: formatDuration(durationMs), count: r.files.length }),
      },
    };
  }
  const failure = outcome.failure;
  const status = failure.kind === 'cancelled' ? 'cancelled' : 'failed';
  if (!deps.repo.finish(job.id, { status, error: `${failure.kind}: ${failure.message}` })) return undefined;
  return { failure: { ...base, failure, text: failureText(deps.logger, locale, job.id, failure) } };
}

export function failureText(logger: Logger, locale: Locale, jobId: string, f: Failure): string {
  const node = f.nodeClass ? `${f.node ?? '?'} (${f.nodeClass})` : f.node;
  switch (f.kind) {
    case 'cancelled':
      return t(locale, 'failure.cancelled');
    case 'internal': {
      const ref = randomBytes(3).toString('hex');
      logger.error({ ref, jobId, failure: f }, 'job failed unexpectedly');
      return t(locale, 'failure.internal', { ref });
    }
    default:
      return t(locale, `failure.${f.kind}`, { message: f.message.trim(), ...(node ? { node } : {}) });
  }
}
