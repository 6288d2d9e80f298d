/**
 * Per-chat send budgets with priority lanes, so results reach a busy chat first and the bot never provokes a 429.
 *
 * Telegram allows about 20 messages a minute in a group and about one a second in a private chat (short bursts
 * tolerated), shared by every job in that chat (docs/platforms.md §2.4). Each chat gets a sliding window
 * (`limit` sends per `windowMs`) and three lanes, served strictly in order:
 * - `final`: results, failures and answers to commands; may use the whole window, one send per `minGapMs`;
 * - `progress`: job messages and their edits; leaves `reserve` sends of the window to `final` (more while more jobs
 *   wait, one per job up to half the window: each will want its result through), and while several
 *   messages wait it is spread evenly (one per `windowMs / limit`), so a busy group's jobs take turns all minute
 *   long instead of spending the window in the first seconds (a single message is paced by its own reporter);
 * - `heartbeat`: "still working" ticks; only while twice the reserve is free.
 * A request may carry a key (the job's message): a newer request with the same key drops the pending older one in the
 * low lanes, and a caller can abort its wait. The caller renders what it sends only once granted, so a late slot
 * shows the newest state instead of a queue of stale edits. A 429 that still happens blocks the chat for its
 * retry_after (`penalize`). Why this replaces grammY's transformer-throttler for Telegram: the throttler (Bottleneck)
 * serves each chat first come first served, cannot drop a superseded edit and refills its group reservoir all at
 * once every minute; with 10 jobs in a group the first result reached the chat 54 s after ComfyUI finished it,
 * queued behind progress edits. Stacking both would bring that FIFO back, so the scheduler also keeps the global cap
 * (`global`, about 30 sends a second) that the throttler enforced.
 */
export type SendLane = 'final' | 'progress' | 'heartbeat';

export interface ChatBudget {
  limit: number;
  windowMs: number;
  /** Sends of the window that progress leaves to results (heartbeats leave twice as many). */
  reserve: number;
  /** Least time between two sends to the chat, whatever their lane. */
  minGapMs: number;
}

/** A granted send; `release()` gives it back when nothing was sent after all. */
export interface SendGrant {
  release(): void;
  /**
   * The send was answered: the window counts it from now on, since the platform counted it on arrival, somewhere
   * between the grant and the answer (a slow upload can take seconds).
   */
  answered(): void;
}

export interface AcquireOptions {
  /** The message the send is for: a newer pending request with the same key replaces this one (low lanes only). */
  key?: string;
  /** Aborting gives up the wait (resolves undefined). */
  signal?: AbortSignal;
  /** A job's first message: not spread out like edits, and served before edits of the same lane. */
  isFirst?: boolean;
}

export interface SendScheduler {
  /** Waits for a send to `chat` in `lane`; undefined when the wait was aborted or superseded by a newer request. */
  acquire(chat: string, lane: SendLane, opts?: AcquireOptions): Promise<SendGrant | undefined>;
  /** The platform answered 429 anyway: nothing goes to this chat for `ms`. */
  penalize(chat: string, ms: number): void;
  /** The job behind `key` has ended (its result was shown): no result slot is kept for it any longer. */
  forget(chat: string, key: string): void;
  /** Requests waiting for this chat, per lane (tests, logs). */
  pending(chat: string): Record<SendLane, number>;
}

interface Entry {
  lane: SendLane;
  key?: string;
  isFirst: boolean;
  resolve: (g: SendGrant | undefined) => void;
  detach: () => void;
}

interface Chat {
  id: string;
  budget: ChatBudget;
  /** When each send in the current window was granted. */
  sent: number[];
  queue: Entry[];
  /** Jobs with a message here that will want a result slot: key → when it last asked for a send. */
  live: Map<string, number>;
  lastAt: number;
  lastPacedAt: number;
  blockedUntil: number;
  timer?: NodeJS.Timeout;
  timerAt: number;
}

