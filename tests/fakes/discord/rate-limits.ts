/**
 * Discord's rate limits as the fake enforces them when a test asks (docs/platforms.md §1.4). Discord documents the
 * mechanism, not the numbers; these are the observed figures platforms.md gives:
 * - message creates and edits in a channel with the bot token: 5 per 5 s per channel;
 * - interaction webhooks (editing @original, followups): 5 per 2 s per token. Discord gives no per-channel figure for
 *   them, so they also count in the channel's 5 per 5 s (a 429 of scope "shared" past it): the strict reading, and the
 *   budget the bot shares among a channel's jobs. The 2017 "30 per minute per channel" for webhooks is left out
 *   (old, unverified, and about webhook executes);
 * - 50 requests a second with the bot token; interaction callbacks and webhooks do not count.
 * Each bucket is a fixed window starting with its first request, as Discord's X-RateLimit-Reset-After describes.
 * Every answer carries the route bucket's headers (discord.js reads them to wait ahead of time); a call over a limit
 * gets Discord's 429: { message, retry_after, global } with Retry-After and X-RateLimit-Scope, and does not count.
 */
interface Limit {
  limit: number;
  ms: number;
}

const CHANNEL: Limit = { limit: 5, ms: 5_000 };
const WEBHOOK: Limit = { limit: 5, ms: 2_000 };
const GLOBAL: Limit = { limit: 50, ms: 1_000 };

export interface RateLimited {
  retryAfter: number;
  scope: 'user' | 'shared' | 'global';
}

export function createDiscordLimits() {
  const windows = new Map<string, { start: number; count: number }>();
  const windowOf = (key: string, l: Limit, at: number) => {
    let w = windows.get(key);
    if (!w || at >= w.start + l.ms) windows.set(key, (w = { start: at, count: 0 }));
    return w;
  };
  /** The buckets a call counts in: [route bucket, shared ones…]; none for routes without a limit here. */
  const bucketsOf = (method: string, path: string, isBot: boolean, channelId: string | undefined) => {
    const out: Array<{ key: string; l: Limit; scope: RateLimited['scope'] }> = [];
    const webhook = /^\/webhooks\/\d+\/([^/]+)/.exec(path);
    const channel = /^\/channels\/(\d+)\/messages(\/\d+)?$/.exec(path);
    const writes = method === 'POST' || method === 'PATCH';
    if (webhook && writes) out.push({ key: `webhook:${webhook[1]}`, l: WEBHOOK, scope: 'user' });
    if (channel && writes) out.push({ key: `channel:${channel[1]}`, l: CHANNEL, scope: 'user' });
    else if (webhook && writes && channelId) out.push({ key: `channel:${channelId}`, l: CHANNEL, scope: 'shared' });
    if (isBot && !path.startsWith('/interactions/')) out.push({ key: 'global', l: GLOBAL, scope: 'global' });
    return out;
  };

  return {
    /**
     * Counts a call at `at` (ms). Returns the headers to answer with, and `limited` when it is over a limit (then it
     * does not count and must be answered 429).
     */
    admit(call: { method: string; path: string; isBot: boolean; channelId?: string; at: number }) {
      const buckets = bucketsOf(call.method, call.path, call.isBot, call.channelId);
      const states = buckets.map((b) => ({ ...b, w: windowOf(b.key, b.l, call.at) }));
      const over = states.filter((s) => s.w.count >= s.l.limit);
      const route = states[0]?.scope === 'global' ? undefined : states[0];
      const routeHeaders = () => (route ? headersOf(route.key, route.l, route.w, call.at) : {});
      if (over.length) {
        const worst = over.reduce((a, b) => (a.w.start + a.l.ms >= b.w.start + b.l.ms ? a : b));
        const retryAfter = (worst.w.start + worst.l.ms - call.at) / 1000;
        const limited: RateLimited = { retryAfter, scope: worst.scope };
        const headers: Record<string, string> = {
          ...routeHeaders(),
          'retry-after': String(Math.ceil(retryAfter)),
          'x-ratelimit-scope': worst.scope,
          ...(worst.scope === 'global' ? { 'x-ratelimit-global': 'true' } : {}),
        };
        return { headers, limited };
      }
      for (const s of states) s.w.count += 1;
      return { headers: routeHeaders() };
    },
  };
}

function headersOf(key: string, l: Limit, w: { start: number; count: number }, at: number): Record<string, string> {
  const resetAt = w.start + l.ms;
  return {
    'x-ratelimit-limit': String(l.limit),
    'x-ratelimit-remaining': String(Math.max(0, l.limit - w.count)),
    'x-ratelimit-reset': String(resetAt / 1000),
    'x-ratelimit-reset-after': String(Math.max(0, resetAt - at) / 1000),
    'x-ratelimit-bucket': key.split(':')[0] as string,
  };
}

export type DiscordLimits = ReturnType<typeof createDiscordLimits>;
