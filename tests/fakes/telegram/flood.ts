/**
 * Telegram's flood limits as the fake Bot API enforces them when a test asks (docs/platforms.md §2.4, TG-FAQ): about
 * one message a second in any chat with short bursts tolerated (a bucket: `perChat.burst` at once, then
 * `perChat.perSecond`), at most 20 a minute in a group (any 60 s), about 30 a second over all chats. Telegram does not
 * say which calls count; every call addressed to a chat counts here, sends and edits alike, the strict reading. A
 * call over a limit is refused with the seconds to wait, rounded up like Telegram's retry_after, and does not count.
 */
export interface FloodLimits {
  perChat?: { burst: number; perSecond: number };
  groupPerMinute?: number;
  globalPerSecond?: number;
}

/** The figures platforms.md gives. */
export const telegramFloodLimits: Required<FloodLimits> = {
  perChat: { burst: 3, perSecond: 1 },
  groupPerMinute: 20,
  globalPerSecond: 30,
};

/** Counts calls against `limits` (changed in place by the fake's scripting helpers). */
export function createFloodGate(limits: FloodLimits) {
  const tats = new Map<number, number>();
  const groups = new Map<number, number[]>();
  let global: number[] = [];
  /** The wait before a list of times (in the last `ms`) holds fewer than `limit`. */
  const windowWait = (times: number[], limit: number, ms: number, at: number) =>
    times.length < limit ? 0 : (times[times.length - limit] as number) + ms - at;

  return {
    /** Counts a call to `chatId` at `at` (ms); the retry_after (s) when it is over a limit, and then it does not count. */
    admit(chatId: number, at: number): number | undefined {
      const waits: number[] = [];
      const pc = limits.perChat;
      const every = pc ? 1000 / pc.perSecond : 0;
      const tat = tats.get(chatId) ?? Number.NEGATIVE_INFINITY;
      if (pc) waits.push(tat - (pc.burst - 1) * every - at);
      const recent = (groups.get(chatId) ?? []).filter((t) => t > at - 60_000);
      const isGroup = chatId < 0 && limits.groupPerMinute !== undefined;
      if (isGroup) waits.push(windowWait(recent, limits.groupPerMinute as number, 60_000, at));
      global = global.filter((t) => t > at - 1000);
      if (limits.globalPerSecond !== undefined) waits.push(windowWait(global, limits.globalPerSecond, 1000, at));
      const wait = Math.max(0, ...waits);
      if (wait > 0) return Math.max(1, Math.ceil(wait / 1000));
      if (pc) tats.set(chatId, Math.max(tat, at) + every);
      if (isGroup) groups.set(chatId, [...recent, at]);
      global.push(at);
      return undefined;
    },
  };
}

export type FloodGate = ReturnType<typeof createFloodGate>;
