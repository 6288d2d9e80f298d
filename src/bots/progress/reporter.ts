import type { Logger } from '../../logger.js';
import type { ProgressView, ProgressSink } from './sink.js';

/**
 * Owns the freshness of one progress message:
 * - the first update goes out at once, later ones at most one per interval (the latest state wins);
 * - when nothing new arrived for heartbeatMs, a heartbeat render ("still working · 3:41") goes out;
 * - a view whose text and controls equal the last one sent is never sent again (Telegram answers 400
 *   "message is not modified", and every edit spends the chat's rate budget);
 * - never two sink calls in flight; the final state is always delivered, after any in-flight edit.
 * 429s are the platform layer's business (grammY auto-retry, discord.js REST queue), not this one's.
 */
export interface ProgressReporter {
  /** A new state arrived; `render(heartbeat)` builds the view lazily at send time. */
  update(render: (heartbeat: boolean) => ProgressView): void;
  /** Stops progress and runs the final delivery once any in-flight edit has settled. */
  finish(deliver: () => Promise<void>): Promise<void>;
  /** Stops without a final message (shutdown; the job is delivered after restart by reconciliation). */
  stop(): void;
}

export interface ReporterDeps {
  sink: ProgressSink;
  intervalMs: number;
  heartbeatMs?: number;
  now?: () => number;
  logger: Logger;
  /** Counted for metrics: an edit sent, or one skipped because nothing visible changed. */
  onEdit?: (result: 'sent' | 'skipped') => void;
}

export function createProgressReporter(deps: ReporterDeps): ProgressReporter {
  const now = deps.now ?? Date.now;
  const heartbeatMs = deps.heartbeatMs ?? Math.max(30_000, deps.intervalMs * 5);
  let render: ((heartbeat: boolean) => ProgressView) | undefined;
  let hasNew = false;
  let lastKey: string | undefined;
  let lastSentAt = -Infinity;
  let lastChangeAt = now();
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timerDue = 0;
  let done = false;

  const keyOf = (v: ProgressView) => `${v.text}\u0000${v.canCancel}\u0000${v.previewPath ?? ''}`;

  function schedule(delay: number) {
    if (done || timer) return;
    timerDue = now() + Math.max(0, delay);
    timer = setTimeout(
      () => {
        timer = undefined;
        tick();
      },
      Math.max(0, delay),
    );
  }

  function tick() {
    if (done || !render) return;
    if (inFlight) return; // the in-flight call's completion reschedules
    const t = now();
    const sinceSent = t - lastSentAt;
    if (sinceSent < deps.intervalMs) {
      schedule(deps.intervalMs - sinceSent);
      return;
    }
    const heartbeat = !hasNew && t - lastChangeAt >= heartbeatMs;
    if (!hasNew && !heartbeat) {
      schedule(heartbeatMs - (t - lastChangeAt));
      return;
    }
    hasNew = false;
    const view = render(heartbeat);
    const key = keyOf(view);
    if (key === lastKey) {
      deps.onEdit?.('skipped');
      if (heartbeat) lastChangeAt = t;
      schedule(heartbeat ? heartbeatMs : deps.intervalMs);
      return;
    }
    lastKey = key;
    lastSentAt = t;
    deps.onEdit?.('sent');
    if (heartbeat) lastChangeAt = t;
    inFlight = deps.sink
      .showProgress(view)
      .catch((err) => deps.logger.warn({ err, jobId: view.jobId }, 'progress update failed'))
      .finally(() => {
        inFlight = undefined;
        if (!done) schedule(hasNew ? deps.intervalMs - (now() - lastSentAt) : heartbeatMs);
      });
  }

  return {
    update(next) {
      if (done) return;
      render = next;
      hasNew = true;
      lastChangeAt = now();
      // The earliest moment the next edit is allowed; pull a later (heartbeat) timer forward to it.
      const due = Math.max(now(), lastSentAt + deps.intervalMs);
      if (timer && timerDue > due) {
        clearTimeout(timer);
        timer = undefined;
      }
      if (!timer && !inFlight) schedule(due - now());
    },
    async finish(deliver) {
      done = true;
      clearTimeout(timer);
      timer = undefined;
      if (inFlight) await inFlight;
      await deliver();
    },
    stop() {
      done = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
