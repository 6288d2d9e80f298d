import type { Logger } from '../../logger.js';
import type { ProgressLane, ProgressSink, ProgressView, SendSlot } from './sink.js';

/**
 * Owns the freshness of one progress message:
 * - the first update goes out at once, or after the sink's grace (`graceMs`, with `showActivity` meanwhile) so that a
 *   job done by then shows only its result; later ones at most one per interval (the latest state wins);
 * - when nothing was sent for heartbeatMs, a heartbeat render ("still working · 3:41") goes out, so a silent model
 *   load or VAE decode never looks dead;
 * - a new preview picture rides along at most once per previewIntervalMs, and only when the frame changed; in
 *   between, views carry no picture (the message keeps the one it shows);
 * - a view whose text and controls equal the last one sent, with no new picture, is never sent (Telegram answers
 *   400 "message is not modified", and every edit spends the chat's rate budget); after a heartbeat, the same state
 *   again is not news either;
 * - never two sink calls in flight. When the sink shares a budget with other messages (`slot`), the reporter first
 *   waits for its turn and renders only then, so a late turn shows the newest state. It asks in the lane of what the
 *   message lacks: a change of phase (nothing shown yet, or queued → running) in `started`/`queued`, ahead of other
 *   jobs' percentages; otherwise `progress`, or `heartbeat` for a tick. A wait in a lower lane is given up and asked
 *   again higher as soon as real progress or a change of phase arrives;
 * - the final state is always delivered: a turn still waited for is given up at once, an edit already under way
 *   is awaited; no progress (and no picture) goes out after it.
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
  /** Default 10 s (HEARTBEAT_S). */
  heartbeatMs?: number;
  /** At most one new preview picture per this long; 0 = never. Default 5 s (PREVIEW_INTERVAL_S). */
  previewIntervalMs?: number;
  now?: () => number;
  logger: Logger;
  /** Counted for metrics: an edit sent, or one skipped because nothing visible changed. */
  onEdit?: (result: 'sent' | 'skipped') => void;
}

const keyOf = (v: ProgressView) => `${v.text}\u0000${v.canCancel}`;
const withoutPreview = (v: ProgressView): ProgressView => ({ ...v, previewPath: undefined, previewSeq: undefined });
const alwaysGranted: SendSlot = { run: (send) => send(), release: () => undefined };

interface Waiting {
  lane: ProgressLane;
  abort: AbortController;
}

interface Timing {
  intervalMs: number;
  heartbeatMs: number;
  previewMs: number;
  previews: boolean;
}

/** What the message shows now, and when it changed. */
interface Shown {
  /** The text last sent (a heartbeat's included), and the state it showed (without the heartbeat line). */
  key?: string;
  stateKey?: string;
  sentAt: number;
  /** The last send or heartbeat try: the next heartbeat is due heartbeatMs after it. */
  beatAt: number;
  /** The preview frame shown, when it was sent, and whether a newer frame waits for its interval. */
  seq?: number;
  previewAt: number;
  previewWaiting: boolean;
  /** The phase the message shows (undefined: nothing yet), so that a change of phase asks in its own lane. */
  running?: boolean;
  /** No first message before this: the sink's grace. */
  notBefore?: number;
}

/** What is due at `t`: a progress edit, a heartbeat, or nothing before `at`. */
function dueAt(s: Shown, t: number, hasNew: boolean, c: Timing): { lane?: ProgressLane; at: number } {
  const editAt = Math.max(s.sentAt + c.intervalMs, s.notBefore ?? -Infinity);
  const pictureAt = s.previewWaiting ? Math.max(editAt, s.previewAt + c.previewMs) : Infinity;
  const heartbeatAt = Math.max(editAt, s.beatAt + c.heartbeatMs);
  if ((hasNew && t >= editAt) || t >= pictureAt) return { lane: 'progress', at: t };
  if (t >= heartbeatAt) return { lane: 'heartbeat', at: t };
  return { at: Math.min(hasNew ? editAt : Infinity, pictureAt, heartbeatAt) };
}

/**
 * The view to send at `t` (updating `s`), or undefined when it would show nothing new. A view without a picture
 * leaves the one the message shows; a heartbeat repeats the last state with the time it has been working.
 */
function pick(s: Shown, render: (heartbeat: boolean) => ProgressView, t: number, c: Timing) {
  const isHeartbeatDue = t >= s.beatAt + c.heartbeatMs;
  if (isHeartbeatDue) s.beatAt = t; // tried, even when it shows nothing new (no retry loop on the same text)
  const plain = render(false);
  const fresh = c.previews && plain.previewSeq !== undefined && plain.previewSeq !== s.seq;
  const pictureNow = fresh && t >= s.previewAt + c.previewMs;
  s.previewWaiting = fresh && !pictureNow;
  const stateKey = keyOf(plain);
  let view = stateKey !== s.stateKey || pictureNow ? plain : isHeartbeatDue ? render(true) : undefined;
  if (view && !pictureNow) view = withoutPreview(view);
  if (!view || (!pictureNow && keyOf(view) === s.key)) return undefined;
  Object.assign(s, { key: keyOf(view), stateKey, sentAt: t, beatAt: t, running: view.isRunning });
  if (pictureNow) Object.assign(s, { seq: plain.previewSeq, previewAt: t });
  return view;
}