export interface SendSchedulerDeps {
  budgetOf: (chat: string) => ChatBudget;
  /** A cap over all chats together (Telegram: about 30 sends a second). */
  global?: { limit: number; windowMs: number };
  now?: () => number;
}

const RANK: Record<SendLane, number> = { final: 0, progress: 1, heartbeat: 2 };
const LIVE_MS = 15 * 60_000;

/** The highest lane first; within a lane, first messages before edits, then first come first served. */
const nextOf = (c: Chat) =>
  c.queue.reduce<Entry | undefined>((best, e) => {
    if (!best) return e;
    const d = RANK[e.lane] - RANK[best.lane] || Number(best.isFirst) - Number(e.isFirst);
    return d < 0 ? e : best;
  }, undefined);

/** When the window holds fewer than `allowed` sends (never, for none allowed). */
const windowFreeAt = (sent: number[], allowed: number, windowMs: number) =>
  allowed <= 0 ? Infinity : sent.length < allowed ? 0 : (sent[sent.length - allowed] as number) + windowMs;

const dropOlder = (sent: number[], t: number, windowMs: number) => {
  while (sent.length && (sent[0] as number) <= t - windowMs) sent.shift();
};

/** The earliest time `e` may go to its chat, by the chat's budget alone. */
function earliest(c: Chat, e: Entry): number {
  const b = c.budget;
  const low = c.queue.filter((x) => x.lane !== 'final');
  // Every live job will want a slot for its result: keep one each (at least `reserve`, at most half the window).
  const jobs = c.live.size > 1 ? c.live.size : 0;
  const reserve = Math.min(Math.floor(b.limit / 2), Math.max(b.reserve, jobs));
  const allowed = b.limit - (e.lane === 'final' ? 0 : e.lane === 'progress' ? reserve : 2 * reserve);
  const paced = e.lane !== 'final' && !e.isFirst && low.length > 1;
  const at = Math.max(c.blockedUntil, c.lastAt + b.minGapMs, windowFreeAt(c.sent, allowed, b.windowMs));
  return paced ? Math.max(at, c.lastPacedAt + b.windowMs / b.limit) : at;
}

const newChat = (id: string, budget: ChatBudget): Chat => ({
  id,
  budget,
  sent: [],
  queue: [],
  live: new Map(),
  lastAt: -Infinity,
  lastPacedAt: -Infinity,
  blockedUntil: 0,
  timerAt: 0,
});

/** Arms the chat's timer for `at`, unless it already fires sooner. */
function arm(c: Chat, at: number, now: () => number, fire: () => void) {
  if (c.timer && c.timerAt <= at) return;
  clearTimeout(c.timer);
  c.timerAt = at;
  c.timer = setTimeout(
    () => {
      c.timer = undefined;
      fire();
    },
    Math.max(1, at - now()),
  );
  c.timer.unref?.();
}

/** Moves a send's time in each window to `to` (answered), or takes it out (given back). */
function moveSend(windows: number[][], from: number, to?: number) {
  for (const list of windows) {
    const i = list.lastIndexOf(from);
    if (i >= 0) list.splice(i, 1);
    if (to === undefined) continue;
    list.push(to);
    list.sort((a, b) => a - b);
  }
}

/** Forgets what left the chat's window; true when nothing is left to remember. */
function isIdle(c: Chat, t: number) {
  dropOlder(c.sent, t, c.budget.windowMs);
  // A job silent for this long (no edit, no heartbeat) is gone without saying so (a restart, a lost sink).
  for (const [key, seen] of c.live) if (seen < t - LIVE_MS) c.live.delete(key);
  return !c.sent.length && !c.queue.length && !c.live.size && !c.timer && c.blockedUntil <= t;
}

function countLanes(queue: Entry[]) {
  const out: Record<SendLane, number> = { final: 0, progress: 0, heartbeat: 0 };
  for (const e of queue) out[e.lane] += 1;
  return out;
}

