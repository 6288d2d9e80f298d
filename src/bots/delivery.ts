/**
 * Final delivery of a job, at least once.
 *
 * The history row records two facts apart: the final state (`finish`, changed once, by whoever learns it first: a
 * live QueueEvents message, the follower's start-up check or its sweep) and the delivery (`delivered_at`, set only
 * after the sink has shown the result or the failure). A delivery that fails (platform 5xx, network errors, a 429 the
 * SDK gave up on) is retried with backoff; one that still fails stays owed and is tried again by the tracker's
 * redelivery sweep and at every start, so a crash or an outage between the worker's finish and the chat never loses a
 * result. Errors a retry cannot fix (the bot was blocked, the chat is gone) are given up at once and logged.
 *
 * What can still be duplicated, and why: a result made of several messages (an album plus documents, several
 * Discord batches) that failed halfway is sent again from its first message, because the platforms offer no way to
 * ask which of our uploads landed. Telegram edits of the job's own message and Discord channel posts (sent with a
 * nonce derived from the job, which Discord de-duplicates for a few minutes) are harmless to repeat.
 */
import { randomBytes } from 'node:crypto';
import type { JobRecord, JobsRepo } from '../history/jobs-repo.js';
import { asLocale, formatDuration, type Locale, t } from '../i18n/index.js';
import type { Logger } from '../logger.js';
import { type Failure, failureKinds, type GenerationResult } from '../queue/contracts.js';
import type { Storage } from '../storage.js';
import { type FailureView, isPermanentDeliveryError, type ProgressSink, type ResultView } from './progress/sink.js';

export type Outcome = { ok: true; result: GenerationResult } | { ok: false; failure: Failure };

export interface DeliveryDeps {
  repo: JobsRepo;
  storage: Storage;
  logger: Logger;
}

/** Records the final state (a no-op when the row already is final). */
export function recordOutcome(repo: JobsRepo, job: JobRecord, outcome: Outcome): void {
  if (outcome.ok) {
    const r = outcome.result;
    repo.finish(job.id, {
      status: 'succeeded',
      outputs: r.files,
      comfyUrl: r.comfyUrl,
      promptId: r.promptId,
      startedAt: r.startedAt,
      at: r.finishedAt,
    });
    return;
  }
  const f = outcome.failure;
  repo.finish(job.id, { status: f.kind === 'cancelled' ? 'cancelled' : 'failed', error: `${f.kind}: ${f.message}` });
}

export type FinalView = { result: ResultView } | { failure: FailureView };

/** What to show for a final row; the live outcome, when there is one, adds what the row does not keep (the node). */
export function viewOf(deps: DeliveryDeps, row: JobRecord, outcome?: Outcome): FinalView {
  const locale = asLocale(row.locale);
  const base = { jobId: row.id, shortId: row.shortId, locale };
  if (row.status === 'succeeded') {
    const durationMs = Math.max(0, (row.finishedAt ?? 0) - (row.startedAt ?? row.finishedAt ?? 0));
    return {
      result: {
        ...base,
        workflow: row.workflow,
        params: row.params,
        files: row.outputs.map((f) => ({ ...f, absolutePath: deps.storage.resolveInside(f.path) })),
        durationMs,
        text: t(locale, 'progress.done', { time: formatDuration(durationMs), count: row.outputs.length }),
      },
    };
  }
  const failure = outcome && !outcome.ok ? outcome.failure : failureOf(row);
  return { failure: { ...base, failure, text: failureText(deps.logger, locale, row.id, failure) } };
}

/** The failure a row recorded as `kind: message`. */
function failureOf(row: JobRecord): Failure {
  const m = /^([a-z]+): ([\s\S]*)$/.exec(row.error ?? '');
  const kind = failureKinds.find((k) => k === m?.[1]) ?? (row.status === 'cancelled' ? 'cancelled' : 'internal');
  return { kind, message: m?.[2] ?? row.error ?? '' };
}

/** Backoff between delivery attempts: about a minute and a half in all, enough for a short platform outage. */
export const DELIVERY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000, 30_000];

/**
 * Shows the final view, retrying what a retry can fix. 'delivered' and 'given-up' are settled (the row is marked);
 * 'owed' is left for the redelivery sweep.
 */
export async function deliver(
  sink: ProgressSink,
  view: FinalView,
  opts: { logger: Logger; onRetry?: () => void; delaysMs?: readonly number[] },
): Promise<'delivered' | 'given-up' | 'owed'> {
  const delays = opts.delaysMs ?? DELIVERY_DELAYS_MS;
  const jobId = 'result' in view ? view.result.jobId : view.failure.jobId;
  for (let attempt = 0; ; attempt++) {
    try {
      if ('result' in view) await sink.showResult(view.result);
      else await sink.showFailure(view.failure);
      return 'delivered';
    } catch (err) {
      if (isPermanentDeliveryError(err)) {
        opts.logger.warn({ err: (err as Error).message, jobId }, 'the chat cannot receive this result; giving up');
        return 'given-up';
      }
      const delay = delays[attempt];
      if (delay === undefined) {
        opts.logger.error({ err, jobId }, 'delivery failed after retries; it stays owed and is tried again later');
        return 'owed';
      }
      opts.logger.warn({ err: (err as Error).message, jobId, attempt: attempt + 1 }, 'delivery failed; retrying');
      opts.onRetry?.();
      await new Promise((r) => setTimeout(r, delay));
    }
  }
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
    default: {
      const message = forUsers(f.message.trim());
      if (message !== f.message.trim()) logger.info({ jobId, failure: f }, 'failure details kept from the user');
      return t(locale, `failure.${f.kind}`, { message, ...(node ? { node } : {}) });
    }
  }
}

/** Failure texts reach end users: addresses, hosts and file paths stay in the log. */
export function forUsers(message: string): string {
  return message
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>)]+/gi, '…')
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, '…')
    .replace(/(?:^|(?<=[\s'"(=]))(?:[A-Za-z]:)?(?:[/\\][\w.@-]+){2,}[/\\]?/g, '…');
}
