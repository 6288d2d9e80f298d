import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, openDb } from '../../src/history/db.js';
import { createJobsRepo } from '../../src/history/jobs-repo.js';
import { migrations } from '../../src/history/migrations.js';

function repoAt(now = () => 1000) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'hist-')), 'history.db');
  const db = openDb(file);
  return { repo: createJobsRepo({ db, now }), db, file };
}
const owner = { platform: 'telegram', userId: '1' };

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
