import type { Redis } from 'ioredis';
import { chargedKey, costKey, fairKey, generateQueue, gpuUsedKey } from './names.js';

/**
 * Fair share across users, built on BullMQ priorities plus a queue picker of our own (queue/gpu-picker.ts).
 *
 * Why priorities: open-source BullMQ has no per-user groups, but every queue keeps prioritized jobs in a sorted set
 * and a worker always takes the lowest score. A job's priority is its start tag in start-time fair queueing (SFQ):
 * a virtual clock V (the highest tag a GPU has started) and, per user, the finish tag F of their last queued
 * job. A new job starts at S = max(V, F) and moves F to S + its expected GPU seconds (learned per workflow from
 * measured runs, a moving average in Redis that every process shares). A user with six jobs queued has tags
 * 0, 30, 60…; another user's first job gets the current V and runs before their second. A heavy video moves its
 * user's F far ahead, so others' images pass their next video: it delays them by at most its own run. An idle
 * user starts at V, never earlier: no credit is banked. Admins get priority 1 and leave their F alone.
 *
 * Why a picker: one queue per workflow (capability routing), and tags are comparable across queues only if one
 * place compares them. Each GPU takes the next job itself, from the queue whose head comes first in the fair order
 * (`fairOrder`), with BullMQ's own manual fetch (Worker.getNextJob + processJob), so stalled recovery, retries,
 * cancel signals and hand-back are BullMQ's as before (only the lock renewal is ours). What it costs: a GPU looks for work every ~250 ms instead of
 * blocking on a marker, and priorities are fixed at enqueue (a waiting job removed by a cancel gives its expected
 * time back to its user's next jobs, not to those already queued).
 *
 * Priorities are integers 1..2^21: a tag is whole virtual seconds (at least 1 per job) from 0, 24 days of
 * virtual time. Past 2^20 the clock is moved back to 0 the next time nothing waits; until then tags are clamped.
 */
export const ADMIN_PRIORITY = 1;
const BASE_PRIORITY = 2;
const MAX_PRIORITY = 2 ** 21;
const REBASE_AT = 2 ** 20;
/** A workflow never run yet is assumed to take this long, unless others are known (then their mean). */
const DEFAULT_COST_S = 30;
const MIN_COST_S = 1;
const COST_WEIGHT = 0.3;
/** How long "this job was charged" is remembered (a job is never completed again after that). */
const CHARGED_TTL_S = 7 * 86_400;

/** One waiting job as the queues hold it; `rank` 0 = BullMQ's plain wait list, which is taken before priorities. */
export interface WaitingEntry {
  workflow: string;
  jobId: string;
  rank: number;
  priority: number;
  timestamp: number;
}

const before = (a: WaitingEntry, b: WaitingEntry) =>
  a.rank - b.rank || a.priority - b.priority || a.timestamp - b.timestamp;

/** Whether `a` is taken before `b` in the fair order. */
export const comesBefore = (a: WaitingEntry, b: WaitingEntry) => before(a, b) < 0;

/**
 * Every queue's waiting jobs merged into the order the GPUs take them: each queue keeps its own order (BullMQ's),
 * and the next job is the queue head that comes first by (wait list first, priority, arrival).
 */
export function fairOrder(lists: WaitingEntry[][]): WaitingEntry[] {
  const heads = lists.map(() => 0);
  const out: WaitingEntry[] = [];
  for (;;) {
    let best = -1;
    for (const [i, list] of lists.entries()) {
      const e = list[heads[i] as number];
      const b = best >= 0 ? lists[best]?.[heads[best] as number] : undefined;
      if (e && (!b || before(e, b) < 0)) best = i;
    }
    if (best < 0) return out;
    out.push(lists[best]?.[heads[best] as number] as WaitingEntry);
    heads[best] = (heads[best] as number) + 1;
  }
}

