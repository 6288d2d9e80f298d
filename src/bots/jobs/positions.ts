import type { Logger } from '../../logger.js';
import type { Producer } from '../../queue/producer.js';

/**
 * One queue-position poll for every waiting job this process follows: one Redis round trip per interval, however
 * many jobs wait. A job leaves the poll when it starts (or ends).
 */
export function createPositionPoller(deps: { producer: Producer; intervalMs: number; logger: Logger }) {
  const waiting = new Map<string, { workflow: string; update: (position: number) => void }>();
  const timer = setInterval(() => {
    if (waiting.size === 0) return;
    deps.producer
      .positions([...waiting.values()].map((q) => q.workflow))
      .then((pos) => {
        for (const [id, q] of waiting) {
          const p = pos.get(id);
          if (p !== undefined) q.update(p);
        }
      })
      .catch((err) => deps.logger.warn({ err }, 'could not read queue positions'));
  }, deps.intervalMs);
  timer.unref();

  return {
    watch(jobId: string, workflow: string, update: (position: number) => void) {
      waiting.set(jobId, { workflow, update });
    },
    unwatch(jobId: string) {
      waiting.delete(jobId);
    },
    close() {
      clearInterval(timer);
    },
  };
}

export type PositionPoller = ReturnType<typeof createPositionPoller>;