/** The lane of a change of phase the message does not show yet; undefined when it shows the right phase. */
function phaseLane(render: ((heartbeat: boolean) => ProgressView) | undefined, s: Shown): ProgressLane | undefined {
  const isRunning = render?.(false).isRunning;
  if (isRunning === undefined || isRunning === s.running) return undefined;
  return isRunning ? 'started' : 'queued';
}

/** The first update starts the sink's grace: its first message waits, with a sign of life meanwhile. */
function startGrace(deps: ReporterDeps, s: Shown, t: number) {
  const graceMs = deps.sink.graceMs ?? 0;
  if (graceMs <= 0) return;
  s.notBefore = t + graceMs;
  deps.sink.showActivity?.().catch((err) => deps.logger.debug({ err }, 'could not show activity'));
}

/** Waits for the sink's turn (at once without a shared budget); `hold` lets the reporter give up the wait. */
async function turnOf(sink: ProgressSink, lane: ProgressLane, hold: (w: Waiting | undefined) => void) {
  if (!sink.slot) return alwaysGranted;
  const abort = new AbortController();
  hold({ lane, abort });
  try {
    return await sink.slot(lane, abort.signal);
  } finally {
    hold(undefined);
  }
}

/** One timer, armed for the earliest time asked for. */
function createAlarm(now: () => number, fire: () => void) {
  let timer: NodeJS.Timeout | undefined;
  let due = Infinity;
  const clear = () => {
    clearTimeout(timer);
    timer = undefined;
    due = Infinity;
  };
  return {
    at(when: number) {
      if (!Number.isFinite(when) || (timer && due <= when)) return;
      clearTimeout(timer);
      due = when;
      timer = setTimeout(() => (clear(), fire()), Math.max(0, when - now()));
    },
    clear,
  };
}

export function createProgressReporter(deps: ReporterDeps): ProgressReporter {
  const now = deps.now ?? Date.now;
  const previewMs = deps.previewIntervalMs ?? 5_000;
  const timing: Timing = {
    intervalMs: deps.intervalMs,
    heartbeatMs: deps.heartbeatMs ?? 10_000,
    previewMs,
    previews: previewMs > 0 && deps.sink.showsPreviews !== false,
  };
  const shown: Shown = { sentAt: -Infinity, beatAt: -Infinity, previewAt: -Infinity, previewWaiting: false };
  let render: ((heartbeat: boolean) => ProgressView) | undefined;
  let hasNew = false;
  let inFlight: Promise<void> | undefined;
  let waiting: Waiting | undefined;
  let done = false;
  const alarm = createAlarm(now, () => tick());

  function tick() {
    if (done || !render || inFlight) return;
    const due = dueAt(shown, now(), hasNew, timing);
    if (due.lane) send(phaseLane(render, shown) ?? due.lane);
    else alarm.at(due.at);
  }

  function build(): ProgressView | undefined {
    if (!render) return undefined;
    const view = pick(shown, render, now(), timing);
    hasNew = false;
    deps.onEdit?.(view ? 'sent' : 'skipped');
    return view;
  }

  function send(lane: ProgressLane) {
    inFlight = (async () => {
      const slot = await turnOf(deps.sink, lane, (w) => (waiting = w));
      if (!slot) return;
      if (done) return slot.release();
      const view = build();
      if (!view) return slot.release();
      await slot.run(() => deps.sink.showProgress(view));
    })()
      .catch((err) => deps.logger.warn({ err }, 'progress update failed'))
      .finally(() => {
        inFlight = undefined;
        tick();
      });
  }

  function halt() {
    done = true;
    alarm.clear();
    waiting?.abort.abort();
  }

  return {
    update(next) {
      if (done) return;
      if (!render) startGrace(deps, shown, now());
      render = next;
      hasNew = true;
      // Real progress outranks a heartbeat still waiting for its turn, and a change of phase outranks percentages:
      // ask again in the higher lane.
      const lane = waiting && phaseLane(render, shown);
      if (waiting?.lane === 'heartbeat' || (lane && waiting?.lane !== lane)) waiting?.abort.abort();
      if (!inFlight) {
        alarm.clear();
        tick();
      }
    },
    async finish(deliver) {
      halt();
      if (inFlight) await inFlight;
      await deliver();
    },
    stop: halt,
  };
}
