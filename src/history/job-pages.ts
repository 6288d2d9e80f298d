import type { Db } from './db.js';
import { type JobRecord, type Owner, type Row, toRecord } from './job-row.js';

/**
 * /gallery's pages and a user's totals, fast at a million rows (issue target: p99 ≤ 5 ms).
 *
 * Totals are read from job_counts, a row per user that triggers (migration v6) keep in the same statement as the
 * insert, status change, star or delete: every writer keeps it right (the repo, retention, a bulk UPDATE). We
 * measured the alternative: counting a user's rows, even from a covering index, took 3–7 ms for the bench's heavy
 * user (96,000 jobs) and grows with them; the counter is one primary-key read.
 *
 * Pages: buttons carry only a page number (`v1:g:<page>` in actions.ts, for Telegram's 64-byte callback_data), so
 * there is no last-seen key to continue from, and OFFSET steps through every job before the page (40–65 ns each,
 * 2–3 ms for the middle of a 96,000-job gallery, and growing). Instead job_days, also kept by triggers, holds how many
 * of a user's live jobs (and favourites) fall on each UTC day. A running sum over it from the nearer end finds the
 * day page p starts on and how many jobs are newer; the page is then a seek to the end of that day in
 * jobs_user_page (or jobs_user_starred_page) and a step over that day's newer jobs. Limit: up to half the days the
 * user has jobs on are read (~1 µs each, 365 a year) plus at most one day's jobs stepped over; no state
 * is kept between calls. A SQL window sum over the days was 3× slower than stopping early in JavaScript.
 */
const DAY_MS = 86_400_000;

function listStatements(db: Db, list: 'all' | 'starred') {
  const col = list === 'all' ? 'created_at' : 'starred_at';
  const where = `platform = @platform AND user_id = @userId AND deleted_at IS NULL${list === 'starred' ? ' AND starred_at IS NOT NULL' : ''}`;
  const days = `job_days WHERE platform = @platform AND user_id = @userId AND list = '${list}' AND n > 0`;
  return {
    rows: db.prepare(
      `SELECT * FROM jobs WHERE ${where} AND ${col} < @before ORDER BY ${col} DESC, id LIMIT @n OFFSET @skip`,
    ),
    /** The user's days with jobs in this list and how many, from either end. */
    newest: db.prepare(`SELECT day, n FROM ${days} ORDER BY day DESC`).raw(),
    oldest: db.prepare(`SELECT day, n FROM ${days} ORDER BY day`).raw(),
  };
}
type List = ReturnType<typeof listStatements>;

/**
 * The day the job at `rank` (0 = newest) falls on and how many of the list are newer, counting days from the nearer
 * end; undefined if the day counts add up to less than `total` (the caller then steps from the start).
 */
function dayOf(list: List, who: { platform: string; userId: string }, rank: number, total: number) {
  const fromNewest = rank < total / 2;
  const target = fromNewest ? rank : total - 1 - rank;
  let seen = 0;
  for (const [day, n] of (fromNewest ? list.newest : list.oldest).iterate(who) as Iterable<[number, number]>) {
    if (seen + n > target) return { day, newer: fromNewest ? seen : total - seen - n };
    seen += n;
  }
  return undefined;
}

export function createJobPages({ db }: { db: Db }) {
  const lists = { all: listStatements(db, 'all'), starred: listStatements(db, 'starred') };
  const totalsOf = db.prepare(`SELECT live, starred FROM job_counts WHERE platform = ? AND user_id = ?`);

  const totals = (owner: Owner): { live: number; starred: number } =>
    (totalsOf.get(owner.platform, owner.userId) as { live: number; starred: number } | undefined) ?? {
      live: 0,
      starred: 0,
    };

  // One read transaction: the total, the day counts and the rows come from the same snapshot.
  const read = db.transaction((owner: Owner, page: number, size: number, starred: boolean) => {
    const t = totals(owner);
    const total = starred ? t.starred : t.live;
    const rank = Math.max(0, Math.floor(page)) * size;
    if (size < 1 || rank >= total) return { items: [] as JobRecord[], total };
    const list = starred ? lists.starred : lists.all;
    const who = { platform: owner.platform, userId: owner.userId };
    const day = rank > 0 ? dayOf(list, who, rank, total) : undefined;
    // Without a day (page 1, or day counts that disagree) it is the plain OFFSET: slower, still the right jobs.
    const rows = list.rows.all({
      ...who,
      before: day ? (day.day + 1) * DAY_MS : Number.MAX_SAFE_INTEGER,
      skip: day ? rank - day.newer : rank,
      n: size,
    }) as Row[];
    return { items: rows.map(toRecord), total };
  });

  return {
    /** Page `page` (0-based) of a user's jobs, newest first; `starred`: their favourites, most recently starred first. */
    page: (owner: Owner, page: number, size: number, starred = false) => read(owner, page, size, starred),
  };
}
