/**
 * history: a SQLite history of 1,000,000 jobs (1000 users; the measured user owns 10 %), filled through the real
 * repo (insert + markRunning/finish not needed: rows stay as inserted, then bulk-marked succeeded with SQL).
 * Measures what /gallery runs (total + one page of 9 at a random page) and a user's counts as /me reads them
 * (countSince today + the gallery total), p99 over 300 calls each (half the heavy user, half others).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { GALLERY_PAGE_SIZE } from '../../src/bots/commands/gallery.js';
import { openDb } from '../../src/history/db.js';
import { createJobsRepo } from '../../src/history/jobs-repo.js';
import { pct, r3, scaled, type Scenario } from '../lib.js';

const scenario: Scenario = {
  name: 'history',
  target: 'p99 ≤ 5 ms',
  async run(ctx) {
    const rows = scaled(1_000_000, 1000);
    const db = openDb(path.join(ctx.dir, `history-${Date.now()}.sqlite`));
    const repo = createJobsRepo({ db });
    const heavy = { platform: 'telegram', userId: 'u0' };
    const t0 = Date.now() - rows * 1000;
    const fill = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++)
        repo.insert({
          id: randomUUID(),
          platform: 'telegram',
          userId: i % 10 === 0 ? 'u0' : `u${1 + (i % 999)}`,
          workflow: 'imagine',
          params: { prompt: `a fox number ${i}`, steps: 20 },
          createdAt: t0 + i * 1000,
        });
    });
    const fillStart = performance.now();
    for (let i = 0; i < rows; i += 50_000) fill(i, Math.min(rows, i + 50_000));
    db.exec(`UPDATE jobs SET status = 'succeeded'`);
    const fillMs = performance.now() - fillStart;
    const gallery: number[] = [];
    const counts: number[] = [];
    const pages = Math.ceil(repo.page(heavy, 0, 1).total / GALLERY_PAGE_SIZE);
    for (let k = 0; k < 300; k++) {
      const owner = k % 2 === 0 ? heavy : { platform: 'telegram', userId: `u${1 + (k % 999)}` };
      let s = performance.now();
      const total = repo.page(owner, 0, 1).total;
      repo.page(
        owner,
        Math.floor(Math.random() * Math.max(1, Math.min(pages, Math.ceil(total / GALLERY_PAGE_SIZE)))),
        GALLERY_PAGE_SIZE,
      );
      gallery.push(performance.now() - s);
      s = performance.now();
      repo.countSince(owner, Date.now() - 86_400_000);
      repo.page(owner, 0, 1);
      counts.push(performance.now() - s);
    }
    db.close();
    const g99 = pct(gallery, 99);
    const c99 = pct(counts, 99);
    return {
      measured: `${rows.toLocaleString('en')} rows: /gallery p50 ${r3(pct(gallery, 50))} / p99 ${r3(g99)} ms; counts p50 ${r3(pct(counts, 50))} / p99 ${r3(c99)} ms (fill ${Math.round(fillMs / 1000)} s)`,
      met: g99 <= 5 && c99 <= 5,
      details: { rows, heavyUserRows: Math.ceil(rows / 10), galleryP99Ms: g99, countsP99Ms: c99, fillMs },
    };
  },
};
export default scenario;
