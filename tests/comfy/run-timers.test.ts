import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ComfyClient } from '../../src/comfy/client.js';
import { JobTimeoutError } from '../../src/comfy/errors.js';
import { runPrompt } from '../../src/comfy/run.js';
import type { ComfySocket, SocketListener } from '../../src/comfy/socket.js';
import { memoryLogger } from '../support/logger.js';

/** Strict doubles: any call the test did not plan for throws. */
function strict<T extends object>(impl: Partial<T>): T {
  return new Proxy(impl as T, {
    get(target, prop) {
      if (prop in target) return target[prop as keyof T];
      if (prop === 'then') return undefined;
      throw new Error(`unexpected call: ${String(prop)}`);
    },
  });
}

describe('a long job (fake time)', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('logs a heartbeat every 60 s, polls while silent, and fails clearly at the timeout', async () => {
    const { logger, lines } = memoryLogger('info');
    const calls: string[] = [];
    let listener: SocketListener | undefined;
    const client = strict<ComfyClient>({
      baseUrl: 'http://gpu:8188',
      history: async () => (calls.push('history'), undefined),
      queue: async () => (calls.push('queue'), { running: calls.includes('submit') ? ['p'] : [], pending: [] }),
      submit: async () => (calls.push('submit'), { promptId: 'p' }),
      interrupt: async () => void calls.push('interrupt'),
      deleteQueued: async () => void calls.push('delete'),
    });
    const socket = strict<ComfySocket>({
      clientId: 'c',
      ready: async () => undefined,
      subscribe: (_id, l) => ((listener = l), () => (listener = undefined)),
    });
    const run = runPrompt(
      { client, socket, logger },
      { promptId: 'p', graph: {}, timeoutMs: 3_600_000, pollIntervalMs: 15_000 },
    ).catch((e) => e);
    await vi.advanceTimersByTimeAsync(0);
    listener?.({ kind: 'message', message: { type: 'execution_start', data: { prompt_id: 'p' } } });
    listener?.({ kind: 'message', message: { type: 'executing', data: { prompt_id: 'p', node: '8' } } });
    await vi.advanceTimersByTimeAsync(180_000);
    expect(lines.filter((l) => l.msg === 'still running').map((l) => l.elapsedS)).toEqual([60, 120, 180]);
    // Silent for 3 minutes: asked /history + /queue every 15 s instead of trusting the socket.
    expect(calls.filter((c) => c === 'history').length).toBeGreaterThanOrEqual(12);
    await vi.advanceTimersByTimeAsync(3_420_000);
    const err = await run;
    expect(err).toBeInstanceOf(JobTimeoutError);
    expect(err.message).toBe('gave up after waiting 3600 s (last node: 8)');
    expect(calls).toContain('interrupt');
    expect(lines.filter((l) => l.msg === 'still running')).toHaveLength(59); // the timeout fires before the 60th
  });
});
