import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/history/db.js';
import { createJobsRepo } from '../../src/history/jobs-repo.js';
import { migrations } from '../../src/history/migrations.js';

/** A database file as v5 left it, with rows written the way v5's code wrote them. */
function v5Database() {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'hist-v5-')), 'history.db');
  const db = new Database(file);
  for (const sql of migrations.slice(0, 5)) db.exec(sql);
  db.pragma('user_version = 5');
  const insert = db.prepare(
    `INSERT INTO jobs (id, short_id, platform, user_id, workflow, params, status, created_at, deleted_at, starred_at)
     VALUES (@id, substr(@id, 1, 8), @platform, @user, 'imagine', '{}', @status, @at, @deleted, @starred)`,
  );
  const statuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
  for (let i = 0; i < 60; i++)
    insert.run({
      id: `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
      platform: i % 4 === 0 ? 'discord' : 'telegram',
      user: `u${i % 3}`,
      status: statuses[i % 5],
      at: Math.floor(i / 2) * 7_200_000, // pairs share a created_at (the id breaks the tie), a few days in all
      deleted: i % 7 === 0 ? 5000 : null,
      starred: i % 5 === 2 ? 400_000_000 - i * 3_600_000 : null,
    });
  const rows = db.prepare(`SELECT * FROM jobs ORDER BY id`).all();
  db.close();
  return { file, rows };
}

const indexes = (db: Database.Database) =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'`).all() as { name: string }[])
    .map((r) => r.name)
    .filter((n) => !n.startsWith('sqlite_'))
    .sort();

describe('migration v6 (history fast at a million rows)', () => {
  it('upgrades a v5 database with its rows in place and counts them', () => {
    const { file, rows } = v5Database();
    const db = openDb(file);
    expect(db.pragma('user_version', { simple: true })).toBe(6);
    expect(db.prepare(`SELECT * FROM jobs ORDER BY id`).all()).toEqual(rows);
    expect(indexes(db)).toEqual([
      'jobs_short',
      'jobs_status',
      'jobs_undelivered',
      'jobs_user_page',
      'jobs_user_since',
      'jobs_user_starred_page',
      'jobs_user_unfinished',
      'jobs_workflow_finished',
    ]);
    const counted = db
      .prepare(
        `SELECT platform, user_id, COUNT(*) AS live, SUM(starred_at IS NOT NULL) AS starred,
           SUM(status = 'queued') AS queued, SUM(status = 'running') AS running,
           SUM(status = 'succeeded') AS succeeded, SUM(status = 'failed') AS failed,
           SUM(status = 'cancelled') AS cancelled
         FROM jobs WHERE deleted_at IS NULL GROUP BY platform, user_id ORDER BY platform, user_id`,
      )
      .all();
    expect(
      db
        .prepare(
          `SELECT platform, user_id, live, starred, queued, running, succeeded, failed, cancelled
           FROM job_counts ORDER BY platform, user_id`,
        )
        .all(),
    ).toEqual(counted);
    expect(db.prepare(`SELECT * FROM job_days ORDER BY platform, user_id, list, day`).all()).toEqual(
      db
        .prepare(
          `SELECT platform, user_id, 'all' AS list, created_at / 86400000 AS day, COUNT(*) AS n FROM jobs
           WHERE deleted_at IS NULL GROUP BY 1, 2, 4
           UNION ALL SELECT platform, user_id, 'starred', starred_at / 86400000, COUNT(*) FROM jobs
           WHERE deleted_at IS NULL AND starred_at IS NOT NULL GROUP BY 1, 2, 4
           ORDER BY 1, 2, 3, 4`,
        )
        .all(),
    );
    const repo = createJobsRepo({ db });
    expect(repo.page({ platform: 'telegram', userId: 'u1' }, 0, 100).items.map((j) => j.id)).toEqual(
      (
        db
          .prepare(
            `SELECT id FROM jobs WHERE platform = 'telegram' AND user_id = 'u1' AND deleted_at IS NULL
             ORDER BY created_at DESC, id`,
          )
          .all() as { id: string }[]
      ).map((r) => r.id),
    );
  });

  it('can run again over itself without changing a count', () => {
    const { file } = v5Database();
    const db = openDb(file);
    const before = db.prepare(`SELECT * FROM job_counts ORDER BY platform, user_id`).all();
    db.exec(migrations[5] as string);
    expect(db.prepare(`SELECT * FROM job_counts ORDER BY platform, user_id`).all()).toEqual(before);
  });
});