// Waiting jobs of several queues in one round trip, each queue in BullMQ's order: the wait list from its right end
// (RPOPLPUSH), then the prioritized set by score (priority * 2^32 + counter), then delayed jobs already due (they
// are moved in at the next fetch). Scores above 2^53 cannot occur: priorities stop at 2^21.
const PEEK = `
local out = {}
local now = tonumber(ARGV[1])
for i = 1, #KEYS / 3 do
  local jp = ARGV[1 + i]
  local function push(id, rank, priority)
    local ts = redis.call('HGET', jp .. id, 'timestamp') or '0'
    for _, v in ipairs({i, id, rank, priority, ts}) do table.insert(out, v) end
  end
  local w = redis.call('LRANGE', KEYS[3 * i - 2], 0, -1)
  for j = #w, 1, -1 do if string.sub(w[j], 1, 2) ~= '0:' then push(w[j], 0, 0) end end
  local z = redis.call('ZRANGE', KEYS[3 * i - 1], 0, -1, 'WITHSCORES')
  for j = 1, #z, 2 do push(z[j], 1, math.floor(tonumber(z[j + 1]) / 4294967296)) end
  local d = redis.call('ZRANGEBYSCORE', KEYS[3 * i], 0, (now + 1) * 4096 - 1, 'LIMIT', 0, 1000)
  for j = 1, #d do
    local p = tonumber(redis.call('HGET', jp .. d[j], 'priority') or '0')
    push(d[j], p > 0 and 1 or 0, p)
  end
end
return out`;

/** The waiting jobs of these workflows' queues, each list in the order its queue hands them out. */
export async function peekWaiting(redis: Redis, prefix: string, workflows: string[]): Promise<WaitingEntry[][]> {
  if (workflows.length === 0) return [];
  const base = workflows.map((wf) => `${prefix}:${generateQueue(wf)}:`);
  const keys = base.flatMap((b) => [`${b}wait`, `${b}prioritized`, `${b}delayed`]);
  const flat = (await redis.eval(PEEK, keys.length, ...keys, Date.now(), ...base)) as Array<string | number>;
  const lists: WaitingEntry[][] = workflows.map(() => []);
  for (let i = 0; i < flat.length; i += 5) {
    const q = Number(flat[i]) - 1;
    lists[q]?.push({
      workflow: workflows[q] as string,
      jobId: String(flat[i + 1]),
      rank: Number(flat[i + 2]),
      priority: Number(flat[i + 3]),
      timestamp: Number(flat[i + 4]),
    });
  }
  // Due delayed jobs join their queue by priority, behind the equal ones already there (a stable sort).
  return lists.map((l) => l.sort((a, b) => a.rank - b.rank || a.priority - b.priority));
}

// S = max(V, F); F = S + cost. Past REBASE_AT, and only while no queue holds a waiting job, every tag moves back.
const TAG = `
local clock = tonumber(redis.call('HGET', KEYS[1], 'clock') or '0')
if clock > tonumber(ARGV[3]) then
  local waiting = 0
  for i = 2, #KEYS, 3 do
    waiting = waiting + redis.call('LLEN', KEYS[i]) + redis.call('ZCARD', KEYS[i + 1]) + redis.call('ZCARD', KEYS[i + 2])
  end
  if waiting == 0 then
    local all = redis.call('HGETALL', KEYS[1])
    for j = 1, #all, 2 do
      local v = tonumber(all[j + 1]) - clock
      if all[j] == 'clock' then v = 0 end
      if v > 0 or all[j] == 'clock' then redis.call('HSET', KEYS[1], all[j], tostring(v)) else redis.call('HDEL', KEYS[1], all[j]) end
    end
    clock = 0
  end
end
local f = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local s = math.max(clock, f)
redis.call('HSET', KEYS[1], ARGV[1], tostring(s + tonumber(ARGV[2])))
return tostring(s)`;

const ADVANCE = `
local c = tonumber(redis.call('HGET', KEYS[1], 'clock') or '0')
if tonumber(ARGV[1]) > c then redis.call('HSET', KEYS[1], 'clock', ARGV[1]) end
return 0`;

const REFUND = `
local c = tonumber(redis.call('HGET', KEYS[1], 'clock') or '0')
local f = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
redis.call('HSET', KEYS[1], ARGV[1], tostring(math.max(c, f - tonumber(ARGV[2]))))
return 0`;

