import { ComfyUnavailableError } from '../comfy/errors.js';
import type { Logger } from '../logger.js';

/** Network failures that are part of normal life (ComfyUI not started yet, restarting, a peer gone). */
const expectedCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function* causeChain(err: unknown) {
  let e = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    yield e;
    e = (e as { cause?: unknown }).cause;
  }
}

/** An expected outage is logged as one line with its reason; a stack trace is kept for errors that mean a bug. */
export function isExpectedOutage(err: unknown): boolean {
  for (const e of causeChain(err)) {
    if (e instanceof ComfyUnavailableError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && expectedCodes.has(code)) return true;
  }
  return false;
}

/** The innermost cause's message: "connect ECONNREFUSED 127.0.0.1:8188" rather than "fetch failed". */
export function rootMessage(err: unknown): string {
  const last = [...causeChain(err)].at(-1);
  return last instanceof Error ? last.message : String(last ?? err);
}

/** The message, plus the innermost cause's when that adds something. */
export function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const root = rootMessage(err);
  return message.includes(root) ? message : `${message} (${root})`;
}

export interface OutageLog {
  /**
   * One warn line (no stack) the first time, when the reason changes and every remindEvery-th time; debug otherwise.
   * The reason is the innermost cause's message.
   */
  failed(err: unknown, fields?: Record<string, unknown>): void;
  /** Back to normal: one info line, if it had failed and a `recovered` text was given. */
  recovered(fields?: Record<string, unknown>): void;
  failures(): number;
}

/** Dedups the warnings of one expected condition (a ComfyUI that is down), so a waiting relay stays readable. */
export function createOutageLog(
  log: Logger,
  text: { failing: (reason: string) => string; recovered?: string },
  opts: { remindEvery?: number } = {},
): OutageLog {
  const remindEvery = opts.remindEvery ?? 30;
  let failures = 0;
  let lastReason: string | undefined;
  return {
    failed(err, fields) {
      failures += 1;
      const reason = rootMessage(err);
      const isNews = failures === 1 || reason !== lastReason || failures % remindEvery === 0;
      lastReason = reason;
      const line = { ...fields, failures };
      if (isNews) log.warn(line, text.failing(reason));
      else log.debug(line, text.failing(reason));
    },
    recovered(fields) {
      if (failures > 0 && text.recovered) log.info({ ...fields, failures }, text.recovered);
      failures = 0;
      lastReason = undefined;
    },
    failures: () => failures,
  };
}
