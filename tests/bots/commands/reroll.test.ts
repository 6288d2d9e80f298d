import { describe, expect, it } from 'vitest';
import { encodeAction } from '../../../src/bots/actions.js';
import { UserError } from '../../../src/errors.js';
import { strictCommandDeps } from '../../support/command-deps.js';
import {
  dispatcherFor,
  memoryRepo,
  quotasDouble,
  recordingContext,
  seedJob,
  tempStorage,
  trackerDouble,
} from '../../support/doubles.js';

const OLD_SEED = 2 ** 40; // above any seed the bot picks
const params = { prompt: 'a red fox', negative: 'blurry', aspect: '9:16', count: 1, steps: 30, cfg: 5, seed: OLD_SEED };

function setup(quota?: Error) {
  const repo = memoryRepo();
  const t = trackerDouble();
  const q = quotasDouble({ refuse: quota });
  const deps = strictCommandDeps({ repo, storage: tempStorage(), tracker: t.tracker, quotas: q.quotas });
  return { repo, d: dispatcherFor(deps), ...t, ...q };
}

describe('the Reroll button', () => {
  it('runs the same workflow with the same options and a new seed', async () => {
    const { repo, d, submitted } = setup();
    const job = seedJob(repo, { params });
    const c = recordingContext();
    await d.action(encodeAction({ kind: 'reroll', jobId: job.id }), c.ctx);
    expect(c.ops).toEqual(['defer', 'progressSink']);
    expect(submitted.map((s) => s.workflow)).toEqual(['imagine']);
    const { seed, ...rest } = submitted[0]!.params;
    expect(rest).toEqual({ ...params, seed: undefined });
    expect(seed).not.toBe(OLD_SEED);
    expect(seed).toBeLessThan(2 ** 32);
  });

  it('counts against the quota, refused before acknowledging', async () => {
    const { repo, d, submitted, checks } = setup(new UserError('error.rate_limited', { seconds: 12, max: 5 }));
    const job = seedJob(repo, { params });
    seedJob(repo, { status: 'running' });
    const c = recordingContext();
    await d.action({ kind: 'reroll', jobId: job.id }, c.ctx);
    expect(checks).toEqual([{ userId: '1', unfinished: 1 }]);
    expect(c.calls).toEqual([{ op: 'fail', text: 'Slow down: at most 5 jobs a minute. Try again in 12 s.' }]);
    expect(submitted).toEqual([]);
  });

  it('rerolls nothing of someone else’s', async () => {
    const { repo, d, submitted, checks } = setup();
    const job = seedJob(repo, { userId: '2', params });
    const c = recordingContext();
    await d.action({ kind: 'reroll', jobId: job.id }, c.ctx);
    expect(c.ops).toEqual(['fail']);
    expect(submitted).toEqual([]);
    expect(checks).toEqual([]);
  });
});
