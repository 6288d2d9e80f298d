import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLifecycle } from '../src/lifecycle.js';
import { memoryLogger } from './support/logger.js';

describe('lifecycle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stops in reverse order of registration, once, and exits with the highest requested code', async () => {
    const order: string[] = [];
    const codes: number[] = [];
    const lc = createLifecycle(memoryLogger().logger, { exit: (c) => codes.push(c) });
    lc.onShutdown('redis', () => void order.push('redis'));
    lc.onShutdown('worker', async () => void order.push('worker'));
    const fatal = lc.exit('embedded Redis gone', 1);
    const signal = lc.exit('SIGTERM', 0);
    await Promise.all([fatal, signal]);
    expect(order).toEqual(['worker', 'redis']);
    expect(codes).toEqual([1, 1]);
  });

  it('kills what must not outlive the process when an earlier step hangs past the deadline', async () => {
    vi.useFakeTimers();
    const codes: number[] = [];
    const killed: string[] = [];
    const { logger, lines } = memoryLogger();
    const lc = createLifecycle(logger, { deadlineMs: 25_000, exit: (c) => codes.push(c) });
    lc.onShutdown('embedded redis', async () => void killed.push('orderly stop'), {
      lastResort: () => killed.push('SIGTERM sent'),
    });
    lc.onShutdown('worker', () => new Promise<void>(() => undefined)); // a job that never lets go
    void lc.exit('SIGTERM', 0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(lc.remainingMs()).toBe(15_000);
    expect(codes).toEqual([]);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(killed).toEqual(['SIGTERM sent']);
    expect(codes).toEqual([1]);
    expect(lines.find((l) => String(l.msg).startsWith('shutdown deadline passed'))?.step).toBe('worker');
  });

  it('runs a last resort when its orderly stop fails, and not twice when it succeeds', async () => {
    const calls: string[] = [];
    const lc = createLifecycle(memoryLogger('silent').logger, { exit: () => undefined });
    lc.onShutdown('a', () => void calls.push('a stop'), { lastResort: () => calls.push('a kill') });
    lc.onShutdown(
      'b',
      () => {
        throw new Error('stop failed');
      },
      { lastResort: () => calls.push('b kill') },
    );
    await lc.shutdown('test');
    expect(calls).toEqual(['b kill', 'a stop']);
  });
});
