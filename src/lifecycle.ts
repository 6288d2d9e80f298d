import type { Logger } from './logger.js';

/**
 * Ordered, idempotent shutdown with one deadline (SHUTDOWN_TIMEOUT_S). Steps run in reverse order of registration
 * (stop taking work → workers → queues → Redis → SQLite → embedded Redis). A step that hangs cannot keep the
 * process alive past the deadline, and cannot keep a later step's child process alive either: a step may carry a
 * synchronous `lastResort` (kill the child) that runs on the deadline, on a second signal and on process exit
 * whenever the step itself has not finished.
 */
export interface Lifecycle {
  onShutdown(name: string, fn: () => Promise<void> | void, opts?: { lastResort?: () => void }): void;
  shutdown(reason: string): Promise<void>;
  /** Shut down in order, then end the process: code 0 after a signal, 1 after a fatal condition (highest wins). */
  exit(reason: string, code: number): Promise<void>;
  installSignalHandlers(): void;
  /** Milliseconds left before the deadline; the whole budget while no shutdown runs. */
  remainingMs(): number;
  isShuttingDown(): boolean;
}

export interface LifecycleOptions {
  deadlineMs?: number;
  /** How the process ends (a test passes a recorder). */
  exit?: (code: number) => void;
}

export function createLifecycle(logger: Logger, opts: LifecycleOptions = {}): Lifecycle {
  const deadlineMs = opts.deadlineMs ?? 25_000;
  const exitProcess = opts.exit ?? ((code: number) => process.exit(code));
  const steps: Array<{ name: string; fn: () => Promise<void> | void; lastResort?: () => void; isDone?: boolean }> = [];
  let running: Promise<void> | undefined;
  let deadlineAt: number | undefined;
  let current: string | undefined;
  let exitCode = 0;
  const log = logger.child({ module: 'lifecycle' });

  /** Synchronous, so it also works inside process.on('exit'). */
  const runLastResorts = () => {
    for (const step of [...steps].reverse()) {
      if (step.isDone || !step.lastResort) continue;
      step.isDone = true;
      try {
        step.lastResort();
      } catch (err) {
        log.warn({ err, step: step.name }, 'last-resort stop failed');
      }
    }
  };

  const lc: Lifecycle = {
    onShutdown(name, fn, stepOpts) {
      steps.push({ name, fn, lastResort: stepOpts?.lastResort });
    },
    shutdown(reason) {
      running ??= (async () => {
        log.info({ reason, deadlineS: deadlineMs / 1000 }, 'shutting down');
        deadlineAt = Date.now() + deadlineMs;
        const deadline = setTimeout(() => {
          log.error({ deadlineMs, step: current }, 'shutdown deadline passed; stopping child processes and exiting');
          runLastResorts();
          exitProcess(Math.max(exitCode, 1));
        }, deadlineMs);
        deadline.unref();
        for (const step of [...steps].reverse()) {
          if (step.isDone) continue;
          current = step.name;
          try {
            await step.fn();
          } catch (err) {
            log.warn({ err, step: step.name }, 'shutdown step failed');
            // The orderly stop failed: its last resort (kill the child) runs now, before the next step.
            try {
              step.lastResort?.();
            } catch (killErr) {
              log.warn({ err: killErr, step: step.name }, 'last-resort stop failed');
            }
          }
          step.isDone = true;
        }
        current = undefined;
        clearTimeout(deadline);
      })();
      return running;
    },
    async exit(reason, code) {
      exitCode = Math.max(exitCode, code);
      await lc.shutdown(reason);
      exitProcess(exitCode);
    },
    installSignalHandlers() {
      let signals = 0;
      // SIGHUP: the terminal went away; without a handler Node would die on it and leave the Redis child behind.
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        process.on(sig, () => {
          signals += 1;
          if (signals === 1) {
            void lc.exit(sig, 0);
            return;
          }
          // A second Ctrl-C means "now": skip the rest of the orderly shutdown, but never leave children behind.
          log.warn({ signal: sig, step: current }, 'second signal; exiting without waiting');
          runLastResorts();
          exitProcess(Math.max(exitCode, 1));
        });
      }
      process.once('exit', runLastResorts);
    },
    remainingMs: () => (deadlineAt === undefined ? deadlineMs : Math.max(0, deadlineAt - Date.now())),
    isShuttingDown: () => running !== undefined,
  };
  return lc;
}
