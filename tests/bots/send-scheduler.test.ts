import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ChatBudget,
  createSendScheduler,
  type SendLane,
  type SendScheduler,
} from '../../src/bots/send-scheduler.js';
import { telegramBudget } from '../../src/bots/telegram/scheduled-api.js';

const GROUP = '-100777';
const PRIVATE = '1001';

/** Asks for a send in `lane` and records when it was granted (or dropped); the platform answers at once. */
function ask(s: SendScheduler, chat: string, lane: SendLane, log: string[], name: string, opts = {}) {
  return s.acquire(chat, lane, opts).then((g) => {
    log.push(g ? `${name}@${Date.now()}` : `${name}:dropped`);
    g?.answered();
    return g;
  });
}

/** Asks for a send and counts it once granted; the platform answers at once. */
const take = (s: SendScheduler, chat: string, lane: SendLane, onGrant: () => void, opts = {}) =>
  void s.acquire(chat, lane, opts).then((g) => {
    onGrant();
    g?.answered();
  });

/** The most grants found in any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number) {
  let most = 0;
  for (const start of times) most = Math.max(most, times.filter((x) => x >= start && x < start + windowMs).length);
  return most;
}

describe('per-chat send scheduler', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());
  /**
   * Telegram's budgets, except that this group keeps 4 sends for results (below them, one send per 3.75 s) and has
   * no burst before that pace, so the order tests read plainly.
   */
  const roundGroup: ChatBudget = { ...telegramBudget(GROUP), reserve: 4, paceBurst: 1 };
  const scheduler = (real = false) =>
    createSendScheduler({
      budgetOf: (chat) => (chat === GROUP && !real ? roundGroup : telegramBudget(chat)),
      global: { limit: 30, windowMs: 1000 },
    });

  it('never grants more than 20 sends to a group in any minute, whatever the demand', async () => {
    const s = scheduler(true);
    const granted: number[] = [];
    const lanes: SendLane[] = ['final', 'progress', 'heartbeat'];
    for (let i = 0; i < 90; i++) take(s, GROUP, lanes[i % 3] as SendLane, () => granted.push(Date.now()));
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(granted).toHaveLength(90);
    expect(busiestWindow(granted, 60_000)).toBe(20);
    // Telegram's one-a-second rule holds too.
    expect(granted.every((t, i) => i === 0 || t - (granted[i - 1] as number) >= 1000)).toBe(true);
  });

  it('lets a quiet group take three sends below results back to back, then keeps the pace', async () => {
    const s = scheduler(true);
    const log: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) void ask(s, GROUP, 'progress', log, name);
    await vi.advanceTimersByTimeAsync(20_000);
    // One a second (Telegram's rule for a group) for the burst of three; then one per 60 s / (20 − 1) ≈ 3.16 s.
    expect(log.slice(0, 3)).toEqual(['a@0', 'b@1000', 'c@2000']);
    expect(Number(log[3]?.split('@')[1])).toBeGreaterThan(3000);
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
    // One send a second to a group. Below results, one send per 60 s / (20 − 4) = 3.75 s, counting every send: the
    // result took a turn too.
    expect(log).toEqual(['p1@0', 'result@1000', 'p2@7500', 'h1@11250']);
  });

  it('leaves part of the window to results: progress alone never spends the whole minute', async () => {
    const s = scheduler();
    let progress = 0;
    for (let i = 0; i < 40; i++) take(s, GROUP, 'progress', () => (progress += 1));
    await vi.advanceTimersByTimeAsync(59_000);
    expect(progress).toBe(16); // 20 minus the reserve of 4, spread one per 3.75 s
    const log: string[] = [];
    void ask(s, GROUP, 'final', log, 'result');
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['result@59000']);
  });

  it('keeps heartbeats to what is left after progress', async () => {
    const s = scheduler();
    let beats = 0;
    for (let i = 0; i < 40; i++) take(s, GROUP, 'heartbeat', () => (beats += 1));
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
    // The answer went at once, and took the group's turn: the next edit comes one turn (3.75 s) later.
    expect(log).toEqual(['answer@0', 'old:dropped', 'aborted:dropped', 'new@3750']);
    expect(s.pending(GROUP)).toEqual({ final: 0, started: 0, queued: 0, notice: 0, progress: 0, heartbeat: 0 });
  });

  it('serves changes of state before percentages: a start first, then queued jobs’ first messages, then edits', async () => {
    const s = scheduler();
    const log: string[] = [];
    void ask(s, GROUP, 'final', log, 'answer'); // keeps the next sends waiting, so all four are queued together
    void ask(s, GROUP, 'progress', log, 'a 40%', { key: 'a' });
    void ask(s, GROUP, 'queued', log, 'c queued', { key: 'c' });
    void ask(s, GROUP, 'queued', log, 'd queued', { key: 'd' });
    void ask(s, GROUP, 'started', log, 'b running', { key: 'b' });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(log).toEqual(['answer@0', 'b running@3750', 'c queued@7500', 'd queued@11250', 'a 40%@15000']);
  });

  it('lets a ping about a result already shown wait for other jobs’ changes of state, not for percentages', async () => {
    const s = scheduler();
    const log: string[] = [];
    void ask(s, GROUP, 'final', log, 'result');
    void ask(s, GROUP, 'progress', log, 'a 40%', { key: 'a' });
    void ask(s, GROUP, 'notice', log, 'ping');
    void ask(s, GROUP, 'queued', log, 'c queued', { key: 'c' });
    void ask(s, GROUP, 'started', log, 'b running', { key: 'b' });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(log).toEqual(['result@0', 'b running@3750', 'c queued@7500', 'ping@11250', 'a 40%@15000']);
  });

  it('never drops a pending change of state for a percentage: a newer request for the message keeps its lane', async () => {
    const s = scheduler();
    const log: string[] = [];
    void ask(s, GROUP, 'final', log, 'answer');
    void ask(s, GROUP, 'progress', log, 'a 40%', { key: 'a' });
    void ask(s, GROUP, 'started', log, 'b running', { key: 'b' });
    void ask(s, GROUP, 'progress', log, 'b 10%', { key: 'b' }); // the newest state of b wins, still as a start
    await vi.advanceTimersByTimeAsync(10_000);
    expect(log).toEqual(['answer@0', 'b running:dropped', 'b 10%@3750', 'a 40%@7500']);
  });

  it('lets a private chat burst 3 sends, then one a second, counted from each answer', async () => {
    const s = scheduler();
    const granted: number[] = [];
    for (let i = 0; i < 7; i++)
      void s.acquire(PRIVATE, 'final').then((g) => {
        granted.push(Date.now());
        g?.answered();
      });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(granted).toEqual([0, 0, 0, 1000, 2000, 3000, 4000]);
    // After a quiet moment the burst is back.
    await vi.advanceTimersByTimeAsync(3_000);
    for (let i = 0; i < 4; i++) take(s, PRIVATE, 'final', () => granted.push(Date.now()));
    await vi.advanceTimersByTimeAsync(0);
    expect(granted.slice(7)).toEqual([13_000, 13_000, 13_000]);
  });

  it('counts a send still in flight as arriving now: a slow upload holds the last token of the burst', async () => {
    const s = scheduler();
    const granted: number[] = [];
    const grants = await Promise.all([0, 1, 2].map(() => s.acquire(PRIVATE, 'final')));
    void s.acquire(PRIVATE, 'final').then(() => granted.push(Date.now()));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(granted).toEqual([]); // three uploads still under way
    for (const g of grants) g?.answered();
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toEqual([]); // answered at 5 s: the bucket counts them from then
    await vi.advanceTimersByTimeAsync(1_000);
    expect(granted).toEqual([6_000]);
  });

  it('sends an activity sign only with a send to spare, and never ahead of a waiting request', async () => {
    const s = scheduler();
    expect(s.tryAcquire(PRIVATE, 'heartbeat', { keep: 1 })).toBeDefined();
    expect(s.tryAcquire(PRIVATE, 'heartbeat', { keep: 1 })).toBeDefined();
    expect(s.tryAcquire(PRIVATE, 'heartbeat', { keep: 1 })).toBeUndefined(); // the last token stays for a result
    const result = s.acquire(PRIVATE, 'final');
    await vi.advanceTimersByTimeAsync(0);
    expect(await result).toBeDefined();
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
    expect(granted.at(-2)).toBe(57_000); // one a second from each answer: with 2 s uploads, one per 3 s
    expect(granted.at(-1)).toBe(62_000); // not 60 s after the first grant, but after its answer
  });

  it('keeps a result slot for each running job in the chat, up to half the window, until the job is forgotten', async () => {
    const s = scheduler();
    let progress = 0;
    for (let job = 0; job < 12; job++) take(s, GROUP, 'started', () => (progress += 1), { key: `job-${job}` });
    await vi.advanceTimersByTimeAsync(59_000);
    // 12 running jobs: half the window (10) is kept for their results; the other 10 go one per 6 s.
    expect(progress).toBe(10);
    const results: number[] = [];
    for (let i = 0; i < 10; i++) take(s, GROUP, 'final', () => results.push(Date.now()));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(results).toEqual([59_000, 60_000, 61_000, 62_000, 63_000, 64_000, 65_000, 66_000, 67_000, 68_000]);
  });

  it('gives a forgotten job’s result slot back to the jobs still running', async () => {
    const s = scheduler();
    const log: string[] = [];
    for (let job = 0; job < 10; job++) void ask(s, GROUP, 'started', log, `job-${job}`, { key: `job-${job}` });
    await vi.advanceTimersByTimeAsync(59_000);
    // One per 6 s once all 10 run (the first went while only one did): 10 of the 20 kept for their results.
    expect(log).toHaveLength(10);
    void ask(s, GROUP, 'progress', log, 'edit', { key: 'job-0' });
    await vi.advanceTimersByTimeAsync(500);
    expect(log.at(-1)).toBe('job-9@51750'); // the window is full for progress until its first send leaves it
    for (let job = 1; job < 10; job++) s.forget(GROUP, `job-${job}`);
    await vi.advanceTimersByTimeAsync(0);
    expect(log.at(-1)).toBe('edit@59500'); // one running job left: the reserve is back to 4, 16 may go
  });
});
