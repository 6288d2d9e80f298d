/**
 * Per-chat send budgets with priority lanes: a busy chat gets results first, then every job's change of state, and
 * only what is left goes to percentages, previews and heartbeats — without provoking a 429. The budgets are the
 * platforms' own (telegram/scheduled-api.ts, discord/frontend.ts); this module only serves them.
 *
 * A budget is a token bucket (`bucket`: a burst, then one send per `everyMs` — Telegram's "about one message a second
 * per chat, short bursts tolerated"), a sliding window (`window`: 20 a minute in a Telegram group, about 5 per 5 s in
 * a Discord channel), or both, with a global window over all chats on top (`global`: Telegram's 30 a second). A send
 * counts from its answer, the latest moment the platform can have counted it (a slow upload takes seconds); while in
 * flight the bucket counts it as arriving right now. Lanes, served strictly in this order:
 * - `final`: results, failures and answers to commands; the whole budget;
 * - `started`: a job runs and its message does not say so yet (or it has no message yet);
 * - `queued`: a queued job's first message;
 * - `notice`: news about something the chat already shows (the ping after a long job's result, which its edit did not
 *   notify): it can wait for other jobs' changes of state;
 * - `progress`: newer percentages and previews of a message that already shows its job's phase;
 * - `heartbeat`: "still working" ticks; only while twice the reserve is free.
 * `started` goes before `queued` because a running state lasts only as long as the job runs, while a queued job's
 * acknowledgement still means something until its turn comes. Within a lane, the request waiting longest goes first.
 * The lanes below `final` leave `reserve` sends of the window to results (one per job running in the chat when more,
 * up to half the window), and they keep to a pace of one send per window / (limit − reserve), counting every send
 * of the chat, results too: they never burst into the window's cap and then stall, so a busy chat's jobs take turns
 * all minute long and a job that starts late in the minute still finds a turn for its "running"; a result takes the
 * next turn and the lanes below make room for it. A chat without a window has only its bucket.
 *
 * A request carries a key (the job's message): a newer request with the same key replaces the pending older one, so a
 * message has at most one pending send and the newest state wins — in the higher of the two lanes, so a change of
 * state waiting for its turn is never demoted to a percentage. A caller can abort its wait. The caller renders what it
 * sends only once granted, so a late turn shows the newest state instead of a queue of stale edits. A 429 that still
 * happens blocks the chat for its retry_after (`penalize`). Why this replaces grammY's transformer-throttler for
 * Telegram: the throttler (Bottleneck) serves each chat first come first served, cannot drop a superseded edit and
 * refills its group reservoir all at once every minute; with 10 jobs in a group the first result reached the chat
 * 54 s after ComfyUI finished it, queued behind progress edits.
 * Over 300 lines because the buckets, windows, lanes and timers are one piece of state per chat.
 */
export type SendLane = 'final' | 'started' | 'queued' | 'notice' | 'progress' | 'heartbeat';

export interface ChatBudget {
  /** A token bucket: `burst` sends at once, then one per `everyMs`. */
  bucket?: { burst: number; everyMs: number };
  /** At most `limit` sends in any `ms`. */
  window?: { limit: number; ms: number };
  /** Sends of the window that the lanes below `final` leave to results (heartbeats leave twice as many). */
  reserve: number;
  /**
   * Sends below results that may go back to back before their pace applies (default 1: none), so a quiet chat's new
   * job is not held up by the previous job's result; the window's cap still holds.
   */
  paceBurst?: number;
}

/**
 * A granted send; `release()` gives it back when nothing was sent after all. Every grant ends in one of the two: until
 * then the bucket counts it as in flight.
 */
export interface SendGrant {
  release(): void;
  /**
   * The send was answered: the budget counts it from now on, since the platform counted it on arrival, somewhere
   * between the grant and the answer (a slow upload can take seconds).
   */
  answered(): void;
}

export interface AcquireOptions {
  /** The message the send is for: a newer pending request with the same key replaces this one (not in `final`). */
  key?: string;
  /** Aborting gives up the wait (resolves undefined). */
  signal?: AbortSignal;
}

export interface SendScheduler {
  /** Waits for a send to `chat` in `lane`; undefined when the wait was aborted or superseded by a newer request. */
  acquire(chat: string, lane: SendLane, opts?: AcquireOptions): Promise<SendGrant | undefined>;
  /**
   * A send right now, only if the chat has one to spare: nothing waits there and `keep` more sends would still be
   * free after it (an activity indicator must never delay a result). Undefined otherwise.
   */
  tryAcquire(chat: string, lane: SendLane, opts?: { keep?: number }): SendGrant | undefined;
  /** The platform answered 429 anyway: nothing goes to this chat for `ms`. */
  penalize(chat: string, ms: number): void;
  /** The job behind `key` has ended (its result was shown): the chat stops counting it as running. */
  forget(chat: string, key: string): void;
  /** Requests waiting for this chat, per lane (tests, logs). */
  pending(chat: string): Record<SendLane, number>;
}

