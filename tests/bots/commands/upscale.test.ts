import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeAction } from '../../../src/bots/actions.js';
import type { CommandDeps } from '../../../src/bots/commands/deps.js';
import { UserError } from '../../../src/errors.js';
import type { OutputFile } from '../../../src/queue/contracts.js';
import { strictCommandDeps } from '../../support/command-deps.js';
import {
  dispatcherFor,
  imageOutput,
  type Journal,
  memoryRepo,
  quotasDouble,
  recordingContext,
  seedJob,
  tempStorage,
  trackerDouble,
} from '../../support/doubles.js';

const ID = 'abcd0000-0000-4000-8000-000000000001';

function setup(opts: { refuse?: Error; without?: string } = {}) {
  const journal: Journal = [];
  const repo = memoryRepo();
  const storage = tempStorage();
  const t = trackerDouble({ journal, refuse: opts.refuse });
  const base = strictCommandDeps();
  const workflows = new Map([...base.workflows].filter(([name]) => name !== opts.without));
  const deps: CommandDeps = strictCommandDeps({
    repo,
    storage,
    workflows,
    tracker: t.tracker,
    quotas: quotasDouble({ journal }).quotas,
  });
  /** A finished job whose outputs exist on disk, each file holding its own path as content. */
  const finished = (outputs: OutputFile[], userId = '1') => {
    for (const o of outputs) {
      mkdirSync(path.dirname(storage.resolveInside(o.path)), { recursive: true });
      writeFileSync(storage.resolveInside(o.path), o.path);
    }
    return seedJob(repo, { id: ID, userId, outputs });
  };
  const inputs = () => {
    try {
      return readdirSync(storage.resolveInside('inputs'));
    } catch {
      return [];
    }
  };
  return { journal, storage, d: dispatcherFor(deps), finished, inputs, ...t };
}

const video: OutputFile = { path: `outputs/${ID}/01.mp4`, kind: 'video', mime: 'video/mp4', bytes: 1, node: 'save' };

describe('the Upscale button', () => {
  it('copies the chosen image into the inputs and submits it to the upscale workflow', async () => {
    const s = setup();
    s.finished([video, imageOutput(ID, 2), imageOutput(ID, 3)]);
    const c = recordingContext({ journal: s.journal });
    await s.d.action(encodeAction({ kind: 'upscale', jobId: ID, index: 2 }), c.ctx);
    expect(c.ops).toEqual(['defer', 'progressSink']);
    expect(s.journal).toEqual([
      'tracker.ensureRunnable:upscale',
      'quotas.check',
      'ctx.defer',
      'ctx.progressSink',
      'tracker.submit',
    ]);
    const [req] = s.submitted;
    expect(req?.workflow).toBe('upscale');
    const image = req?.params.image as string;
    expect(image).toMatch(/^[0-9a-f-]{36}\.png$/);
    expect(readFileSync(s.storage.inputPath(image), 'utf8')).toBe(`outputs/${ID}/03.png`);
    expect(req?.params).toEqual({ image, factor: '2' });
  });

  it('refuses an image the job does not have, copying nothing', async () => {
    const s = setup();
    s.finished([imageOutput(ID, 1)]);
    const c = recordingContext();
    await s.d.action({ kind: 'upscale', jobId: ID, index: 2 }, c.ctx);
    expect(c.calls).toEqual([{ op: 'fail', text: 'No job abcd0000 of yours was found.' }]);
    expect(s.submitted).toEqual([]);
    expect(s.inputs()).toEqual([]);
  });

  it('refuses when there is no upscale workflow', async () => {
    const s = setup({ without: 'upscale' });
    s.finished([imageOutput(ID, 1)]);
    const c = recordingContext();
    await s.d.action({ kind: 'upscale', jobId: ID, index: 1 }, c.ctx);
    expect(c.ops).toEqual(['fail']);
    expect(s.submitted).toEqual([]);
  });

  it('passes on a refusal of the upscale workflow, submitting nothing', async () => {
    const s = setup({ refuse: new UserError('error.no_capable_worker', { name: 'upscale' }) });
    s.finished([imageOutput(ID, 1)]);
    const c = recordingContext();
    await s.d.action({ kind: 'upscale', jobId: ID, index: 1 }, c.ctx);
    expect(c.calls).toEqual([{ op: 'fail', text: 'No GPU server that can run /upscale is online right now.' }]);
    expect(s.submitted).toEqual([]);
  });

  it('upscales nothing of someone else’s', async () => {
    const s = setup();
    s.finished([imageOutput(ID, 1)], '2');
    const c = recordingContext();
    await s.d.action({ kind: 'upscale', jobId: ID, index: 1 }, c.ctx);
    expect(c.ops).toEqual(['fail']);
    expect(s.journal).toEqual([]);
    expect(s.inputs()).toEqual([]);
  });
});
