import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPositionPoller } from '../../../src/bots/jobs/positions.js';
import type { Producer } from '../../../src/queue/producer.js';
import { strict } from '../../support/doubles.js';
import { memoryLogger } from '../../support/logger.js';

function setup(answer: () => Promise<Map<string, number>>) {
  const asked: string[][] = [];
  const producer = strict<Producer>('producer', {
    positions(workflows) {
      asked.push([...workflows]);
      return answer();
    },
  });
  const { logger, lines } = memoryLogger();
  const poller = createPositionPoller({ producer, intervalMs: 1000, logger });
  return { poller, asked, lines };
}

describe('queue position polling', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks nothing while no job waits', async () => {
    const s = setup(async () => new Map());
    await vi.advanceTimersByTimeAsync(5000);
    expect(s.asked).toEqual([]);
    s.poller.close();
  });

  it('asks once per interval for every waiting job, and tells each its own position', async () => {
    const s = setup(
      async () =>
        new Map([
          ['a', 2],
          ['b', 0],
        ]),
    );
    const seen: Array<[string, number]> = [];
    s.poller.watch('a', 'imagine', (p) => seen.push(['a', p]));
    s.poller.watch('b', 'edit', (p) => seen.push(['b', p]));
    s.poller.watch('c', 'imagine', (p) => seen.push(['c', p]));
    await vi.advanceTimersByTimeAsync(999);
    expect(s.asked).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.asked).toEqual([['imagine', 'edit', 'imagine']]);
    expect(seen).toEqual([
      ['a', 2],
      ['b', 0],
    ]);
    s.poller.close();
  });

  it('stops asking about a job once it leaves the queue', async () => {
    const s = setup(async () => new Map([['a', 1]]));
    const seen: number[] = [];
    s.poller.watch('a', 'imagine', (p) => seen.push(p));
    await vi.advanceTimersByTimeAsync(1000);
    s.poller.unwatch('a');
    await vi.advanceTimersByTimeAsync(3000);
    expect(seen).toEqual([1]);
    expect(s.asked).toHaveLength(1);
    s.poller.close();
  });

  it('logs a failed poll and tries again next time', async () => {
    let fail = true;
    const s = setup(async () => {
      if (fail) throw new Error('redis down');
      return new Map([['a', 4]]);
    });
    const seen: number[] = [];
    s.poller.watch('a', 'imagine', (p) => seen.push(p));
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.lines.filter((l) => l.msg === 'could not read queue positions')).toHaveLength(1);
    fail = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toEqual([4]);
    s.poller.close();
  });

  it('stops when closed', async () => {
    const s = setup(async () => new Map());
    s.poller.watch('a', 'imagine', () => undefined);
    s.poller.close();
    await vi.advanceTimersByTimeAsync(5000);
    expect(s.asked).toEqual([]);
  });
});
