import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/history/db.js';
import { createJobsRepo } from '../../src/history/jobs-repo.js';
import { sweepStorage } from '../../src/ops/retention.js';
import { createStorage } from '../../src/storage.js';
import { memoryLogger } from '../support/logger.js';

describe('retention clean-up', () => {
  it('deletes old inputs and old finished outputs, soft-deleting their jobs; keeps the rest', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'ret-'));
    const storage = createStorage(root);
    const repo = createJobsRepo({ db: openDb(path.join(root, 'history.db')) });
    const day = 86_400_000;
    const now = Date.now();
    const age = (p: string, ms: number) => utimesSync(p, new Date(now - ms), new Date(now - ms));

    mkdirSync(path.join(root, 'inputs'));
    const oldInput = path.join(root, 'inputs', 'old.png');
    const newInput = path.join(root, 'inputs', 'new.png');
    writeFileSync(oldInput, 'x');
    writeFileSync(newInput, 'x');
    age(oldInput, 2 * day);

    const job = (status: 'succeeded' | 'running', ageMs: number) => {
      const id = randomUUID();
      repo.insert({ id, platform: 'telegram', userId: '1', workflow: 'imagine', params: {} });
      if (status === 'running') repo.markRunning(id);
      else repo.finish(id, { status, outputs: [] });
      const dir = path.join(root, 'outputs', id);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, '01.png'), 'x');
      age(dir, ageMs);
      return { id, dir };
    };
    const oldDone = job('succeeded', 31 * day);
    const oldRunning = job('running', 31 * day);
    const recent = job('succeeded', day);

    const removed = await sweepStorage({
      storage,
      repo,
      logger: memoryLogger().logger,
      inputMaxAgeMs: day,
      outputMaxAgeMs: 30 * day,
      now,
    });
    expect(removed).toEqual({ inputs: 1, outputs: 1 });
    expect([existsSync(oldInput), existsSync(newInput)]).toEqual([false, true]);
    expect([existsSync(oldDone.dir), existsSync(oldRunning.dir), existsSync(recent.dir)]).toEqual([false, true, true]);
    expect(repo.get(oldDone.id)?.deletedAt).toBeDefined();
    expect(repo.getOwned(oldDone.id, { platform: 'telegram', userId: '1' })).toBeUndefined(); // gone from the gallery
    expect(repo.get(recent.id)?.deletedAt).toBeUndefined();
  });
});
