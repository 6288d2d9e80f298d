import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeAction } from '../../../src/bots/actions.js';
import type { JobRecord } from '../../../src/history/jobs-repo.js';
import type { OutputFile } from '../../../src/queue/contracts.js';
import { actionsOf, imageOutput, recordingContext, seedJob } from '../../support/doubles.js';
import { png } from '../../support/media.js';
import { personalSetup } from './settings-support.js';

/** A finished job whose images exist under STORAGE_DIR (only the first `kept` of them). */
async function finished(s: ReturnType<typeof personalSetup>, n = 2, kept = n, userId = '1'): Promise<JobRecord> {
  const id = crypto.randomUUID();
  const outputs: OutputFile[] = Array.from({ length: n }, (_, i) => imageOutput(id, i + 1));
  for (const o of outputs.slice(0, kept)) {
    const file = s.storage.resolveInside(o.path);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, await png(16, 16));
  }
  return seedJob(s.repo, { id, outputs, userId, params: { prompt: 'a red fox', seed: 7, aspect: '1:1' } });
}

describe('/show', () => {
  it('posts a past job again: its stored files, its caption and live result buttons', async () => {
    const s = personalSetup();
    const job = await finished(s);
    const c = recordingContext();
    await s.d.command('show', { text: job.shortId }, c.ctx);
    expect(c.failures).toEqual([]);
    expect(c.calls[0]).toEqual({ op: 'defer' });
    const r = c.replies[0]!;
    expect(r.private).toBe(false);
    expect(r.files).toEqual(job.outputs.map((o) => s.storage.resolveInside(o.path)));
    expect(r.text).toMatch(new RegExp(`^a red fox\\nseed 7 · 0:00 · job ${job.shortId}$`));
    const kinds = actionsOf(r.rows).map((a) => a.kind);
    expect(kinds.slice(0, 3)).toEqual(['reroll', 'remix', 'star']);
    expect(kinds.filter((k) => k === 'follow_up').length).toBeGreaterThan(0);
    expect(actionsOf(r.rows).every((a) => !('jobId' in a) || a.jobId === job.id)).toBe(true);
  });

  it('says which files are no longer kept, and keeps the rest', async () => {
    const s = personalSetup();
    const job = await finished(s, 2, 1);
    const c = recordingContext();
    await s.d.command('show', { text: job.id }, c.ctx);
    expect(c.replies[0]!.files).toHaveLength(1);
    expect(c.replies[0]!.text.split('\n').at(-1)).toBe('(1 file(s) of this job are no longer kept.)');
  });

  it('is private for someone whose results are private', async () => {
    const s = personalSetup();
    const job = await finished(s);
    s.settings.set('telegram', '1', { visibility: 'private' });
    const c = recordingContext();
    await s.d.command('show', { text: job.shortId }, c.ctx);
    expect(c.calls[0]).toEqual({ op: 'defer', opts: { private: true } });
    expect(c.replies[0]!.private).toBe(true);
  });

  it('shows an unfinished job with its Cancel, and nothing of someone else’s', async () => {
    const s = personalSetup();
    const waiting = seedJob(s.repo, { status: 'queued' });
    const theirs = await finished(s, 1, 1, '2');
    const c = recordingContext();
    await s.d.command('show', { text: waiting.shortId }, c.ctx);
    expect(actionsOf(c.replies[0]!.rows)).toEqual([{ kind: 'cancel', jobId: waiting.id }]);
    await s.d.command('show', { text: theirs.shortId }, c.ctx);
    expect(c.failures).toEqual([`No job ${theirs.shortId} of yours was found.`]);
  });

  it('has buttons that work: Reroll from a shown job queues it again', async () => {
    const s = personalSetup();
    const job = await finished(s);
    const c = recordingContext();
    await s.d.command('show', { text: job.shortId }, c.ctx);
    const reroll = actionsOf(c.replies[0]!.rows).find((a) => a.kind === 'reroll')!;
    await s.d.action(encodeAction(reroll), c.ctx);
    expect(c.failures).toEqual([]);
    expect(s.submitted.map((r) => [r.workflow, r.params.prompt, r.params.aspect])).toEqual([
      ['imagine', 'a red fox', '1:1'],
    ]);
  });
});