export interface SendSchedulerDeps {
  budgetOf: (chat: string) => ChatBudget;
  /** A cap over all chats together (Telegram: about 30 sends a second). */
  global?: { limit: number; windowMs: number };
  now?: () => number;
}

interface Entry {
  lane: SendLane;
  key?: string;
  /** When this message's request in this lane began waiting (kept when a newer one replaces it). */
  since: number;
  seq: number;
  resolve: (g: SendGrant | undefined) => void;
  detach: () => void;
}

interface Chat {
  budget: ChatBudget;
  /** When each send in the current window was counted (its grant, then its answer), oldest first. */
  sent: number[];
  /** The bucket as the theoretical arrival time (GCRA) of the answered sends, and the sends still in flight. */
  tat: number;
  inFlight: number;
  queue: Entry[];
  /** Jobs running here (they will want a result soon): key → when it last asked for a send. */
  running: Map<string, number>;
  /**
   * The window's pace as a theoretical arrival time: each send in any lane moves it on by window / (limit − reserve),
   * and the lanes below `final` wait for it, so over any window all sends together stay within limit − reserve.
   */
  paceAt: number;
  blockedUntil: number;
  timer?: NodeJS.Timeout;
  timerAt: number;
}

const newChat = (budget: ChatBudget): Chat => ({
  budget,
  sent: [],
  tat: -Infinity,
  inFlight: 0,
  queue: [],
  running: new Map(),
  paceAt: -Infinity,
  blockedUntil: 0,
  timerAt: 0,
});

const RANK: Record<SendLane, number> = { final: 0, started: 1, queued: 2, notice: 3, progress: 4, heartbeat: 5 };
const LIVE_MS = 15 * 60_000;

/** The highest lane first; within a lane, the longest waiting. */
const nextOf = (c: Chat) =>
  c.queue.reduce<Entry | undefined>((best, e) => {
    if (!best) return e;
    const d = RANK[e.lane] - RANK[best.lane] || e.since - best.since || e.seq - best.seq;
    return d < 0 ? e : best;
  }, undefined);

/**
 * When the bucket lets one more send through with `keep` tokens still left after it. An answered send counts from its
 * answer, one in flight as if it arrived right now: the platform counted each somewhere between its grant and its
 * answer, so the bucket is never fuller here than there, whatever the network does to the order of arrivals.
 */
function bucketFreeAt(c: Chat, keep: number, t: number): number {
  const b = c.budget.bucket;
  if (!b) return 0;
  const tat = c.inFlight ? Math.max(c.tat, t) + c.inFlight * b.everyMs : c.tat;
  return tat - (b.burst - 1 - keep) * b.everyMs;
}

/** When the window holds fewer than `allowed` sends (never, for none allowed). */
function windowFreeAt(c: Chat, allowed: number, t: number): number {
  const w = c.budget.window;
  if (!w) return 0;
  if (allowed <= 0) return Infinity;
  const inWindow = c.sent.filter((at) => at > t - w.ms);
  return inWindow.length < allowed ? 0 : (inWindow[inWindow.length - allowed] as number) + w.ms;
}

/** Window sends the lanes below `final` leave to results: the reserve, or one per running job (up to half). */
function reserveOf(c: Chat): number {
  const w = c.budget.window;
  return w ? Math.min(Math.floor(w.limit / 2), Math.max(c.budget.reserve, c.running.size)) : 0;
}

/** The earliest time a send in `lane` may go to the chat, by the chat's budget alone. */
function earliest(c: Chat, lane: SendLane, t: number, keep = 0): number {
  const w = c.budget.window;
  const reserve = reserveOf(c);
  const kept = lane === 'final' ? 0 : lane === 'heartbeat' ? 2 * reserve : reserve;
  const at = Math.max(c.blockedUntil, bucketFreeAt(c, keep, t), windowFreeAt(c, (w?.limit ?? 0) - kept, t));
  if (lane === 'final' || !w) return at;
  const burst = c.budget.paceBurst ?? 1;
  return Math.max(at, c.paceAt - (burst - 1) * (w.ms / Math.max(1, w.limit - reserve)));
}

const dropOlder = (sent: number[], t: number, ms: number) => {
  while (sent.length && (sent[0] as number) <= t - ms) sent.shift();
};

