import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createSendScheduler,
  type SendLane,
  type SendScheduler,
  telegramBudget,
} from '../../src/bots/send-scheduler.js';

const GROUP = '-100777';
const PRIVATE = '1001';

/** Asks for `n` sends in `lane` and records when each was granted (or dropped). */
function ask(s: SendScheduler, chat: string, lane: SendLane, log: string[], name: string, opts = {}) {
  return s.acquire(chat, lane, opts).then((g) => {
    log.push(g ? `${name}@${Date.now()}` : `${name}:dropped`);
    return g;
  });
}

/** The most grants found in any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number) {
  let most = 0;
  for (const start of times) most = Math.max(most, times.filter((x) => x >= start && x < start + windowMs).length);
  return most;
}

describe('per-chat send scheduler', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());
  const scheduler = () => createSendScheduler({ budgetOf: telegramBudget, global: { limit: 30, windowMs: 1000 } });

  it('never grants more than 20 sends to a group in any minute, whatever the demand', async () => {
    const s = scheduler();
    const granted: number[] = [];
    const lanes: SendLane[] = ['final', 'progress', 'heartbeat'];
    for (let i = 0; i < 90; i++) void s.acquire(GROUP, lanes[i % 3] as SendLane).then(() => granted.push(Date.now()));
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(granted).toHaveLength(90);
    expect(busiestWindow(granted, 60_000)).toBe(20);
    // Telegram's one-a-second rule holds too.
    expect(granted.every((t, i) => i === 0 || t - (granted[i - 1] as number) >= 1000)).toBe(true);
  });

  it('serves a result before progress and heartbeats that were waiting longer', async () => {
    const s = scheduler();
    const log: string[] = [];
    void ask(s, GROUP, 'progress', log, 'p1');
    void ask(s, GROUP, 'heartbeat', log, 'h1');
    void ask(s, GROUP, 'progress', log, 'p2');
    await vi.advanceTimersByTimeAsync(0);
    void ask(s, GROUP, 'final', log, 'result');
    await vi.advanceTimersByTimeAsync(20_000);
    // p2 waits its turn behind p1 (3 s apart while both wait); the heartbeat, alone then, only 1 s.
    expect(log).toEqual(['p1@0', 'result@1000', 'p2@3000', 'h1@4000']);
  });

  it('leaves part of the window to results: progress alone never spends the whole minute', async () => {
    const s = scheduler();
    let progress = 0;
    for (let i = 0; i < 40; i++) void s.acquire(GROUP, 'progress').then(() => (progress += 1));
    await vi.advanceTimersByTimeAsync(59_000);
    expect(progress).toBe(16); // 20 minus the reserve of 4, spread one per 3 s
    const log: string[] = [];
    void ask(s, GROUP, 'final', log, 'result');
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['result@59000']);
  });

  it('keeps heartbeats to what is left after progress', async () => {
    const s = scheduler();
    let beats = 0;
    for (let i = 0; i < 40; i++) void s.acquire(GROUP, 'heartbeat').then(() => (beats += 1));
    await vi.advanceTimersByTimeAsync(59_000);
    expect(beats).toBe(12);
  });

  it('drops a pending send when a newer one for the same message arrives, and gives up an aborted wait', async () => {
    const s = scheduler();
    const log: string[] = [];
    void ask(s, GROUP, 'final', log, 'answer');
    const abort = new AbortController();
    void ask(s, GROUP, 'progress', log, 'old', { key: 'job-a' });
    void ask(s, GROUP, 'progress', log, 'aborted', { key: 'job-b', signal: abort.signal });
    void ask(s, GROUP, 'progress', log, 'new', { key: 'job-a' });
    abort.abort();
    await vi.advanceTimersByTimeAsync(10_000);
    // The answer went at once; a result does not hold back the next edit beyond the one-a-second gap.
    expect(log).toEqual(['answer@0', 'old:dropped', 'aborted:dropped', 'new@1000']);
    expect(s.pending(GROUP)).toEqual({ final: 0, progress: 0, heartbeat: 0 });
  });

  it('acknowledges new jobs before editing older ones, without spreading the acknowledgements out', async () => {
    const s = scheduler();
    const log: string[] = [];
    void ask(s, GROUP, 'progress', log, 'edit');
    void ask(s, GROUP, 'progress', log, 'edit2');
    void ask(s, GROUP, 'progress', log, 'ack1', { isFirst: true });
    void ask(s, GROUP, 'progress', log, 'ack2', { isFirst: true });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(log).toEqual(['edit@0', 'ack1@1000', 'ack2@2000', 'edit2@3000']);
  });

  it('lets a private chat burst a little, then about one send a second', async () => {
    const s = scheduler();
    const granted: number[] = [];
    for (let i = 0; i < 9; i++) void s.acquire(PRIVATE, 'final').then(() => granted.push(Date.now()));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(granted).toEqual([0, 0, 0, 3000, 3000, 3000, 6000, 6000, 6000]);
  });

  it('holds every send to a chat that answered 429 until its retry_after has passed', async () => {
    const s = scheduler();
    const log: string[] = [];
    s.penalize(PRIVATE, 5_000);
    void ask(s, PRIVATE, 'final', log, 'retry');
    void ask(s, '1002', 'final', log, 'other chat');
    await vi.advanceTimersByTimeAsync(6_000);
    expect(log).toEqual(['other chat@0', 'retry@5000']);
  });

  it('takes back a slot that was handed back unused', async () => {
    const s = scheduler();
    const log: string[] = [];
    const first = await s.acquire(GROUP, 'final');
    first?.release();
    void ask(s, GROUP, 'final', log, 'next');
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['next@0']);
  });

  it('counts a send in the window from its answer, the latest moment the platform can have counted it', async () => {
    const s = scheduler();
    const granted: number[] = [];
    for (let i = 0; i < 21; i++)
      void s.acquire(GROUP, 'final').then((g) => {
        granted.push(Date.now());
        setTimeout(() => g?.answered(), 2_000); // a slow upload
      });
    await vi.advanceTimersByTimeAsync(70_000);
    expect(granted.at(-2)).toBe(19_000);
    expect(granted.at(-1)).toBe(62_000); // not 60 s after the first grant, but after its answer
  });

  it('keeps a result slot for each live job in the chat, up to half the window, until the job is forgotten', async () => {
    const s = scheduler();
    let progress = 0;
    for (let job = 0; job < 8; job++)
      void s.acquire(GROUP, 'progress', { key: `job-${job}`, isFirst: true }).then(() => (progress += 1));
    await vi.advanceTimersByTimeAsync(30_000);
    // 8 live jobs: 8 of the 20 kept for their results, so up to 12 may go: all 8 acknowledgements did.
    expect(progress).toBe(8);
    for (let job = 0; job < 12; job++)
      void s.acquire(GROUP, 'progress', { key: `more-${job}` }).then(() => (progress += 1));
    await vi.advanceTimersByTimeAsync(29_000);
    // 20 live jobs: half the window (10) is kept, so only 2 more progress sends fit in this minute.
    expect(progress).toBe(10);
    const results: number[] = [];
    for (let i = 0; i < 10; i++) void s.acquire(GROUP, 'final').then(() => results.push(Date.now()));
    await vi.advanceTimersByTimeAsync(9_000);
    expect(results).toHaveLength(10); // all in the same minute, one a second
  });

  it('gives a forgotten job’s result slot back to progress', async () => {
    const s = scheduler();
    for (let job = 0; job < 10; job++) void s.acquire(GROUP, 'progress', { key: `job-${job}`, isFirst: true });
    await vi.advanceTimersByTimeAsync(10_000);
    const log: string[] = [];
    void ask(s, GROUP, 'progress', log, 'edit', { key: 'job-0' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(log).toEqual([]); // 10 sent, 10 kept for the 10 live jobs' results
    for (let job = 1; job < 10; job++) s.forget(GROUP, `job-${job}`);
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['edit@15000']);
  });
});
