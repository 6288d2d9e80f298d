import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProgressReporter } from '../../../src/bots/progress/reporter.js';
import type { ProgressLane, ProgressSink, ProgressView, SendSlot } from '../../../src/bots/progress/sink.js';
import { memoryLogger } from '../../support/logger.js';

const view = (text: string): ProgressView => ({
  text,
  percent: 0,
  bar: '',
  isRunning: true,
  jobId: 'j',
  shortId: 's',
  locale: 'en',
  canCancel: true,
});

/** A sink whose calls resolve only when the test says so, to observe in-flight behaviour. */
function slowSink() {
  const sent: string[] = [];
  const pending: Array<() => void> = [];
  const sink: ProgressSink = {
    showProgress: (v) =>
      new Promise<void>((r) => {
        sent.push(v.text);
        pending.push(r);
      }),
    showResult: async () => {
      sent.push('RESULT');
    },
    showFailure: async () => {
      sent.push('FAILURE');
    },
  };
  const resolveAll = async () => {
    while (pending.length) pending.shift()?.();
    await Promise.resolve();
  };
  return { sink, sent, resolveAll, inFlight: () => pending.length };
}

describe('progress reporter', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());
  const { logger } = memoryLogger();

  it('sends the first update at once and then at most one per interval, latest state winning', async () => {
    const s = slowSink();
    const r = createProgressReporter({ sink: s.sink, intervalMs: 3000, heartbeatMs: 60_000, logger });
    r.update(() => view('1%'));
    await vi.advanceTimersByTimeAsync(0);
    expect(s.sent).toEqual(['1%']);
    await s.resolveAll();
    r.update(() => view('5%'));
    r.update(() => view('9%'));
    await vi.advanceTimersByTimeAsync(2999);
    expect(s.sent).toEqual(['1%']);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.sent).toEqual(['1%', '9%']);
  });

  it('never has two edits in flight: a slow edit delays the next one', async () => {
    const s = slowSink();
    const r = createProgressReporter({ sink: s.sink, intervalMs: 1000, heartbeatMs: 60_000, logger });
    r.update(() => view('a'));
    await vi.advanceTimersByTimeAsync(0);
    r.update(() => view('b'));
    await vi.advanceTimersByTimeAsync(5000);
    expect(s.sent).toEqual(['a']);
    expect(s.inFlight()).toBe(1);
    await s.resolveAll();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.sent).toEqual(['a', 'b']);
  });

  it('does not edit when the text is unchanged', async () => {
    const s = slowSink();
    const r = createProgressReporter({ sink: s.sink, intervalMs: 1000, heartbeatMs: 60_000, logger });
    for (let i = 0; i < 5; i++) {
      r.update(() => view('same'));
      await vi.advanceTimersByTimeAsync(1500);
      await s.resolveAll();
    }
    expect(s.sent).toEqual(['same']);
  });

  it('sends a heartbeat render when nothing happened for heartbeatMs', async () => {
    const s = slowSink();
    const r = createProgressReporter({ sink: s.sink, intervalMs: 1000, heartbeatMs: 30_000, logger });
    r.update((hb) => view(hb ? `still working · ${Date.now() / 1000}` : 'running'));
    await vi.advanceTimersByTimeAsync(0);
    await s.resolveAll();
    await vi.advanceTimersByTimeAsync(29_000);
    expect(s.sent).toEqual(['running']);
    await vi.advanceTimersByTimeAsync(1_000);
    await s.resolveAll();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(s.sent).toEqual(['running', 'still working · 30', 'still working · 60']);
  });

  it('pulls a pending heartbeat forward when a real update arrives', async () => {
    const s = slowSink();
    const r = createProgressReporter({ sink: s.sink, intervalMs: 2000, heartbeatMs: 30_000, logger });
    r.update(() => view('a'));
    await vi.advanceTimersByTimeAsync(0);
    await s.resolveAll();
    await vi.advanceTimersByTimeAsync(500);
    r.update(() => view('b'));
    await vi.advanceTimersByTimeAsync(1500);
    expect(s.sent).toEqual(['a', 'b']);
  });

  it('delivers the final state after the in-flight edit, and nothing after it', async () => {
    const s = slowSink();
    const r = createProgressReporter({ sink: s.sink, intervalMs: 1000, heartbeatMs: 60_000, logger });
    r.update(() => view('a'));
    await vi.advanceTimersByTimeAsync(0);
    r.update(() => view('b'));
    const finished = r.finish(() => s.sink.showResult({} as never));
    await vi.advanceTimersByTimeAsync(0);
    expect(s.sent).toEqual(['a']);
    await s.resolveAll();
    await finished;
    r.update(() => view('c'));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(s.sent).toEqual(['a', 'RESULT']);
  });

  it('keeps going after a failed edit (the platform layer already retried 429s)', async () => {
    const sent: string[] = [];
    let fail = true;
    const sink: ProgressSink = {
      showProgress: async (v) => {
        sent.push(v.text);
        if (fail) {
          fail = false;
          throw new Error('boom');
        }
      },
      showResult: async () => undefined,
      showFailure: async () => undefined,
    };
    const r = createProgressReporter({ sink, intervalMs: 1000, heartbeatMs: 60_000, logger });
    r.update(() => view('a'));
    await vi.advanceTimersByTimeAsync(0);
    r.update(() => view('b'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual(['a', 'b']);
  });

  it('ticks every heartbeatMs after the last edit, even while updates that change nothing keep arriving', async () => {
    const s = slowSink();
    const r = createProgressReporter({ sink: s.sink, intervalMs: 1000, heartbeatMs: 10_000, logger });
    const render = (hb: boolean) => view(hb ? `loading · ${Date.now() / 1000}` : 'loading');
    r.update(render);
    await vi.advanceTimersByTimeAsync(0);
    await s.resolveAll();
    for (let i = 0; i < 25; i++) {
      await vi.advanceTimersByTimeAsync(1000);
      r.update(render); // the same state again (a throttled repeat from the worker)
      await s.resolveAll();
    }
    expect(s.sent).toEqual(['loading', 'loading · 10', 'loading · 20']);
  });
});

