import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Db, migrate, openDb } from '../../src/history/db.js';
import { createJobsRepo, type JobsRepo, jobStatuses } from '../../src/history/jobs-repo.js';
import { migrations } from '../../src/history/migrations.js';

function repoAt(now = () => 1000) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'hist-')), 'history.db');
  const db = openDb(file);
  return { repo: createJobsRepo({ db, now }), db, file };
}
const owner = { platform: 'telegram', userId: '1' };
const HOUR = 3_600_000;

describe('jobs history (real SQLite file)', () => {
  it('opens in WAL mode and migrates idempotently by user_version', () => {
    const { db, file } = repoAt();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    db.close();
    const again = openDb(file);
    expect(migrate(again)).toBe(migrations.length);
  });

  it('moves a job to its final state exactly once', () => {
    const { repo } = repoAt();
    const id = randomUUID();
    repo.insert({ id, ...owner, workflow: 'imagine', params: { prompt: 'x', seed: 5 } });
    expect(repo.markRunning(id, { comfyUrl: 'http://gpu:8188' })).toBe(true);
    const files = [
      { path: `outputs/${id}/01.png`, kind: 'image' as const, mime: 'image/png', bytes: 10, node: 'save' },
    ];
    expect(repo.finish(id, { status: 'succeeded', outputs: files })).toBe(true);
    expect(repo.finish(id, { status: 'failed', error: 'late' })).toBe(false);
    expect(repo.get(id)).toMatchObject({
      status: 'succeeded',
      progress: 100,
      outputs: files,
      comfyUrl: 'http://gpu:8188',
      params: { prompt: 'x', seed: 5 },
    });
  });

  it('finds a job by short id for its owner only (admins see all), never a soft-deleted one', () => {
    const { repo } = repoAt();
    const id = randomUUID();
    repo.insert({ id, ...owner, workflow: 'imagine', params: {} });
    expect(repo.getOwned(id.slice(0, 8), owner)?.id).toBe(id);
    expect(repo.getOwned(id.slice(0, 8).toUpperCase(), owner)?.id).toBe(id);
    expect(repo.getOwned(id.slice(0, 8), { platform: 'telegram', userId: '2' })).toBeUndefined();
    expect(repo.getOwned(id.slice(0, 8), { platform: 'discord', userId: '1' })).toBeUndefined();
    expect(repo.getOwned(id, { platform: 'discord', userId: '9', isAdmin: true })?.id).toBe(id);
    repo.softDelete(id);
    expect(repo.getOwned(id, owner)).toBeUndefined();
  });

  it('pages a user’s jobs newest first and counts by status', () => {
    let t = 0;
    const { repo } = repoAt(() => ++t);
    const ids = Array.from({ length: 5 }, () => randomUUID());
    for (const id of ids) repo.insert({ id, ...owner, workflow: 'imagine', params: {} });
    repo.insert({ id: randomUUID(), platform: 'telegram', userId: '2', workflow: 'imagine', params: {} });
    const page0 = repo.page(owner, 0, 2);
    expect(page0.total).toBe(5);
    expect(page0.items.map((j) => j.id)).toEqual([ids[4], ids[3]]);
    expect(repo.page(owner, 2, 2).items.map((j) => j.id)).toEqual([ids[0]]);
    repo.finish(ids[0] as string, { status: 'cancelled' });
    expect(repo.counts()).toEqual({ queued: 5, running: 0, succeeded: 0, failed: 0, cancelled: 1 });
    expect(repo.unfinished('telegram')).toHaveLength(5);
  });

  it('learns typical durations from finished runs of a workflow', () => {
    const { repo } = repoAt();
    for (const ms of [10_000, 20_000]) {
      const id = randomUUID();
      repo.insert({ id, ...owner, workflow: 'imagine', params: {} });
      repo.markRunning(id, { at: 0 });
      repo.finish(id, { status: 'succeeded', at: ms, outputs: [] });
    }
    expect(repo.recentDurations('imagine').sort()).toEqual([10_000, 20_000]);
    expect(repo.recentDurations('talk')).toEqual([]);
  });
});