// Exactly once per job: the marker is set first, and only the call that set it charges and learns.
const CHARGE = `
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[4]) then return 0 end
local x = tonumber(ARGV[2])
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '')
redis.call('HSET', KEYS[1], ARGV[1], tostring(old and (old + tonumber(ARGV[3]) * (x - old)) or x))
redis.call('INCRBYFLOAT', KEYS[3], ARGV[2])
redis.call('EXPIRE', KEYS[3], 2 * 86400)
return 1`;

export interface JobOwner {
  platform: string;
  userId: string;
}

/** The UTC day a time falls in ("2025-06-01"): GPU_SECONDS_PER_DAY resets at 00:00 UTC. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function createFairShare(deps: { redis: Redis; prefix: string; workflows: Iterable<string> }) {
  const { redis, prefix } = deps;
  const known = [...deps.workflows];
  const userField = (u: JobOwner) => `u:${u.platform}:${u.userId}`;

  async function expectedSeconds(workflow: string): Promise<number> {
    const all = await redis.hgetall(costKey(prefix));
    const mine = Number(all[workflow]);
    if (Number.isFinite(mine) && all[workflow] !== undefined) return Math.max(MIN_COST_S, mine);
    const others = Object.values(all).map(Number).filter(Number.isFinite);
    const mean = others.length ? others.reduce((a, b) => a + b, 0) / others.length : DEFAULT_COST_S;
    return Math.max(MIN_COST_S, mean);
  }

  return {
    expectedSeconds,

    /** The BullMQ priority of a new job of this user (and moves the user's finish tag on). */
    async priorityFor(user: JobOwner, workflow: string, isAdmin: boolean): Promise<number> {
      if (isAdmin) return ADMIN_PRIORITY;
      const cost = Math.round(await expectedSeconds(workflow));
      const waitKeys = known.flatMap((wf) => {
        const b = `${prefix}:${generateQueue(wf)}:`;
        return [`${b}wait`, `${b}prioritized`, `${b}delayed`];
      });
      const tag = Number(
        await redis.eval(TAG, 1 + waitKeys.length, fairKey(prefix), ...waitKeys, userField(user), cost, REBASE_AT),
      );
      return Math.min(MAX_PRIORITY, BASE_PRIORITY + Math.floor(tag));
    },

    /** A waiting job was removed: its expected time no longer counts against its user's later jobs. */
    async refund(user: JobOwner, workflow: string, priority: number | undefined) {
      if (!priority || priority <= ADMIN_PRIORITY) return;
      await redis.eval(REFUND, 1, fairKey(prefix), userField(user), Math.round(await expectedSeconds(workflow)));
    },

    /** A GPU started a job with this priority: the virtual clock moves to its tag. */
    async started(priority: number | undefined) {
      if (!priority || priority < BASE_PRIORITY) return;
      await redis.eval(ADVANCE, 1, fairKey(prefix), priority - BASE_PRIORITY);
    },

    /**
     * A job succeeded (BullMQ completed it): its measured GPU time teaches the workflow's expected time and is
     * charged to its user's day. Exactly once per job id, whoever calls it and however often; false when it had been.
     */
    async succeeded(job: { jobId: string; workflow: string; owner: JobOwner; startedAt: number; finishedAt: number }) {
      const seconds = Math.max(0, (job.finishedAt - job.startedAt) / 1000);
      const used = gpuUsedKey(prefix, utcDay(job.finishedAt), job.owner.platform, job.owner.userId);
      const keys = [costKey(prefix), chargedKey(prefix, job.jobId), used];
      return (await redis.eval(CHARGE, 3, ...keys, job.workflow, seconds, COST_WEIGHT, CHARGED_TTL_S)) === 1;
    },

    /** GPU seconds this user's successful jobs took today (UTC). */
    async usedToday(user: JobOwner, now = Date.now()): Promise<number> {
      return Number((await redis.get(gpuUsedKey(prefix, utcDay(now), user.platform, user.userId))) ?? 0);
    },
  };
}

export type FairShare = ReturnType<typeof createFairShare>;
