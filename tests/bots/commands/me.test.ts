import { describe, expect, it } from 'vitest';
import type { Producer } from '../../../src/queue/producer.js';
import type { QuotaLeft } from '../../../src/queue/quotas.js';
import { actionsOf, recordingContext, seedJob, strict } from '../../support/doubles.js';
import { personalSetup } from './settings-support.js';

const LEFT: QuotaLeft = { exempt: false, perMinute: 5, left: 3, resetsInMs: 42_000, maxQueued: 3 };

function setup(opts: { left?: QuotaLeft; positions?: () => Promise<Map<string, number>> } = {}) {
  const asked: string[][] = [];
  const producer = strict<Producer>('producer', {
    async positions(workflows) {
      asked.push([...workflows]);
      return opts.positions ? opts.positions() : new Map();
    },
  });
  const s = personalSetup({ left: opts.left ?? LEFT, deps: { producer } });
  return { ...s, asked };
}

describe('/me', () => {
  it('lists my unfinished jobs with their live positions, today’s count and the limits left, each with a Cancel', async () => {
    let positions = new Map<string, number>();
    const s = setup({ positions: async () => positions });
    const done = seedJob(s.repo, { status: 'succeeded', at: Date.now() - 3000 });
    const running = seedJob(s.repo, { status: 'running', at: Date.now() - 2000 });
    const waiting = seedJob(s.repo, { status: 'queued', workflow: 'edit', at: Date.now() - 1000 });
    seedJob(s.repo, { status: 'queued', userId: '2' });
    s.repo.setProgress(running.id, 40);
    positions = new Map([[waiting.id, 2]]);
    const c = recordingContext();
    await s.d.command('me', { text: '' }, c.ctx);
    expect(c.failures).toEqual([]);
    expect(c.calls[0]).toEqual({ op: 'defer', opts: { private: true } });
    const r = c.replies[0]!;
    expect(r.private).toBe(true);
    expect(r.text).toBe(
      [
        'Your jobs — 2 waiting or running:',
        `• ${running.shortId} imagine — running, 40%`,
        `• ${waiting.shortId} edit — Queued — 2 ahead of you`,
        '',
        'Today: 3 job(s)',
        'This minute: 3 of 5 jobs left (all back in 0:42)',
        'Queue: 2 of 3 places used (one frees up as each job ends)',
      ].join('\n'),
    );
    expect(s.asked).toEqual([['imagine', 'edit']]);
    expect(actionsOf(r.rows)).toEqual([
      { kind: 'withdraw', jobId: running.id },
      { kind: 'withdraw', jobId: waiting.id },
      { kind: 'me' },
    ]);
    expect(done.status).toBe('succeeded');
  });

  it('says when nothing waits, and that an admin has no limits', async () => {
    const s = setup({ left: { ...LEFT, exempt: true } });
    const c = recordingContext({ user: { locale: 'zh-TW', isAdmin: true } });
    await s.d.command('me', { text: '' }, c.ctx);
    expect(c.replies[0]!.text).toBe('你目前沒有等待中或進行中的任務。\n\n今天：0 個任務\n額度：無限制（你是管理員）');
    expect(actionsOf(c.replies[0]!.rows)).toEqual([{ kind: 'me' }]);
    expect(s.asked).toEqual([]);
  });

  it('adds today’s GPU time where a daily GPU limit is set', async () => {
    const s = setup({ left: { ...LEFT, gpu: { limitS: 600, usedS: 123.4, resetsInMs: 3_600_000 } } });
    const c = recordingContext();
    await s.d.command('me', { text: '' }, c.ctx);
    expect(c.replies[0]!.text.split('\n').at(-1)).toBe('GPU time today: 123 of 600 s used (back to zero in 1:00:00)');
  });

  it('still answers when the queue positions cannot be read', async () => {
    const s = setup({
      positions: async () => {
        throw new Error('redis down');
      },
    });
    const job = seedJob(s.repo, { status: 'queued' });
    const c = recordingContext();
    await s.d.command('me', { text: '' }, c.ctx);
    expect(c.replies[0]!.text).toContain(`• ${job.shortId} imagine — Queued — next up`);
  });

  it('Cancel cancels that job and draws /me again in place; Refresh redraws it', async () => {
    const s = setup();
    const job = seedJob(s.repo, { status: 'queued' });
    const c = recordingContext();
    await s.d.action({ kind: 'withdraw', jobId: job.id }, c.ctx);
    expect(c.failures).toEqual([]);
    expect(s.cancelled).toEqual([{ id: job.id, owner: expect.objectContaining({ userId: '1' }) }]);
    expect(c.ops).toEqual(['defer', 'update']);
    expect(c.replies[0]!.text.split('\n')[0]).toBe(`Cancelling job ${job.shortId}…`);
    await s.d.action('v1:w:me', c.ctx);
    expect(c.ops).toEqual(['defer', 'update', 'defer', 'update']);
  });

  it('cancels nothing of someone else’s', async () => {
    const s = setup();
    const job = seedJob(s.repo, { status: 'queued', userId: '2' });
    const c = recordingContext();
    await s.d.action({ kind: 'withdraw', jobId: job.id }, c.ctx);
    expect(c.failures).toEqual([`No job ${job.id} of yours was found.`]);
    expect(s.cancelled).toEqual([]);
  });
});
