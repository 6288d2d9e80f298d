import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFollower, type FollowerDeps } from '../../../src/bots/jobs/follower.js';
import type { PositionPoller } from '../../../src/bots/jobs/positions.js';
import type { JobsRepo } from '../../../src/history/jobs-repo.js';
import { encodeFailure, type GenerationResult } from '../../../src/queue/contracts.js';
import type { JobEventHandlers, JobEvents } from '../../../src/queue/events.js';
import type { Producer } from '../../../src/queue/producer.js';
import { imageOutput, memoryRepo, recordingSink, seedJob, strict, tempStorage } from '../../support/doubles.js';
import { memoryLogger } from '../../support/logger.js';

type State = Awaited<ReturnType<Producer['state']>>;

/** Job events the test fires by hand; handlers stay reachable after unwatch, as a late event would. */
function eventsDouble() {
  const handlers = new Map<string, JobEventHandlers>();
  const watches: string[] = [];
  const unwatched: string[] = [];
  const events = strict<JobEvents>('events', {
    watch(jobId, h) {
      watches.push(jobId);
      handlers.set(jobId, h);
      return () => void unwatched.push(jobId);
    },
  });
  return { events, watches, unwatched, on: (jobId: string) => handlers.get(jobId) as Required<JobEventHandlers> };
}

function positionsDouble() {
  const watching = new Map<string, (position: number) => void>();
  const positions = strict<PositionPoller>('positions', {
    watch: (jobId, _workflow, update) => void watching.set(jobId, update),
    unwatch: (jobId) => void watching.delete(jobId),
  });
  return { positions, watching };
}

function setup(
  opts: {
    repo?: JobsRepo;
    state?: (jobId: string) => State;
    ping?: Pick<FollowerDeps, 'notifyAfterMs' | 'shouldPing'>;
  } = {},
) {
  const repo = opts.repo ?? memoryRepo(() => Date.now());
  const storage = tempStorage();
  const ev = eventsDouble();
  const pos = positionsDouble();
  const stateCalls: string[] = [];
  const producer = strict<Producer>('producer', {
    async state(jobId) {
      stateCalls.push(jobId);
      return opts.state ? opts.state(jobId) : { state: 'waiting' };
    },
  });
  const follower = createFollower({
    producer,
    events: ev.events,
    repo,
    storage,
    positions: pos.positions,
    logger: memoryLogger().logger,
    progressIntervalMs: 1000,
    now: () => Date.now(),
    deliveryDelaysMs: [1_000],
    ...opts.ping,
  });
  return { repo, storage, follower, stateCalls, ...ev, ...pos };
}

const result = (jobId: string): GenerationResult => ({
  files: [imageOutput(jobId, 1)],
  comfyUrl: 'http://gpu:8188',
  promptId: jobId,
  startedAt: 1_000,
  finishedAt: 6_000,
  resumedFrom: 'submit',
});

const flush = () => vi.advanceTimersByTimeAsync(0);

