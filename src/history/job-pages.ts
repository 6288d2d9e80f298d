import type { Db } from './db.js';
import { type JobRecord, type Owner, type Row, toRecord } from './job-row.js';

/**
 * /gallery's pages and a user's totals, fast at a million rows (issue target: p99 ≤ 5 ms).
 *
 * Totals come from job_counts, a row per user kept by triggers (migration v6) in the same statement as the insert,
 * status change, star or delete, so every writer keeps them right, the repo, retention and a bulk UPDATE alike. We
 * measured the alternative: counting a user's rows, even from a covering index, costs ~9 ms for a user with
 * 100,000 jobs and grows with them; the counter is one primary-key read.
 *
 * A page is a keyset seek: the rows from a page's first (created_at, id), or starred_at for favourites, in the
 * order of jobs_user_page / jobs_user_starred_page. Buttons carry only a page number (Telegram's 64-byte
 * callback_data, `v1:g:<page>` in actions.ts), so the first key of page p is found one of two ways:
 * - remembered: serving a page notes its first key and the next page's, so ◀ and ▶ from a deep page are seeks.
 *   What is remembered is tied to the user's job_counts.version, which the triggers bump whenever that user's
 *   list or favourites change (a new job shifts every page), so a stale key is never used, across processes too.
 * - walked: otherwise the index alone (no table reads) is stepped to it from the nearer end. Limit: ~50 ns a row,
 *   so a cold jump into the middle of a 100,000-job gallery is ~2.5 ms, and it grows with the user's jobs. Pages
 *   within WALK_FREE rows of either end are always walked and never remembered.
 */
const WALK_FREE = 1000;
/** Lists (user × all or starred × page size) whose page keys are remembered, and pages per list. */
const MEMO_LISTS = 500;
const MEMO_PAGES = 32;

type Key = { at: number; id: string };
type Memo = { version: number; starts: Map<number, Key> };
export type UserTotals = { live: number; starred: number; version: number };

function listStatements(db: Db, col: 'created_at' | 'starred_at', onlyStarred: boolean) {
  const where = `platform = @platform AND user_id = @userId AND deleted_at IS NULL${onlyStarred ? ' AND starred_at IS NOT NULL' : ''}`;
  return {
    col,
    first: db.prepare(`SELECT * FROM jobs WHERE ${where} ORDER BY ${col} DESC, id LIMIT @n`),
    from: db.prepare(
      `SELECT * FROM jobs WHERE ${where} AND ${col} <= @at AND (${col} < @at OR id >= @id) ORDER BY ${col} DESC, id LIMIT @n`,
    ),
    before: db.prepare(
      `SELECT * FROM jobs WHERE ${where} AND ${col} >= @at AND (${col} > @at OR id < @id) ORDER BY ${col}, id DESC LIMIT @n`,
    ),
    nth: db.prepare(`SELECT ${col} AS at, id FROM jobs WHERE ${where} ORDER BY ${col} DESC, id LIMIT 1 OFFSET @skip`),
    nthLast: db.prepare(
      `SELECT ${col} AS at, id FROM jobs WHERE ${where} ORDER BY ${col}, id DESC LIMIT 1 OFFSET @skip`,
    ),
  };
}

export function createJobPages({ db }: { db: Db }) {
  const lists = { all: listStatements(db, 'created_at', false), starred: listStatements(db, 'starred_at', true) };
  const totalsOf = db.prepare(`SELECT live, starred, version FROM job_counts WHERE platform = ? AND user_id = ?`);
  const memos = new Map<string, Memo>();

  function memoFor(name: string, version: number): Memo {
    let memo = memos.get(name);
    memos.delete(name); // re-inserted last: the Map's order is the least recently used first
    if (!memo || memo.version !== version) memo = { version, starts: new Map() };
    memos.set(name, memo);
    if (memos.size > MEMO_LISTS) memos.delete(memos.keys().next().value as string);
    return memo;
  }
  const remember = (memo: Memo, page: number, key: Key) => {
    memo.starts.delete(page);
    memo.starts.set(page, key);
    if (memo.starts.size > MEMO_PAGES) memo.starts.delete(memo.starts.keys().next().value as number);
  };

  const totals = (owner: Owner): UserTotals =>
    (totalsOf.get(owner.platform, owner.userId) as UserTotals | undefined) ?? { live: 0, starred: 0, version: 0 };

  // One read transaction: the total and the rows come from the same snapshot.
  const read = db.transaction((owner: Owner, page: number, size: number, starred: boolean) => {
    const t = totals(owner);
    const total = starred ? t.starred : t.live;
    const skip = Math.max(0, Math.floor(page)) * size;
    if (size < 1 || skip >= total) return { items: [] as JobRecord[], total };
    const p = skip / size;
    const list = starred ? lists.starred : lists.all;
    const who = { platform: owner.platform, userId: owner.userId };
    const fromOldest = total - 1 - skip;
    const memo =
      Math.min(skip, fromOldest) > WALK_FREE
        ? memoFor(`${starred ? 's' : 'a'}${size}\u0000${owner.platform}\u0000${owner.userId}`, t.version)
        : undefined;
    const start = memo?.starts.get(p);
    const next = memo?.starts.get(p + 1);
    let rows: Row[];
    if (skip === 0) rows = list.first.all({ ...who, n: size + 1 }) as Row[];
    else if (start) rows = list.from.all({ ...who, ...start, n: size + 1 }) as Row[];
    // The page before a known one is full (only the last page is not), so it is exactly the `size` rows before it.
    else if (next) rows = (list.before.all({ ...who, ...next, n: size }) as Row[]).reverse();
    else {
      const key = (
        skip <= fromOldest ? list.nth.get({ ...who, skip }) : list.nthLast.get({ ...who, skip: fromOldest })
      ) as Key | undefined;
      rows = key ? (list.from.all({ ...who, ...key, n: size + 1 }) as Row[]) : [];
    }
    const keyOf = (r: Row): Key => ({ at: (starred ? r.starred_at : r.created_at) as number, id: r.id });
    if (memo && rows[0]) {
      remember(memo, p, keyOf(rows[0]));
      const after = rows[size];
      if (after) remember(memo, p + 1, keyOf(after));
    }
    return { items: rows.slice(0, size).map(toRecord), total };
  });

  return {
    /** A user's live jobs and favourites (soft-deleted ones excluded). */
    totals,
    /** Page `page` (0-based) of a user's jobs, newest first; `starred`: their favourites, most recently starred first. */
    page: (owner: Owner, page: number, size: number, starred = false) => read(owner, page, size, starred),
  };
}
