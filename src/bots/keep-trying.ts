import type { Logger } from '../logger.js';

/**
 * Starts a chat platform that may be unreachable right now. The first attempt is awaited by the caller; when it
 * fails, this keeps trying in the background with backoff (1 s doubling to a minute) until it works or `signal`
 * aborts, saying so once in the log rather than on every attempt. Resolves with whether it started.
 */
export async function launch(
  name: string,
  start: () => Promise<void>,
  opts: { logger: Logger; signal: AbortSignal; initialMs?: number; maxMs?: number },
): Promise<{ started: boolean; later?: Promise<boolean> }> {
  try {
    await start();
    return { started: true };
  } catch (err) {
    opts.logger.warn(
      { platform: name, err: (err as Error).message },
      `${name} cannot be reached; retrying in the background until it can`,
    );
    return { started: false, later: retry(name, start, opts) };
  }
}

async function retry(
  name: string,
  start: () => Promise<void>,
  opts: { logger: Logger; signal: AbortSignal; initialMs?: number; maxMs?: number },
): Promise<boolean> {
  let delay = opts.initialMs ?? 1_000;
  while (!opts.signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      timer.unref();
      opts.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
    if (opts.signal.aborted) return false;
    try {
      await start();
      opts.logger.info({ platform: name }, `${name} reachable again; the bot is running`);
      return true;
    } catch {
      delay = Math.min(opts.maxMs ?? 60_000, delay * 2);
    }
  }
  return false;
}
