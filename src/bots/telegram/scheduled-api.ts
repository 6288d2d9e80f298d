import { AsyncLocalStorage } from 'node:async_hooks';
import type { Transformer } from 'grammy';
import type { ChatBudget, SendGrant, SendLane, SendScheduler } from '../send-scheduler.js';

/**
 * Every Bot API call addressed to a chat waits for a slot in that chat's budget (`send-scheduler.ts`), so nothing
 * the bot does — job messages, results, answers to commands, gallery pages — can exceed Telegram's per-chat flood
 * limits. The lane comes from the caller's async context: a sink runs its calls `inLane('progress', …)`; anything
 * else (results, failures, command answers) is `final`. A slot the caller already holds (the reporter waits for it
 * before it renders) is spent by the first call instead of waiting again. A send counts in the chat's window from
 * its answer, the latest moment Telegram can have counted it. A 429 that happens anyway blocks the chat for its
 * retry_after; auto-retry, installed outside this transformer, then waits and tries again through it.
 */
interface LaneContext {
  lane: SendLane;
  held?: SendGrant;
}

const lanes = new AsyncLocalStorage<LaneContext>();

/**
 * Runs `fn` with its API calls in `lane`; `held` is a slot already granted, spent by the first call, or given back
 * when `fn` made none (the budget counts a slot in flight until it is answered or given back).
 */
export async function inLane<T>(lane: SendLane, fn: () => Promise<T>, held?: SendGrant): Promise<T> {
  const ctx: LaneContext = { lane, held };
  try {
    return await lanes.run(ctx, fn);
  } finally {
    ctx.held?.release();
  }
}

/** The chat a call is addressed to; calls without one (getUpdates, getFile, answerCallbackQuery) pass straight. */
const chatOf = (payload: unknown): string | undefined => {
  const id = (payload as { chat_id?: number | string } | undefined)?.chat_id;
  return id === undefined ? undefined : String(id);
};

export function scheduledCalls(scheduler: SendScheduler): Transformer {
  return async (prev, method, payload, signal) => {
    const chat = chatOf(payload);
    if (chat === undefined) return prev(method, payload, signal);
    const ctx = lanes.getStore();
    let grant = ctx?.held;
    if (ctx) ctx.held = undefined;
    // grammY types its signal with the abort-controller polyfill; at run time it is Node's own AbortSignal.
    grant ??= await scheduler.acquire(chat, ctx?.lane ?? 'final', { signal: signal as AbortSignal | undefined });
    try {
      const res = await prev(method, payload, signal);
      if (!res.ok && res.error_code === 429) scheduler.penalize(chat, (res.parameters?.retry_after ?? 1) * 1000);
      return res;
    } finally {
      grant?.answered();
    }
  };
}

/**
 * Telegram's flood limits (docs/platforms.md §2.4): about one message a second in a chat, short bursts tolerated —
 * a private chat gets a burst of 3, then one a second; a group no burst (one a second) and 20 a minute, of which
 * progress leaves one free for a result (one per running job when more). Private chats have positive ids.
 */
export const telegramBudget = (chatId: string): ChatBudget =>
  /^\d+$/.test(chatId)
    ? { bucket: { burst: 3, everyMs: 1_000 }, reserve: 0 }
    : { bucket: { burst: 1, everyMs: 1_000 }, window: { limit: 20, ms: 60_000 }, reserve: 1, paceBurst: 3 };

/** The cap over all chats together: about 30 messages a second (docs/platforms.md §2.4). */
export const telegramGlobalBudget = { limit: 30, windowMs: 1_000 };
