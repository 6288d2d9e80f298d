import { afterEach, describe, expect, it, vi } from 'vitest';
import { repeatedErrorLog } from '../../src/queue/redis.js';

describe('repeated connection errors', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs the same message once per interval with the count held back, other messages at once', () => {
    vi.useFakeTimers();
    const logged: Array<[Record<string, unknown>, string]> = [];
    const logError = repeatedErrorLog((obj, msg) => logged.push([obj, msg]), 'worker error', 10_000);
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    for (let i = 0; i < 50; i++) logError(refused, { workflow: 'imagine' });
    logError(new Error('Missing lock for job 1. moveToFinished'));
    vi.advanceTimersByTime(10_000);
    logError(refused, { workflow: 'edit' });
    expect(logged.map(([obj, msg]) => [msg, (obj.err as Error).message, obj.workflow, obj.repeated])).toEqual([
      ['worker error', 'connect ECONNREFUSED 127.0.0.1:6379', 'imagine', undefined],
      ['worker error', 'Missing lock for job 1. moveToFinished', undefined, undefined],
      ['worker error', 'connect ECONNREFUSED 127.0.0.1:6379', 'edit', 49],
    ]);
  });
});