function remove(c: Chat, e: Entry) {
  const i = c.queue.indexOf(e);
  if (i >= 0) c.queue.splice(i, 1);
  e.detach();
  return i >= 0;
}

export function createSendScheduler(deps: SendSchedulerDeps): SendScheduler {
  const now = deps.now ?? Date.now;
  const chats = new Map<string, Chat>();
  const globalSent: number[] = [];
  const chatOf = (id: string): Chat => {
    let c = chats.get(id);
    if (!c) chats.set(id, (c = newChat(id, deps.budgetOf(id))));
    return c;
  };

  /** Forgets what left the windows, and chats with nothing left to remember. */
  function prune(t: number) {
    if (deps.global) dropOlder(globalSent, t, deps.global.windowMs);
    for (const [id, c] of chats) if (isIdle(c, t)) chats.delete(id);
  }

  function grant(c: Chat, e: Entry, t: number) {
    remove(c, e);
    c.sent.push(t);
    globalSent.push(t);
    c.lastAt = t;
    if (e.lane !== 'final' && !e.isFirst) c.lastPacedAt = t;
    let settled = false;
    const settle = (to?: number) => {
      if (settled) return;
      settled = true;
      moveSend([c.sent, globalSent], t, to);
      pump(c);
    };
    e.resolve({ release: () => settle(), answered: () => settle(now()) });
  }

  /** Grants what may go now; arms the chat's timer for the next one. */
  function pump(c: Chat) {
    for (;;) {
      const t = now();
      prune(t);
      const e = nextOf(c);
      if (!e) return;
      let at = earliest(c, e);
      if (deps.global) at = Math.max(at, windowFreeAt(globalSent, deps.global.limit, deps.global.windowMs));
      if (at > t) return arm(c, at, now, () => pump(c));
      grant(c, e, t);
    }
  }

  const drop = (c: Chat, e: Entry) => remove(c, e) && e.resolve(undefined);

  return {
    acquire(chat, lane, opts = {}) {
      const c = chatOf(chat);
      if (opts.signal?.aborted) return Promise.resolve(undefined);
      if (opts.key !== undefined && lane !== 'final') {
        c.live.set(opts.key, now());
        for (const old of c.queue.filter((x) => x.key === opts.key && x.lane !== 'final')) drop(c, old);
      }
      return new Promise((resolve) => {
        const onAbort = () => drop(c, entry);
        const detach = () => opts.signal?.removeEventListener('abort', onAbort);
        const entry: Entry = { lane, key: opts.key, isFirst: opts.isFirst ?? false, resolve, detach };
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        c.queue.push(entry);
        pump(c);
      });
    },
    penalize(chat, ms) {
      const c = chatOf(chat);
      c.blockedUntil = Math.max(c.blockedUntil, now() + ms);
      clearTimeout(c.timer);
      c.timer = undefined;
      pump(c);
    },
    forget(chat, key) {
      const c = chats.get(chat);
      if (c?.live.delete(key)) pump(c);
    },
    pending: (chat) => countLanes(chats.get(chat)?.queue ?? []),
  };
}

/** Telegram's flood limits (docs/platforms.md §2.4): groups 20 a minute; private chats about 1 a second. */
export const telegramBudget = (chatId: string): ChatBudget =>
  /^\d+$/.test(chatId)
    ? { limit: 3, windowMs: 3_000, reserve: 0, minGapMs: 0 }
    : { limit: 20, windowMs: 60_000, reserve: 4, minGapMs: 1_000 };

/**
 * Discord's observed channel limit, about 5 message edits or posts per 5 s (docs/platforms.md §1.4, unverified).
 * No reserve: discord.js queues and waits out a 429 anyway; the lanes still put results first.
 */
export const discordBudget = (): ChatBudget => ({ limit: 5, windowMs: 5_000, reserve: 0, minGapMs: 0 });
