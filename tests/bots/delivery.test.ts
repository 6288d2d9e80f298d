import { afterEach, describe, expect, it, vi } from 'vitest';
import { deliver, forUsers, recordOutcome, viewOf } from '../../src/bots/delivery.js';
import { PermanentDeliveryError, type ProgressSink, type ResultView } from '../../src/bots/progress/sink.js';
import { memoryLogger } from '../support/logger.js';
import { memoryRepo, seedJob, tempStorage } from '../support/doubles.js';

/** A sink whose showResult fails `failures` times (with `error`), then works. */
function flakySink(failures: number, error: () => Error = () => new Error('socket hang up')) {
  const shown: ResultView[] = [];
  let calls = 0;
  const sink: ProgressSink = {
    showProgress: async () => {
      throw new Error('unexpected progress');
    },
    showResult: async (v) => {
      calls += 1;
      if (calls <= failures) throw error();
      shown.push(v);
    },
    showFailure: async () => {
      throw new Error('unexpected failure view');
    },
  };
  return { sink, shown, calls: () => calls };
}

function finishedJob() {
  const repo = memoryRepo();
  const job = seedJob(repo, { status: 'queued' });
  recordOutcome(repo, job, {
    ok: true,
    result: {
      files: [],
      comfyUrl: 'http://gpu:8188',
      promptId: job.id,
      startedAt: 1_000,
      finishedAt: 6_000,
      resumedFrom: 'submit',
    },
  });
  const row = repo.get(job.id)!;
  return { repo, row, view: viewOf({ repo, storage: tempStorage(), logger: memoryLogger().logger }, row) };
}

describe('at-least-once delivery', () => {
  afterEach(() => vi.useRealTimers());

  it('retries a failed delivery with backoff until it lands', async () => {
    vi.useFakeTimers();
    const { view } = finishedJob();
    const { sink, shown, calls } = flakySink(3);
    const retries: number[] = [];
    const { logger } = memoryLogger();
    const result = deliver(sink, view, {
      logger,
      onRetry: () => retries.push(Date.now()),
      delaysMs: [1_000, 2_000, 4_000],
    });
    await vi.advanceTimersByTimeAsync(7_000);
    await expect(result).resolves.toBe('delivered');
    expect(calls()).toBe(4);
    expect(retries).toHaveLength(3);
    expect(shown).toHaveLength(1);
  });

  it('leaves a delivery owed when every retry failed', async () => {
    vi.useFakeTimers();
    const { view } = finishedJob();
    const { sink, shown } = flakySink(10);
    const { logger, lines } = memoryLogger();
    const result = deliver(sink, view, { logger, delaysMs: [10, 10] });
    await vi.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe('owed');
    expect(shown).toHaveLength(0);
    expect(lines.some((l) => l.msg === 'delivery failed after retries; it stays owed and is tried again later')).toBe(
      true,
    );
  });

  it('gives up at once when the chat cannot receive it', async () => {
    const { view } = finishedJob();
    const { sink, calls } = flakySink(10, () => new PermanentDeliveryError('Forbidden: bot was blocked by the user'));
    await expect(deliver(sink, view, { logger: memoryLogger().logger })).resolves.toBe('given-up');
    expect(calls()).toBe(1);
  });

  it('records the final state once and delivery apart from it', () => {
    const { repo, row } = finishedJob();
    expect(row.status).toBe('succeeded');
    expect(row.deliveredAt).toBeUndefined();
    expect(repo.undelivered('telegram').map((r) => r.id)).toEqual([row.id]);
    recordOutcome(repo, row, { ok: false, failure: { kind: 'execution', message: 'late news' } });
    expect(repo.get(row.id)?.status).toBe('succeeded');
    expect(repo.markDelivered(row.id)).toBe(true);
    expect(repo.markDelivered(row.id)).toBe(false);
    expect(repo.undelivered('telegram')).toEqual([]);
  });

  it('rebuilds a failure from the row after a restart, in the job’s language', () => {
    const repo = memoryRepo();
    const job = seedJob(repo, { status: 'queued' });
    recordOutcome(repo, job, { ok: false, failure: { kind: 'timeout', message: 'no answer in 3600 s' } });
    const view = viewOf({ repo, storage: tempStorage(), logger: memoryLogger().logger }, repo.get(job.id)!);
    expect('failure' in view && view.failure.failure).toEqual({ kind: 'timeout', message: 'no answer in 3600 s' });
    expect('failure' in view && view.failure.text).toBe('Timed out: no answer in 3600 s');
  });
});

describe('failure texts for users', () => {
  it('keep addresses, hosts and file paths out', () => {
    expect(forUsers('connect ECONNREFUSED 10.0.0.12:8188')).toBe('connect ECONNREFUSED …');
    expect(forUsers('fetch failed: http://gpu-box.lan:8188/prompt refused')).toBe('fetch failed: … refused');
    expect(forUsers("FileNotFoundError: '/home/ai/ComfyUI/models/x.safetensors'")).toBe("FileNotFoundError: '…'");
  });

  it('leave ordinary messages alone', () => {
    expect(forUsers("ckpt_name: 'sdxl.safetensors' not in list")).toBe("ckpt_name: 'sdxl.safetensors' not in list");
    expect(forUsers('aspect 16:9 at 12:30')).toBe('aspect 16:9 at 12:30');
  });
});
