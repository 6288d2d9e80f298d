import type { Logger } from './logger.js';

/**
 * Ordered, idempotent shutdown with one deadline. Steps run in reverse order of registration
 * (stop taking work → workers → queues → Redis → SQLite → embedded Redis).
 */
export interface Lifecycle {
  onShutdown(name: string, fn: () => Promise<void> | void): void;
  shutdown(reason: string): Promise<void>;
  installSignalHandlers(): void;
}

export function createLifecycle(logger: Logger, deadlineMs = 30_000): Lifecycle {
  const steps: Array<{ name: string; fn: () => Promise<void> | void }> = [];
  let running: Promise<void> | undefined;
  const log = logger.child({ module: 'lifecycle' });
  const lc: Lifecycle = {
    onShutdown(name, fn) {
      steps.push({ name, fn });
    },
    shutdown(reason) {
      running ??= (async () => {
        log.info({ reason }, 'shutting down');
        const deadline = setTimeout(() => {
          log.error({ deadlineMs }, 'shutdown deadline passed; exiting');
          process.exit(1);
        }, deadlineMs);
        deadline.unref();
        for (const step of [...steps].reverse()) {
          try {
            await step.fn();
          } catch (err) {
            log.warn({ err, step: step.name }, 'shutdown step failed');
          }
        }
        clearTimeout(deadline);
      })();
      return running;
    },
    installSignalHandlers() {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) {
        process.once(sig, () => {
          void lc.shutdown(sig).then(() => process.exit(0));
        });
      }
    },
  };
  return lc;
}
