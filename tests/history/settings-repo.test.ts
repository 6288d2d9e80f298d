import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/history/db.js';
import { createJobsRepo } from '../../src/history/jobs-repo.js';
import { migrations } from '../../src/history/migrations.js';
import { createSettingsRepo } from '../../src/history/settings-repo.js';

function setup() {
  let clock = 1000;
  const db = openDb(':memory:');
  const now = () => clock;
  return {
    db,
    settings: createSettingsRepo({ db, now }),
    jobs: createJobsRepo({ db, now }),
    tick: (ms: number) => (clock += ms),
  };
}

describe('user settings (SQLite)', () => {
  it('starts empty, with defaults in effect', () => {
    const { settings } = setup();
    expect(settings.get('telegram', '1')).toEqual({});
    expect(settings.settingsFor('telegram', '1')).toEqual({
      language: undefined,
      defaults: {},
      visibility: 'public',
      pings: true,
      spoilers: false,
      spoilersBy: 'user',
    });
  });

  it('stores changes per platform and user, clears one with undefined, and forgets all on reset', () => {
    const { settings } = setup();
    settings.set('telegram', '1', { aspect: '16:9', steps: 30, language: 'zh-TW' });
    settings.set('telegram', '1', { steps: undefined, pings: false });
    expect(settings.get('telegram', '1')).toEqual({ aspect: '16:9', language: 'zh-TW', pings: false });
    expect(settings.get('discord', '1')).toEqual({});
    expect(settings.settingsFor('telegram', '1')).toMatchObject({
      language: 'zh-TW',
      defaults: { aspect: '16:9' },
      pings: false,
    });
    settings.reset('telegram', '1');
    expect(settings.get('telegram', '1')).toEqual({});
  });

  it('drops a stored value it does not understand instead of failing', () => {
    const { db, settings } = setup();
    db.prepare(`INSERT INTO user_settings (platform, user_id, settings, updated_at) VALUES (?, ?, ?, ?)`).run(
      'telegram',
      '1',
      JSON.stringify({ language: 'fr', aspect: '16:9', steps: 'many', future: true }),
      1,
    );
    db.prepare(`INSERT INTO user_settings (platform, user_id, settings, updated_at) VALUES (?, ?, ?, ?)`).run(
      'telegram',
      '2',
      '{not json',
      1,
    );
    expect(settings.get('telegram', '1')).toEqual({ aspect: '16:9' });
    expect(settings.get('telegram', '2')).toEqual({});
  });

  it('lets a chat’s spoiler policy win over the user’s choice in that chat only', () => {
    const { settings } = setup();
    settings.set('discord', '1', { spoilers: false });
    settings.setChat('discord', 'chan', { spoilers: 'on' }, 'admin');
    expect(settings.settingsFor('discord', '1', 'chan')).toMatchObject({ spoilers: true, spoilersBy: 'chat' });
    expect(settings.settingsFor('discord', '1', 'other')).toMatchObject({ spoilers: false, spoilersBy: 'user' });
    expect(settings.settingsFor('discord', '1')).toMatchObject({ spoilers: false, spoilersBy: 'user' });
    settings.setChat('discord', 'chan', { spoilers: undefined }, 'admin');
    expect(settings.chat('discord', 'chan')).toEqual({});
  });
});

describe('migrations v4 and v5', () => {
  it('add the settings tables and the star column on top of the shipped schema', () => {
    expect(migrations.length).toBeGreaterThanOrEqual(5);
    const { db } = setup();
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>;
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['user_settings', 'chat_settings']));
    const columns = db.prepare(`PRAGMA table_info(jobs)`).all() as Array<{ name: string }>;
    expect(columns.map((c) => c.name)).toContain('starred_at');
  });
});

describe('favourites and counts in the jobs history', () => {
  const owner = { platform: 'telegram', userId: '1' };
  const add = (jobs: ReturnType<typeof setup>['jobs'], at: number, userId = '1') => {
    const id = randomUUID();
    jobs.insert({ id, platform: 'telegram', userId, workflow: 'imagine', params: { prompt: 'x' }, createdAt: at });
    return id;
  };

  it('stars and unstars a job; the starred page lists only those, most recently starred first', () => {
    const { jobs, tick } = setup();
    const [a, b, c] = [add(jobs, 1), add(jobs, 2), add(jobs, 3)];
    expect(jobs.setStarred(a, true)).toBe(true);
    tick(10);
    jobs.setStarred(c, true);
    expect(jobs.get(a)?.starredAt).toBe(1000);
    expect(jobs.get(b)?.starredAt).toBeUndefined();
    const starred = jobs.page(owner, 0, 10, { starred: true });
    expect(starred.total).toBe(2);
    expect(starred.items.map((r) => r.id)).toEqual([c, a]);
    jobs.setStarred(c, false);
    expect(jobs.page(owner, 0, 10, { starred: true }).items.map((r) => r.id)).toEqual([a]);
    expect(jobs.page(owner, 0, 10).total).toBe(3);
  });

  it('leaves deleted jobs out of the favourites', () => {
    const { jobs } = setup();
    const a = add(jobs, 1);
    jobs.setStarred(a, true);
    jobs.softDelete(a);
    expect(jobs.page(owner, 0, 10, { starred: true }).total).toBe(0);
    expect(jobs.setStarred(a, false)).toBe(false);
  });

  it('counts a user’s jobs since a moment', () => {
    const { jobs } = setup();
    add(jobs, 100);
    add(jobs, 200);
    add(jobs, 300, '2');
    expect(jobs.countSince(owner, 150)).toBe(1);
    expect(jobs.countSince(owner, 0)).toBe(2);
  });
});