const queuedView = (text: string): ProgressView => ({ ...view(text), isRunning: false });

const framed = (text: string, seq?: number): ProgressView => ({
  ...view(text),
  ...(seq === undefined ? {} : { previewPath: '/storage/outputs/j/preview.jpg', previewSeq: seq }),
});

/** A sink that records views (text and frame), and can gate turns like a busy chat. */
function gatedSink(opts: { gated?: boolean; showsPreviews?: boolean } = {}) {
  const sent: string[] = [];
  const asked: ProgressLane[] = [];
  const turns: Array<{ lane: ProgressLane; give: () => void; signal: AbortSignal }> = [];
  let released = 0;
  const slot: SendSlot = { run: (send) => send(), release: () => void (released += 1) };
  const sink: ProgressSink = {
    showsPreviews: opts.showsPreviews,
    showProgress: async (v) =>
      void sent.push(v.previewSeq === undefined ? v.text : `${v.text} [frame ${v.previewSeq}]`),
    showResult: async () => void sent.push('RESULT'),
    showFailure: async () => void sent.push('FAILURE'),
    ...(opts.gated
      ? {
          slot: (lane: ProgressLane, signal: AbortSignal) =>
            new Promise<SendSlot | undefined>((resolve) => {
              asked.push(lane);
              const turn = { lane, signal, give: () => resolve(slot) };
              turns.push(turn);
              signal.addEventListener('abort', () => resolve(undefined));
            }),
        }
      : {}),
  };
  const giveTurn = async () => {
    const t = turns.find((x) => !x.signal.aborted);
    turns.splice(turns.indexOf(t as (typeof turns)[number]), 1);
    t?.give();
    await vi.advanceTimersByTimeAsync(0);
  };
  return { sink, sent, asked, giveTurn, released: () => released };
}

