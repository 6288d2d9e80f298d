import { describe, expect, it } from 'vitest';
import { encodeAction } from '../../../src/bots/actions.js';
import { strictCommandDeps } from '../../support/command-deps.js';
import { dispatcherFor, memoryRepo, recordingContext, seedJob, trackerDouble } from '../../support/doubles.js';

function setup() {
  const repo = memoryRepo();
  const t = trackerDouble({ repo });
  const d = dispatcherFor(strictCommandDeps({ repo, tracker: t.tracker }));
  return { repo, d, ...t };
}

describe('/cancel', () => {
  it('cancels the caller’s newest unfinished job when none is named', async () => {
    const { repo, d, cancelled } = setup();
    seedJob(repo, { status: 'queued', at: 1 });
    const newest = seedJob(repo, { status: 'running', at: 2 });
    seedJob(repo, { status: 'succeeded', at: 3 });
    seedJob(repo, { userId: '2', status: 'queued', at: 4 });
    seedJob(repo, { platform: 'discord', status: 'queued', at: 5 });
    const c = recordingContext();
    await d.command('cancel', { text: '' }, c.ctx);
    expect(cancelled).toEqual([{ id: newest.id, owner: c.ctx.user }]);
    expect(c.calls).toEqual([{ op: 'reply', reply: { text: `Cancelling job ${newest.shortId}…`, private: true } }]);
  });

  it('cancels the job it is given by short id', async () => {
    const { repo, d, cancelled } = setup();
    const older = seedJob(repo, { status: 'queued', at: 1 });
    seedJob(repo, { status: 'queued', at: 2 });
    const c = recordingContext({ user: { locale: 'zh-TW' } });
    await d.command('cancel', { text: older.shortId }, c.ctx);
    expect(cancelled.map((x) => x.id)).toEqual([older.shortId]);
    expect(c.replies).toEqual([{ text: `正在取消任務 ${older.shortId}…`, private: true }]);
  });

  it('says there is nothing to cancel, and cancels nothing', async () => {
    const { repo, d, cancelled } = setup();
    seedJob(repo, { status: 'succeeded' });
    seedJob(repo, { userId: '2', status: 'running' });
    const c = recordingContext();
    await d.command('cancel', { text: '' }, c.ctx);
    expect(cancelled).toEqual([]);
    expect(c.calls).toMatchInlineSnapshot(`
      [
        {
          "op": "reply",
          "reply": {
            "private": true,
            "text": "You have no job waiting or running.",
          },
        },
      ]
    `);
  });

  it('refuses someone else’s job', async () => {
    const { repo, d } = setup();
    const theirs = seedJob(repo, { userId: '2', status: 'queued' });
    const c = recordingContext();
    await d.command('cancel', { text: theirs.shortId }, c.ctx);
    expect(c.calls).toEqual([{ op: 'fail', text: `No job ${theirs.shortId} of yours was found.` }]);
  });
});

describe('the Cancel button', () => {
  it('acknowledges in place and cancels that job', async () => {
    const { repo, d, cancelled } = setup();
    const job = seedJob(repo, { status: 'running' });
    const c = recordingContext();
    await d.action(encodeAction({ kind: 'cancel', jobId: job.id }), c.ctx);
    expect(c.calls).toEqual([{ op: 'defer', opts: { update: true } }]);
    expect(cancelled).toEqual([{ id: job.id, owner: c.ctx.user }]);
  });

  it('does nothing for a stranger', async () => {
    const { repo, d, cancelled } = setup();
    const job = seedJob(repo, { userId: '2', status: 'running' });
    const c = recordingContext();
    await d.action({ kind: 'cancel', jobId: job.id }, c.ctx);
    expect(c.ops).toEqual(['fail']);
    expect(cancelled).toEqual([]);
  });
});