/** Forgets what left the chat's window; true when nothing is left to remember (its bucket is full again). */
function isIdle(c: Chat, t: number): boolean {
  dropOlder(c.sent, t, c.budget.window?.ms ?? 0);
  // A job silent for this long (no edit, no heartbeat) is gone without saying so (a restart, a lost sink).
  for (const [key, seen] of c.running) if (seen < t - LIVE_MS) c.running.delete(key);
  const isEmpty = !c.sent.length && !c.queue.length && !c.running.size && !c.timer && !c.inFlight;
  return isEmpty && c.tat <= t && c.blockedUntil <= t;
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

function countLanes(queue: Entry[]) {
  const out: Record<SendLane, number> = { final: 0, started: 0, queued: 0, notice: 0, progress: 0, heartbeat: 0 };
  for (const e of queue) out[e.lane] += 1;
  return out;
}

function remove(c: Chat, e: Entry) {
  const i = c.queue.indexOf(e);
  if (i >= 0) c.queue.splice(i, 1);
  e.detach();
  return i >= 0;
}

/** Keeps count of the jobs running in the chat: a job asking to show "running" is one, until forgotten. */
function track(c: Chat, key: string, lane: SendLane, t: number) {
  if (lane === 'queued') c.running.delete(key);
  else if (lane === 'started' || c.running.has(key)) c.running.set(key, t);
}

/** The scheduler's state: its chats, the global window, and the order requests arrived in. */
interface Scheduling {
  deps: SendSchedulerDeps;
  now: () => number;
  chats: Map<string, Chat>;
  globalSent: number[];
  seq: number;
}

/** Forgets what left the windows, and chats with nothing left to remember. */
function prune(s: Scheduling, t: number) {
  if (s.deps.global) dropOlder(s.globalSent, t, s.deps.global.windowMs);
  for (const [id, c] of s.chats) if (isIdle(c, t)) s.chats.delete(id);
}

function globalFreeAt(s: Scheduling) {
  const g = s.deps.global;
  const sent = s.globalSent;
  return !g || sent.length < g.limit ? 0 : (sent[sent.length - g.limit] as number) + g.windowMs;
}

function grant(s: Scheduling, c: Chat, t: number): SendGrant {
  c.sent.push(t);
  s.globalSent.push(t);
  c.inFlight += 1;
  const { paceAt } = c;
  const w = c.budget.window;
  if (w) c.paceAt = Math.max(c.paceAt, t) + w.ms / Math.max(1, w.limit - reserveOf(c));
  const pacedTo = c.paceAt;
  let settled = false;
  const settle = (to?: number) => {
    if (settled) return;
    settled = true;
    c.inFlight -= 1;
    const every = c.budget.bucket?.everyMs;
    if (to !== undefined && every !== undefined) c.tat = Math.max(c.tat, to) + every;
    moveSend([c.sent, s.globalSent], t, to);
    pump(s, c);
  };
  const release = () => {
    // Nothing was sent: unless another send came since, the next one need not keep its distance from this one.
    if (!settled && c.paceAt === pacedTo) c.paceAt = paceAt;
    settle();
  };
  return { release, answered: () => settle(s.now()) };
}

/** Grants what may go now; arms the chat's timer for the next one. */
function pump(s: Scheduling, c: Chat) {
  for (;;) {
    const t = s.now();
    prune(s, t);
    const e = nextOf(c);
    if (!e) return;
    const at = Math.max(earliest(c, e.lane, t), globalFreeAt(s));
    if (at > t) return arm(c, at, s.now, () => pump(s, c));
    remove(c, e);
    e.resolve(grant(s, c, t));
  }
}

const drop = (c: Chat, e: Entry) => remove(c, e) && e.resolve(undefined);

/** Queues a request; a newer one for the same message replaces the pending older one (it keeps its place in line). */
function enqueue(s: Scheduling, c: Chat, lane: SendLane, opts: AcquireOptions): Promise<SendGrant | undefined> {
  let since = s.now();
  if (opts.key !== undefined && lane !== 'final') {
    track(c, opts.key, lane, since);
    for (const old of c.queue.filter((x) => x.key === opts.key && x.lane !== 'final')) {
      if (RANK[old.lane] < RANK[lane]) lane = old.lane; // a pending change of state is never demoted
      if (old.lane === lane) since = Math.min(since, old.since);
      drop(c, old);
    }
  }
  return new Promise((resolve) => {
    const onAbort = () => drop(c, entry);
    const detach = () => opts.signal?.removeEventListener('abort', onAbort);
    const entry: Entry = { lane, key: opts.key, since, seq: s.seq++, resolve, detach };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    c.queue.push(entry);
    pump(s, c);
  });
}

export function createSendScheduler(deps: SendSchedulerDeps): SendScheduler {
  const s: Scheduling = { deps, now: deps.now ?? Date.now, chats: new Map(), globalSent: [], seq: 0 };
  const chatOf = (id: string): Chat => {
    let c = s.chats.get(id);
    if (!c) s.chats.set(id, (c = newChat(deps.budgetOf(id))));
    return c;
  };
  return {
    acquire: (chat, lane, opts = {}) =>
      opts.signal?.aborted ? Promise.resolve(undefined) : enqueue(s, chatOf(chat), lane, opts),
    tryAcquire(chat, lane, opts = {}) {
      const t = s.now();
      prune(s, t);
      const c = chatOf(chat);
      if (c.queue.length || Math.max(earliest(c, lane, t, opts.keep ?? 0), globalFreeAt(s)) > t) return undefined;
      return grant(s, c, t);
    },
    penalize(chat, ms) {
      const c = chatOf(chat);
      c.blockedUntil = Math.max(c.blockedUntil, s.now() + ms);
      clearTimeout(c.timer);
      c.timer = undefined;
      pump(s, c);
    },
    forget(chat, key) {
      const c = s.chats.get(chat);
      if (c?.running.delete(key)) pump(s, c);
    },
    pending: (chat) => countLanes(s.chats.get(chat)?.queue ?? []),
  };
}