describe('progress reporter: preview pictures and shared budgets', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());
  const { logger } = memoryLogger();

  it('sends a new preview picture at most once per previewIntervalMs, and only when the frame changed', async () => {
    const s = gatedSink();
    const r = createProgressReporter({
      sink: s.sink,
      intervalMs: 1000,
      heartbeatMs: 60_000,
      previewIntervalMs: 5000,
      logger,
    });
    for (let k = 1; k <= 12; k++) {
      r.update(() => framed(`${k * 8}%`, Math.ceil(k / 2))); // a new frame every 2 s
      await vi.advanceTimersByTimeAsync(1000);
    }
    // Frames 1, 3 and 5 at 0, 5 and 10 s (each the newest then); the frames between were never uploaded.
    expect(s.sent.filter((x) => x.includes('frame'))).toEqual(['8% [frame 1]', '40% [frame 3]', '80% [frame 5]']);
    // Frame 6 came too early; it goes out when its interval has passed, with no new text needed.
    await vi.advanceTimersByTimeAsync(5000);
    expect(s.sent.at(-1)).toBe('96% [frame 6]');
    expect(s.sent.filter((x) => x.includes('frame'))).toHaveLength(4);
  });

  it('sends a picture held back by the interval once the interval has passed, even when nothing else changes', async () => {
    const s = gatedSink();
    const r = createProgressReporter({
      sink: s.sink,
      intervalMs: 1000,
      heartbeatMs: 60_000,
      previewIntervalMs: 5000,
      logger,
    });
    r.update(() => framed('50%', 1));
    await vi.advanceTimersByTimeAsync(1000);
    r.update(() => framed('50%', 2)); // the VAE decode: a new frame, then silence
    await vi.advanceTimersByTimeAsync(3999);
    expect(s.sent).toEqual(['50% [frame 1]']);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.sent).toEqual(['50% [frame 1]', '50% [frame 2]']);
  });

  it('sends no picture after the final state, and none at all to a sink that shows no pictures', async () => {
    const s = gatedSink();
    const r = createProgressReporter({ sink: s.sink, intervalMs: 1000, previewIntervalMs: 1000, logger });
    r.update(() => framed('90%', 1));
    await vi.advanceTimersByTimeAsync(0);
    r.update(() => framed('99%', 2));
    await r.finish(() => s.sink.showResult({} as never));
    r.update(() => framed('99%', 3));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(s.sent).toEqual(['90% [frame 1]', 'RESULT']);

    const bar = gatedSink({ showsPreviews: false });
    const r2 = createProgressReporter({ sink: bar.sink, intervalMs: 1000, previewIntervalMs: 1000, logger });
    r2.update(() => framed('10%', 1));
    await vi.advanceTimersByTimeAsync(0);
    r2.update(() => framed('10%', 2));
    await vi.advanceTimersByTimeAsync(5000);
    expect(bar.sent).toEqual(['10%']);
  });

  it('renders only when its turn comes, so a late turn shows the newest state', async () => {
    const s = gatedSink({ gated: true });
    const r = createProgressReporter({ sink: s.sink, intervalMs: 1000, heartbeatMs: 60_000, logger });
    r.update(() => view('queued'));
    await vi.advanceTimersByTimeAsync(0);
    for (const p of ['5%', '30%', '60%']) {
      r.update(() => view(p));
      await vi.advanceTimersByTimeAsync(4000);
    }
    expect(s.sent).toEqual([]);
    // One request for the message, however many states came meanwhile; the first message is a change of state.
    expect(s.asked).toEqual(['started']);
    await s.giveTurn();
    expect(s.sent).toEqual(['60%']);
  });

  it('gives up a heartbeat turn when real progress arrives, and asks again as progress', async () => {
    const s = gatedSink({ gated: true });
    const r = createProgressReporter({ sink: s.sink, intervalMs: 1000, heartbeatMs: 10_000, logger });
    r.update((hb) => view(hb ? 'loading · still working' : 'loading'));
    await vi.advanceTimersByTimeAsync(0);
    await s.giveTurn();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(s.asked).toEqual(['started', 'heartbeat']);
    r.update(() => view('sampling 10%'));
    await vi.advanceTimersByTimeAsync(0);
    expect(s.asked).toEqual(['started', 'heartbeat', 'progress']);
    await s.giveTurn();
    expect(s.sent).toEqual(['loading', 'sampling 10%']);
  });

  it('hands an unused turn back when nothing changed by the time it came', async () => {
    const s = gatedSink({ gated: true });
    const r = createProgressReporter({ sink: s.sink, intervalMs: 1000, heartbeatMs: 60_000, logger });
    r.update(() => view('a'));
    await vi.advanceTimersByTimeAsync(0);
    await s.giveTurn();
    await vi.advanceTimersByTimeAsync(1000);
    r.update(() => view('a'));
    await vi.advanceTimersByTimeAsync(0);
    await s.giveTurn();
    expect(s.sent).toEqual(['a']);
    expect(s.released()).toBe(1);
  });

  it('asks for a change of phase in its own lane: the first message, then the start, ahead of percentages', async () => {
    const s = gatedSink({ gated: true });
    const r = createProgressReporter({ sink: s.sink, intervalMs: 1000, heartbeatMs: 60_000, logger });
    r.update(() => queuedView('Queued #2'));
    await vi.advanceTimersByTimeAsync(0);
    await s.giveTurn();
    await vi.advanceTimersByTimeAsync(1000);
    r.update(() => queuedView('Queued #1'));
    await vi.advanceTimersByTimeAsync(0);
    await s.giveTurn();
    await vi.advanceTimersByTimeAsync(1000);
    r.update(() => view('Generating 5%'));
    await vi.advanceTimersByTimeAsync(0);
    await s.giveTurn();
    await vi.advanceTimersByTimeAsync(1000);
    r.update(() => view('Generating 40%'));
    await vi.advanceTimersByTimeAsync(0);
    expect(s.asked).toEqual(['queued', 'progress', 'started', 'progress']);
    expect(s.sent).toEqual(['Queued #2', 'Queued #1', 'Generating 5%']);
  });

  it('never lets a pending start wait behind percentages: a queued message’s turn is asked again as started', async () => {
    const s = gatedSink({ gated: true });
    const r = createProgressReporter({ sink: s.sink, intervalMs: 1000, heartbeatMs: 60_000, logger });
    r.update(() => queuedView('Queued #3'));
    await vi.advanceTimersByTimeAsync(0);
    await s.giveTurn();
    await vi.advanceTimersByTimeAsync(1000);
    r.update(() => queuedView('Queued #2'));
    await vi.advanceTimersByTimeAsync(0);
    r.update(() => view('Generating 10%')); // the job starts while its position update still waits
    await vi.advanceTimersByTimeAsync(0);
    expect(s.asked).toEqual(['queued', 'progress', 'started']);
    await s.giveTurn();
    expect(s.sent).toEqual(['Queued #3', 'Generating 10%']);
  });

  it('holds the first message for the sink’s grace with a sign of life; a job done by then shows only its result', async () => {
    const s = gatedSink();
    let activity = 0;
    const sink: ProgressSink = { ...s.sink, graceMs: 1000, showActivity: async () => void (activity += 1) };
    const quick = createProgressReporter({ sink, intervalMs: 500, heartbeatMs: 60_000, logger });
    quick.update(() => queuedView('Queued'));
    quick.update(() => view('Generating 50%'));
    await vi.advanceTimersByTimeAsync(900);
    await quick.finish(() => sink.showResult({} as never));
    expect(s.sent).toEqual(['RESULT']);
    expect(activity).toBe(1);

    const slow = createProgressReporter({ sink, intervalMs: 500, heartbeatMs: 60_000, logger });
    slow.update(() => queuedView('Queued'));
    await vi.advanceTimersByTimeAsync(999);
    slow.update(() => view('Generating 20%'));
    await vi.advanceTimersByTimeAsync(1);
    expect(s.sent).toEqual(['RESULT', 'Generating 20%']);
  });

  it('delivers the final state at once when progress is still waiting for its turn', async () => {
    const s = gatedSink({ gated: true });
    const r = createProgressReporter({ sink: s.sink, intervalMs: 1000, heartbeatMs: 60_000, logger });
    r.update(() => view('a'));
    await vi.advanceTimersByTimeAsync(0);
    await r.finish(() => s.sink.showResult({} as never));
    expect(s.sent).toEqual(['RESULT']);
  });
});