describe('counts and pages kept in step with every change', () => {
  const other = { platform: 'discord', userId: '1' };
  /** What the counters must agree with: the rows themselves. */
  function expectCountsMatchRows(db: Db, repo: JobsRepo) {
    const n = (sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
    for (const o of [owner, other]) {
      const mine = `FROM jobs WHERE platform = ? AND user_id = ? AND deleted_at IS NULL`;
      expect(repo.page(o, 0, 1).total).toBe(n(`SELECT COUNT(*) AS n ${mine}`, o.platform, o.userId));
      expect(repo.page(o, 0, 1, { starred: true }).total).toBe(
        n(`SELECT COUNT(*) AS n ${mine} AND starred_at IS NOT NULL`, o.platform, o.userId),
      );
      for (const starred of [false, true]) {
        const order = starred
          ? 'AND starred_at IS NOT NULL ORDER BY starred_at DESC, id'
          : 'ORDER BY created_at DESC, id';
        const all = (db.prepare(`SELECT id ${mine} ${order}`).all(o.platform, o.userId) as { id: string }[]).map(
          (r) => r.id,
        );
        const paged = all.map((_, p) => repo.page(o, p, 1, { starred }).items.map((j) => j.id)[0]);
        expect(paged).toEqual(all);
      }
      expect(repo.unfinishedCount(o.platform, o.userId)).toBe(
        n(
          `SELECT COUNT(*) AS n FROM jobs WHERE platform = ? AND user_id = ? AND status IN ('queued','running')`,
          o.platform,
          o.userId,
        ),
      );
    }
    const byStatus = Object.fromEntries(
      jobStatuses.map((s) => [s, n(`SELECT COUNT(*) AS n FROM jobs WHERE status = ? AND deleted_at IS NULL`, s)]),
    );
    expect(repo.counts()).toEqual(byStatus);
  }

  it('stays right across insert, status changes, star and unstar, soft and hard delete', () => {
    let t = 0;
    const { repo, db } = repoAt(() => (t += 10 * HOUR)); // jobs and stars on different days
    expectCountsMatchRows(db, repo);
    const ids = Array.from({ length: 6 }, () => randomUUID());
    for (const [i, id] of ids.entries())
      repo.insert({ id, ...(i % 3 ? owner : other), workflow: 'imagine', params: {} });
    expectCountsMatchRows(db, repo);
    const [a, b, c, d, e] = ids as [string, string, string, string, string];
    const steps = [
      () => repo.markRunning(b),
      () => repo.setProgress(b, 40),
      () => repo.finish(b, { status: 'succeeded', outputs: [] }),
      () => repo.finish(c, { status: 'failed', error: 'x' }),
      () => repo.finish(e, { status: 'cancelled' }),
      () => repo.finish(e, { status: 'succeeded' }), // already final: nothing changes
      () => repo.setStarred(b, true),
      () => repo.setStarred(b, true), // again: still one star
      () => repo.setStarred(c, true),
      () => repo.setStarred(c, false),
      () => repo.markDelivered(b),
      () => repo.softDelete(b), // a starred, succeeded job goes
      () => repo.setStarred(b, true), // gone: cannot be starred
      () => repo.softDelete(b),
      () => db.prepare(`DELETE FROM jobs WHERE id = ?`).run(d),
      () => db.prepare(`DELETE FROM jobs WHERE id = ?`).run(a),
    ];
    for (const step of steps) {
      step();
      expectCountsMatchRows(db, repo);
    }
  });

  it('counts a user’s jobs since a time, deleted ones included', () => {
    let t = 0;
    const { repo } = repoAt(() => (t += 10));
    const ids = Array.from({ length: 4 }, () => randomUUID());
    for (const id of ids) repo.insert({ id, ...owner, workflow: 'imagine', params: {} });
    repo.softDelete(ids[3] as string);
    expect(repo.countSince(owner, 25)).toBe(2);
    expect(repo.countSince(owner, 0)).toBe(4);
    expect(repo.countSince({ platform: 'discord', userId: '1' }, 0)).toBe(0);
  });
});

describe('query plans', () => {
  /** Every SQL text the repo prepares, through the real database. */
  function recordingRepo() {
    const { db } = repoAt();
    const prepared: string[] = [];
    const recording = new Proxy(db, {
      get(target, key) {
        if (key === 'prepare')
          return (sql: string) => {
            prepared.push(sql);
            return target.prepare(sql);
          };
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return { db, prepared, repo: createJobsRepo({ db: recording }) };
  }
  const planOf = (db: Db, sql: string) => {
    const named = [...new Set(sql.match(/@\w+/g) ?? [])].map((n) => n.slice(1));
    const stmt = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
    const rows = named.length
      ? stmt.all(Object.fromEntries(named.map((n) => [n, 1])))
      : stmt.all(...Array((sql.match(/\?/g) ?? []).length).fill(1));
    return (rows as { detail: string }[]).map((r) => r.detail).join('; ');
  };

  it('never scans the whole jobs table, and reads gallery pages in index order', () => {
    const { db, prepared } = recordingRepo();
    const onJobs = prepared.filter((sql) => /\bjobs\b/.test(sql) && !sql.trimStart().startsWith('INSERT'));
    expect(onJobs.length).toBeGreaterThan(15);
    for (const sql of onJobs) expect(planOf(db, sql), sql).not.toMatch(/\bSCAN jobs\b/);
    const pages = onJobs.filter((sql) => sql.includes('user_id = @userId AND deleted_at IS NULL'));
    expect(pages.length).toBe(2);
    for (const sql of pages) {
      const plan = planOf(db, sql);
      expect(plan, sql).toMatch(
        /^SEARCH jobs USING INDEX jobs_user_(page|starred_page) \(platform=\? AND user_id=\? AND [^;]*<\?\)$/,
      );
    }
    const counts = prepared.filter((sql) => /FROM job_(counts|days)\s+WHERE/.test(sql));
    expect(counts).toHaveLength(5);
    for (const sql of counts)
      expect(planOf(db, sql), sql).toMatch(
        /^SEARCH job_(counts|days) USING PRIMARY KEY \(platform=\? AND user_id=\?[^;]*\)$/,
      );
  });

  it('prepares each statement once, not per call', () => {
    const { repo, prepared } = recordingRepo();
    const before = prepared.length;
    const id = randomUUID();
    repo.insert({ id, ...owner, workflow: 'imagine', params: {} });
    for (let p = 0; p < 3; p++) repo.page(owner, p, 9, { starred: p % 2 === 1 });
    repo.setStarred(id, true);
    repo.counts();
    repo.countSince(owner, 0);
    repo.unfinishedCount(owner.platform, owner.userId);
    repo.getOwned(id.slice(0, 8), owner);
    expect(prepared.length).toBe(before);
  });
});
