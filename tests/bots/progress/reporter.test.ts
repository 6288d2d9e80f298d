import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProgressReporter } from '../../../src/bots/progress/reporter.js';
import type { ProgressSink, ProgressView } from '../../../src/bots/progress/sink.js';
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
});