describe('⭐ favourites', () => {
  it('stars and unstars a job from its button, relabelling only that button', async () => {
    const s = personalSetup();
    const job = await finished(s);
    const c = recordingContext();
    await s.d.action(encodeAction({ kind: 'star', jobId: job.id }), c.ctx);
    expect(s.repo.get(job.id)?.starredAt).toBeDefined();
    await s.d.action({ kind: 'star', jobId: job.id }, c.ctx);
    expect(s.repo.get(job.id)?.starredAt).toBeUndefined();
    expect(c.calls).toEqual([
      { op: 'relabel', label: '⭐ Starred ✓' },
      { op: 'relabel', label: '⭐ Star' },
    ]);
  });

  it('shows the star’s state where a job is opened or shown again', async () => {
    const s = personalSetup();
    const job = await finished(s);
    s.repo.setStarred(job.id, true);
    const c = recordingContext();
    await s.d.action({ kind: 'open', jobId: job.id }, c.ctx);
    await s.d.command('show', { text: job.shortId }, c.ctx);
    for (const r of c.replies) {
      const star = (r.rows ?? [])
        .flatMap((x) => (x.kind === 'buttons' ? x.buttons : []))
        .find((b) => b.action.kind === 'star');
      expect(star?.label).toBe('⭐ Starred ✓');
    }
  });

  it('lets nobody else star my job', async () => {
    const s = personalSetup();
    const job = await finished(s);
    const c = recordingContext({ user: { userId: '2' } });
    await s.d.action({ kind: 'star', jobId: job.id }, c.ctx);
    expect(c.failures).toEqual([`No job ${job.id} of yours was found.`]);
    expect(s.repo.get(job.id)?.starredAt).toBeUndefined();
  });

  it('/gallery starred lists only the starred jobs, and its pages stay starred', async () => {
    const s = personalSetup();
    const jobs: JobRecord[] = [];
    for (let i = 0; i < 12; i++) jobs.push(await finished(s, 1));
    for (const j of jobs.slice(0, 10)) s.repo.setStarred(j.id, true);
    const typed = recordingContext();
    await s.d.command('gallery', { text: 'starred' }, typed.ctx);
    const discord = recordingContext();
    await s.d.command('gallery', { values: { starred: true, page: 2 } }, discord.ctx);
    const opened = (r: (typeof typed.replies)[number]) =>
      actionsOf(r.rows).flatMap((a) => (a.kind === 'open' ? [a.jobId] : []));
    const starredIds = new Set(jobs.slice(0, 10).map((j) => j.id));
    expect(typed.replies[0]!.text).toBe('Your starred work — page 1 of 2. Tap a number to open it.');
    expect(opened(typed.replies[0]!)).toHaveLength(9);
    expect(opened(typed.replies[0]!).every((id) => starredIds.has(id))).toBe(true);
    expect(actionsOf(typed.replies[0]!.rows).filter((a) => a.kind === 'page')).toEqual([
      { kind: 'page', page: 1, starred: true },
    ]);
    expect(encodeAction({ kind: 'page', page: 1, starred: true })).toBe('v1:t:1');
    expect(opened(discord.replies[0]!)).toHaveLength(1);
    const next = recordingContext();
    await s.d.action('v1:t:1', next.ctx);
    expect(next.replies[0]!.text).toBe('Your starred work — page 2 of 2. Tap a number to open it.');
    const none = recordingContext({ user: { userId: '3' } });
    await s.d.command('gallery', { text: 'starred' }, none.ctx);
    expect(none.replies[0]!.text).toBe('No starred jobs yet: press ⭐ Star under a result.');
  });
});
