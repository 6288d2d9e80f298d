import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDb } from '../../src/history/db.js';
import { createJobsRepo, type JobsRepo } from '../../src/history/jobs-repo.js';

const owner = { platform: 'telegram', userId: 'heavy' };
const SIZE = 9;
const HOUR = 3_600_000;

/**
 * What /gallery showed before pages were found by day: LIMIT/OFFSET over the same order. 2,450 jobs over ~50 days
 * and 2,180 favourites over ~100, other users' jobs between them; created_at and starred_at come in runs of equal
 * values, so the id breaks ties.
 */
function offsetPage(db: Db, page: number, starred = false): string[] {
  const col = starred ? 'starred_at' : 'created_at';
  return (
    db
      .prepare(
        `SELECT id FROM jobs WHERE platform = ? AND user_id = ? AND deleted_at IS NULL
         ${starred ? 'AND starred_at IS NOT NULL' : ''} ORDER BY ${col} DESC, id LIMIT ? OFFSET ?`,
      )
      .all(owner.platform, owner.userId, SIZE, page * SIZE) as { id: string }[]
  ).map((r) => r.id);
}

function fill() {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'hist-pages-')), 'history.db');
  const db = openDb(file);
  let clock = 0;
  const repo = createJobsRepo({ db, now: () => clock });
  const ids: string[] = [];
  db.transaction(() => {
    for (let i = 0; i < 3600; i++) {
      const id = randomUUID();
      ids.push(id);
      const who = i % 4 === 3 ? { platform: 'telegram', userId: `light${i % 5}` } : owner;
      repo.insert({ id, ...who, workflow: 'imagine', params: {}, createdAt: Math.floor(i / 3) * HOUR });
      if (who === owner && i % 11 === 0) repo.softDelete(id);
    }
    const mine = ids.filter((_, i) => i % 4 !== 3);
    mine.slice(0, 2400).forEach((id, k) => {
      clock = 1000 * HOUR + Math.floor(((k * 7919) % 2400) / 2) * 2 * HOUR;
      repo.setStarred(id, true);
    });
  })();
  return { db, repo, file, at: (ms: number) => (clock = ms) };
}

const idsOf = (repo: JobsRepo, page: number, starred = false) =>
  repo.page(owner, page, SIZE, { starred }).items.map((j) => j.id);

describe.each([false, true])('gallery pages (starred: %s) at any depth', (starred) => {
  let f: ReturnType<typeof fill>;
  beforeAll(() => {
    f = fill();
  });
  const pages = () => Math.ceil(f.repo.page(owner, 0, 1, { starred }).total / SIZE);

  it('counts the same total as the rows it pages', () => {
    const n = (
      f.db
        .prepare(
          `SELECT COUNT(*) AS n FROM jobs WHERE platform = ? AND user_id = ? AND deleted_at IS NULL
           ${starred ? 'AND starred_at IS NOT NULL' : ''}`,
        )
        .get(owner.platform, owner.userId) as { n: number }
    ).n;
    expect(n).toBeGreaterThan(2000);
    expect(f.repo.page(owner, 0, 1, { starred }).total).toBe(n);
  });

  it('shows every page, going forwards with ▶, as the OFFSET query did', () => {
    for (let p = 0; p < pages(); p++)
      expect(idsOf(f.repo, p, starred), `page ${p}`).toEqual(offsetPage(f.db, p, starred));
  });

  it('shows every page, going back with ◀ from the last, as the OFFSET query did', () => {
    const repo = createJobsRepo({ db: f.db }); // nothing remembered yet
    for (let p = pages() - 1; p >= 0; p--)
      expect(idsOf(repo, p, starred), `page ${p}`).toEqual(offsetPage(f.db, p, starred));
  });

  it('jumps straight to the last, a middle and a past-the-end page', () => {
    const repo = createJobsRepo({ db: f.db });
    const last = pages() - 1;
    const middle = Math.floor(last / 2);
    for (const p of [last, middle, middle + 1, middle - 1, 0, last + 1])
      expect(idsOf(repo, p, starred), `page ${p}`).toEqual(offsetPage(f.db, p, starred));
    expect(idsOf(repo, last + 1, starred)).toEqual([]);
  });

  it('shows the right jobs after the list changed, in this process or another', () => {
    const middle = Math.floor(pages() / 2);
    const other = createJobsRepo({ db: openDb(f.file), now: () => 1500 * HOUR });
    const changes = [
      () => f.repo.insert({ id: randomUUID(), ...owner, workflow: 'imagine', params: {}, createdAt: 400 * HOUR }),
      () => f.repo.setStarred(offsetPage(f.db, middle + 1, starred)[3] as string, !starred),
      () => f.repo.softDelete(offsetPage(f.db, middle, starred)[0] as string),
      () => f.db.prepare(`DELETE FROM jobs WHERE id = ?`).run(offsetPage(f.db, middle + 2, starred)[8]),
      () => {
        f.at(4000 * HOUR); // starred again, later: to the top of the favourites
        f.repo.setStarred(offsetPage(f.db, 1, true)[0] as string, true);
      },
      () => {
        const id = randomUUID();
        other.insert({ id, ...owner, workflow: 'imagine', params: {}, createdAt: 3 * HOUR });
        other.setStarred(id, true);
      },
    ];
    for (const change of changes) {
      change();
      for (const p of [middle + 1, middle + 2, middle, pages() - 1])
        expect(idsOf(f.repo, p, starred), `page ${p}`).toEqual(offsetPage(f.db, p, starred));
    }
  });
});
