import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { discordBudget } from '../../../src/bots/discord/frontend.js';
import { createProgressReporter } from '../../../src/bots/progress/reporter.js';
import type { ProgressSink, ProgressView } from '../../../src/bots/progress/sink.js';
import { createSendScheduler, type SendGrant } from '../../../src/bots/send-scheduler.js';
import { telegramBudget, telegramGlobalBudget } from '../../../src/bots/telegram/scheduled-api.js';
import { createDiscordLimits } from '../../fakes/discord/rate-limits.js';
import { createFloodGate, telegramFloodLimits } from '../../fakes/telegram/flood.js';
import { memoryLogger } from '../../support/logger.js';

/**
 * Many jobs' reporters sharing one chat's budget, in fake time: jobs arrive together and run one after another on one
 * GPU, reporting a percentage every 500 ms. Every send the scheduler grants goes through the fake platform's own limit
 * check (tests/fakes), so a 429 there would show up here. What each job's message showed is recorded per job.
 */
interface Shown {
  at: number;
  phase: 'queued' | 'running' | 'done';
}

interface Job {
  arrivedAt: number;
  startedAt?: number;
  endedAt?: number;
  shown: Shown[];
}

const view = (text: string, isRunning: boolean): ProgressView => ({
  text,
  percent: 0,
  bar: '',
  isRunning,
  jobId: 'j',
  shortId: 's',
  locale: 'en',
  canCancel: true,
});

function simulate(opts: {
  chat: string;
  jobs: number;
  jobMs: number;
  platform: 'telegram' | 'discord';
  /** The fake platform's verdict on job `j`'s send at `at`: true when it would answer 429. */
  refuses: (j: number, at: number) => boolean;
}) {
  const scheduler =
    opts.platform === 'telegram'
      ? createSendScheduler({ budgetOf: telegramBudget, global: telegramGlobalBudget })
      : createSendScheduler({ budgetOf: discordBudget });
  const { logger } = memoryLogger();
  let refused = 0;
  const jobs: Job[] = [];
  /** A platform call: the fake counts it as it arrives (now), the scheduler from its answer (right after). */
  const call = (j: number, phase: Shown['phase'], grant?: SendGrant) => {
    if (opts.refuses(j, Date.now())) refused += 1;
    else jobs[j]?.shown.push({ at: Date.now(), phase });
    grant?.answered();
  };
  const sinkOf = (j: number): ProgressSink => {
    const key = `job-${j}`;
    return {
      graceMs: 1000,
      showProgress: async (v) => call(j, v.isRunning ? 'running' : 'queued'),
      showResult: async () => {
        call(j, 'done', await scheduler.acquire(opts.chat, 'final'));
        scheduler.forget(opts.chat, key);
      },
      showFailure: async () => undefined,
      slot: async (lane, signal) => {
        const grant = await scheduler.acquire(opts.chat, lane, { key, signal });
        return grant && { run: (send) => send().finally(() => grant.answered()), release: () => grant.release() };
      },
    };
  };
  const sinks = Array.from({ length: opts.jobs }, (_, j) => sinkOf(j));
  const reporters = sinks.map((sink) => createProgressReporter({ sink, intervalMs: 500, heartbeatMs: 10_000, logger }));
  for (let j = 0; j < opts.jobs; j++) jobs.push({ arrivedAt: Date.now(), shown: [] });

  async function run() {
    for (const [j, r] of reporters.entries()) r.update(() => view(`Queued #${j}`, false));
    for (const [j, r] of reporters.entries()) {
      await vi.advanceTimersByTimeAsync(300); // the GPU picks it up
      (jobs[j] as Job).startedAt = Date.now();
      for (const [k, q] of reporters.slice(j + 1).entries()) q.update(() => view(`Queued #${k}`, false));
      for (let t = 0; t < opts.jobMs; t += 500) {
        const pct = Math.round((100 * t) / opts.jobMs);
        r.update(() => view(`Generating ${pct}%`, true));
        await vi.advanceTimersByTimeAsync(500);
      }
      (jobs[j] as Job).endedAt = Date.now();
      void r.finish(() => (sinks[j] as ProgressSink).showResult({} as never));
    }
    await vi.advanceTimersByTimeAsync(10 * 60_000);
  }
  return { jobs, run, refused: () => refused };
}

/** The phases a job's message showed, in order, without repeats. */
const phasesOf = (job: Job) => job.shown.map((s) => s.phase).filter((p, i, all) => i === 0 || all[i - 1] !== p);

describe('jobs sharing a busy chat', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('a saturated Telegram group still shows each job queued, then running, then done, when it runs long enough', async () => {
    const gate = createFloodGate(telegramFloodLimits);
    const sim = simulate({
      chat: '-100777',
      jobs: 12,
      jobMs: 10_000, // more than two turns of the group (a turn is 60 s / (20 − 2) at most)
      platform: 'telegram',
      refuses: (_j, at) => gate.admit(-100777, at) !== undefined,
    });
    await sim.run();
    expect(sim.refused()).toBe(0);
    for (const [j, job] of sim.jobs.entries()) {
      const waited = (job.startedAt as number) - job.arrivedAt;
      const expected = waited > 1000 + 6667 ? ['queued', 'running', 'done'] : ['running', 'done'];
      expect({ job: j, phases: phasesOf(job) }).toEqual({ job: j, phases: expected });
    }
  }, 30_000);

  it('a group saturated by fast jobs gets zero 429s and every result, in order, though not every state', async () => {
    const gate = createFloodGate(telegramFloodLimits);
    const sim = simulate({
      chat: '-100777',
      jobs: 12,
      jobMs: 1_000,
      platform: 'telegram',
      refuses: (_j, at) => gate.admit(-100777, at) !== undefined,
    });
    await sim.run();
    expect(sim.refused()).toBe(0);
    for (const job of sim.jobs) {
      const phases = phasesOf(job);
      expect(phases.at(-1)).toBe('done');
      const order: Shown['phase'][] = ['queued', 'running', 'done'];
      expect(order.filter((p) => phases.includes(p))).toEqual(phases);
    }
  }, 30_000);

  it('a busy Discord channel: zero 429s from the fake’s buckets, and each job shows queued, running, done', async () => {
    const limits = createDiscordLimits();
    const sim = simulate({
      chat: '400000000000000009',
      jobs: 12,
      jobMs: 5_000, // a turn of the channel is 5 s / (5 − 2) at most: room for a result, a start and a first message
      platform: 'discord',
      refuses: (j, at) =>
        limits.admit({
          method: 'PATCH',
          path: `/webhooks/900/tok${j}/messages/@original`,
          isBot: false,
          channelId: '400000000000000009',
          at,
        }).limited !== undefined,
    });
    await sim.run();
    expect(sim.refused()).toBe(0);
    for (const [j, job] of sim.jobs.entries()) {
      const waited = (job.startedAt as number) - job.arrivedAt;
      const expected = waited > 1000 + 3334 ? ['queued', 'running', 'done'] : ['running', 'done'];
      expect({ job: j, phases: phasesOf(job) }).toEqual({ job: j, phases: expected });
    }
  }, 30_000);
});