describe('following a job to its end', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 100_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers the result once when "completed" arrives twice', async () => {
    const s = setup();
    const job = seedJob(s.repo, { status: 'queued' });
    const view = recordingSink();
    const done = s.follower.follow(job, view.sink, 2);
    await flush();
    s.on(job.id).completed(result(job.id));
    s.on(job.id).completed(result(job.id));
    await done;
    await flush();
    expect(view.results).toHaveLength(1);
    expect(view.results[0]).toMatchObject({
      jobId: job.id,
      text: 'Done in 0:05 — 1 file(s)',
      files: [{ absolutePath: s.storage.resolveInside(`outputs/${job.id}/01.png`) }],
    });
    expect(view.failures).toEqual([]);
    expect(s.repo.get(job.id)?.status).toBe('succeeded');
    expect(s.unwatched).toEqual([job.id]);
    expect(s.watching.size).toBe(0);
  });

  it('delivers once when the first check finds it finished and the live event comes after', async () => {
    const s = setup({ state: (id) => ({ state: 'completed', result: result(id) }) });
    const job = seedJob(s.repo, { status: 'running' });
    const view = recordingSink();
    const done = s.follower.follow(job, view.sink);
    await done;
    s.on(job.id).completed(result(job.id));
    await flush();
    expect(s.stateCalls).toEqual([job.id]);
    expect(view.results).toHaveLength(1);
  });

  it('finds a job whose events were lost on the 30-second sweep', async () => {
    let state: State = { state: 'active' };
    const s = setup({ state: () => state });
    const job = seedJob(s.repo, { status: 'running' });
    const view = recordingSink();
    void s.follower.follow(job, view.sink);
    await flush();
    state = { state: 'failed', failedReason: encodeFailure({ kind: 'execution', message: 'CUDA out of memory' }) };
    await vi.advanceTimersByTimeAsync(29_000);
    expect(view.failures).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(view.failures.map((f) => f.text)).toEqual(['Generation failed: CUDA out of memory']);
    s.on(job.id).failed('late duplicate');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(view.failures).toHaveLength(1);
    expect(s.stateCalls).toHaveLength(2);
    s.follower.close();
  });

  it('says a job gone from the queue is lost, and one removed is cancelled', async () => {
    const s = setup({ state: () => undefined });
    const gone = seedJob(s.repo, { status: 'queued' });
    const lost = recordingSink();
    await s.follower.follow(gone, lost.sink);
    expect(lost.failures.map((f) => f.failure.kind)).toEqual(['lost']);

    const t = setup();
    const removed = seedJob(t.repo, { status: 'queued' });
    const cancelled = recordingSink();
    const done = t.follower.follow(removed, cancelled.sink);
    await flush();
    t.on(removed.id).removed();
    await done;
    expect(cancelled.failures.map((f) => f.text)).toEqual(['Cancelled.']);
    expect(t.repo.get(removed.id)?.status).toBe('cancelled');
  });

  it('treats a result it cannot read as a failure with a reference', async () => {
    const s = setup();
    const job = seedJob(s.repo, { status: 'running' });
    const view = recordingSink();
    const done = s.follower.follow(job, view.sink);
    await flush();
    s.on(job.id).completed({ files: 'nope' });
    await done;
    expect(view.failures[0]?.text).toMatch(/^Something went wrong \(ref [0-9a-f]{6}\)\.$/);
  });

  it('follows a job once however often it is asked', async () => {
    const s = setup();
    const job = seedJob(s.repo, { status: 'queued' });
    const view = recordingSink();
    const first = s.follower.follow(job, view.sink);
    expect(s.follower.follow(job, recordingSink().sink)).toBe(first);
    expect(s.watches).toEqual([job.id]);
    expect(await s.follower.end(job.id, { ok: false, failure: { kind: 'cancelled', message: 'by user' } })).toBe(true);
    await first;
    expect(view.failures.map((f) => f.text)).toEqual(['Cancelled.']);
    expect(await s.follower.end(job.id, { ok: false, failure: { kind: 'cancelled', message: 'again' } })).toBe(false);
  });

  it('shows the queue position, then the run, as it changes', async () => {
    const s = setup();
    const job = seedJob(s.repo, { id: 'abcdef01-0000-4000-8000-000000000001', status: 'queued' });
    const view = recordingSink();
    void s.follower.follow(job, view.sink, 3);
    await flush();
    s.watching.get(job.id)?.(1);
    await vi.advanceTimersByTimeAsync(1_000);
    s.on(job.id).progress({ percent: 40, comfyUrl: 'http://gpu:8188', startedAt: Date.now() });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(view.progress.map((p) => p.text.split('\n')[0])).toMatchInlineSnapshot(`
      [
        "Queued — 3 ahead of you · job abcdef01",
        "Queued — 1 ahead of you · job abcdef01",
        "Generating · job abcdef01",
      ]
    `);
    expect(view.progress.every((p) => p.canCancel && p.jobId === job.id)).toBe(true);
    expect(s.repo.get(job.id)).toMatchObject({ status: 'running', progress: 40, comfyUrl: 'http://gpu:8188' });
    expect(s.watching.has(job.id)).toBe(false);
    s.follower.close();
  });

  it('keeps the percent in the history at most once per progress interval, not at every event', async () => {
    const s = setup(); // progress interval: 1 s
    const job = seedJob(s.repo, { status: 'queued' });
    void s.follower.follow(job, recordingSink().sink);
    await flush();
    const progress = (percent: number) =>
      s.on(job.id).progress({ percent, comfyUrl: 'http://gpu:8188', startedAt: Date.now() });
    progress(10);
    await vi.advanceTimersByTimeAsync(300);
    progress(20);
    progress(30);
    expect(s.repo.get(job.id)?.progress).toBe(10);
    await vi.advanceTimersByTimeAsync(700);
    progress(40);
    expect(s.repo.get(job.id)?.progress).toBe(40);
    s.follower.close();
  });

  it('delivers a result still owed from before a restart, without watching the queue', async () => {
    const s = setup();
    const owed = seedJob(s.repo, { status: 'succeeded', outputs: [imageOutput('x', 1)] });
    const view = recordingSink();
    await s.follower.follow(owed, view.sink);
    expect(view.results.map((r) => r.jobId)).toEqual([owed.id]);
    expect(s.repo.get(owed.id)?.deliveredAt).toBeDefined();
    expect(s.watches).toEqual([]);
    expect(s.stateCalls).toEqual([]);

    const again = recordingSink();
    await s.follower.follow(s.repo.get(owed.id)!, again.sink);
    expect(again.results).toEqual([]);
  });

  it('tries a failed delivery again, and counts it delivered only once shown', async () => {
    const s = setup();
    const job = seedJob(s.repo, { status: 'running' });
    const view = recordingSink();
    let failuresLeft = 1;
    const flaky = {
      ...view.sink,
      async showResult(v: Parameters<typeof view.sink.showResult>[0]) {
        if (failuresLeft-- > 0) throw new Error('502 Bad Gateway');
        await view.sink.showResult(v);
      },
    };
    const done = s.follower.follow(job, flaky);
    await flush();
    s.on(job.id).completed(result(job.id));
    await flush();
    expect(view.results).toEqual([]);
    expect(s.repo.get(job.id)?.deliveredAt).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1_000);
    await done;
    expect(view.results).toHaveLength(1);
    expect(s.repo.get(job.id)?.deliveredAt).toBeDefined();
  });

  it('asks the sink to ping the user when a job took longer than notifyAfterMs (from the command to its end)', async () => {
    const run = async (
      ping: Pick<FollowerDeps, 'notifyAfterMs' | 'shouldPing'> | undefined,
      end: 'completed' | 'failed' | 'cancelled',
    ) => {
      const s = setup({ ping });
      const job = seedJob(s.repo, { status: 'running', at: 0 }); // the result says it finished at 6 s
      const view = recordingSink();
      const done = s.follower.follow(job, view.sink);
      await flush();
      if (end === 'completed') s.on(job.id).completed(result(job.id));
      else if (end === 'failed') s.on(job.id).failed(encodeFailure({ kind: 'execution', message: 'OOM' }));
      else await s.follower.end(job.id, { ok: false, failure: { kind: 'cancelled', message: 'by user' } });
      await done;
      return [...view.results, ...view.failures].map((v) => v.notify ?? false);
    };
    expect(await run({ notifyAfterMs: 5_000 }, 'completed')).toEqual([true]);
    expect(await run({ notifyAfterMs: 10_000 }, 'completed')).toEqual([false]);
    expect(await run({ notifyAfterMs: 5_000, shouldPing: () => false }, 'completed')).toEqual([false]);
    expect(await run({ notifyAfterMs: 5_000 }, 'failed')).toEqual([true]);
    // The user cancelled it: they know.
    expect(await run({ notifyAfterMs: 5_000 }, 'cancelled')).toEqual([false]);
    expect(await run(undefined, 'completed')).toEqual([false]);
  });
});
