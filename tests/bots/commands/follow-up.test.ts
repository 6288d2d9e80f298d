import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeAction } from '../../../src/bots/actions.js';
import type { CommandDeps } from '../../../src/bots/commands/deps.js';
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

const ID = 'abcd0000-0000-4000-8000-000000000002';
const OLD_SEED = 2 ** 40; // above any seed the bot picks
const params = { prompt: 'a red fox', negative: 'blurry', aspect: '16:9', count: 2, steps: 30, cfg: 5, seed: OLD_SEED };

function setup() {
  const journal: Journal = [];
  const repo = memoryRepo();
  const storage = tempStorage();
  const t = trackerDouble({ journal });
  const deps: CommandDeps = strictCommandDeps({
    repo,
    storage,
    tracker: t.tracker,
    quotas: quotasDouble({ journal }).quotas,
  });
  /** A finished job whose outputs exist on disk, each file holding its own path as content. */
  const finished = (outputs: OutputFile[], over: { params?: Record<string, unknown>; workflow?: string } = {}) => {
    for (const o of outputs) {
      mkdirSync(path.dirname(storage.resolveInside(o.path)), { recursive: true });
      writeFileSync(storage.resolveInside(o.path), o.path);
    }
    return seedJob(repo, { id: ID, outputs, params: over.params ?? params, workflow: over.workflow });
  };
  const inputs = () => {
    try {
      return readdirSync(storage.resolveInside('inputs'));
    } catch {
      return [];
    }
  };
  /** The 1-based place of a follow-up in a manifest, found by its label. */
  const nOf = (label: string, workflow = 'imagine') =>
    deps.workflows.get(workflow)!.manifest.followUps.findIndex((f) => f.label === label) + 1;
  return { journal, storage, deps, d: dispatcherFor(deps), finished, inputs, nOf, ...t };
}

describe('follow-up buttons declared in manifests', () => {
  it('Vary (subtle): the chosen image into the vary workflow, same prompt and settings, denoise 0.35, a new seed', async () => {
    const s = setup();
    s.finished([imageOutput(ID, 1), imageOutput(ID, 2)]);
    const c = recordingContext({ journal: s.journal });
    await s.d.action(
      encodeAction({ kind: 'follow_up', jobId: ID, index: 2, n: s.nOf('bot.button_vary_subtle') }),
      c.ctx,
    );
    expect(c.ops).toEqual(['defer', 'progressSink']);
    expect(s.journal).toEqual([
      'tracker.ensureRunnable:vary',
      'quotas.check',
      'ctx.defer',
      'ctx.progressSink',
      'tracker.submit',
    ]);
    const [req] = s.submitted;
    expect(req?.workflow).toBe('vary');
    const { seed, image, ...rest } = req!.params as Record<string, unknown>;
    expect(rest).toEqual({ prompt: 'a red fox', negative: 'blurry', steps: 30, cfg: 5, denoise: 0.35 });
    expect(seed).not.toBe(OLD_SEED);
    expect(image).toMatch(/^[0-9a-f-]{36}\.png$/);
    expect(readFileSync(s.storage.inputPath(image as string), 'utf8')).toBe(`outputs/${ID}/02.png`);
  });

  it('Vary (strong) differs only in its denoise preset', async () => {
    const s = setup();
    s.finished([imageOutput(ID, 1)]);
    await s.d.action(
      { kind: 'follow_up', jobId: ID, index: 1, n: s.nOf('bot.button_vary_strong') },
      recordingContext().ctx,
    );
    expect(s.submitted[0]?.workflow).toBe('vary');
    expect(s.submitted[0]?.params).toMatchObject({ prompt: 'a red fox', denoise: 0.7 });
  });

  it('Animate: the video workflow with the image as its start frame and the prompt carried over', async () => {
    const s = setup();
    s.finished([imageOutput(ID, 1)]);
    await s.d.action(
      { kind: 'follow_up', jobId: ID, index: 1, n: s.nOf('bot.button_animate') },
      recordingContext().ctx,
    );
    const [req] = s.submitted;
    expect(req?.workflow).toBe('video');
    const { seed, image, ...rest } = req!.params as Record<string, unknown>;
    expect(rest).toEqual({ prompt: 'a red fox', seconds: '5', aspect: '1:1' });
    expect(typeof seed).toBe('number');
    expect(readFileSync(s.storage.inputPath(image as string), 'utf8')).toBe(`outputs/${ID}/01.png`);
  });

  it('carries what the source calls differently: an edit’s instruction becomes the video’s prompt', async () => {
    const s = setup();
    s.finished([imageOutput(ID, 1)], { workflow: 'edit', params: { instruction: 'make it night', image: 'x.png' } });
    await s.d.action(
      { kind: 'follow_up', jobId: ID, index: 1, n: s.nOf('bot.button_animate', 'edit') },
      recordingContext().ctx,
    );
    expect(s.submitted[0]).toMatchObject({ workflow: 'video', params: { prompt: 'make it night' } });
  });

  it('a button the manifest no longer has is refused as an old button, copying nothing', async () => {
    const s = setup();
    s.finished([imageOutput(ID, 1)]);
    const c = recordingContext();
    await s.d.action({ kind: 'follow_up', jobId: ID, index: 1, n: 9 }, c.ctx);
    expect(c.failures).toEqual(['This button is from an older message and no longer works.']);
    expect(s.submitted).toEqual([]);
    expect(s.inputs()).toEqual([]);
  });

  it('an image the job does not have, or no longer keeps, is refused before anything is queued', async () => {
    const s = setup();
    s.finished([imageOutput(ID, 1)]);
    const c = recordingContext();
    await s.d.action({ kind: 'follow_up', jobId: ID, index: 3, n: 1 }, c.ctx);
    rmSync(s.storage.resolveInside(`outputs/${ID}/01.png`));
    await s.d.action({ kind: 'follow_up', jobId: ID, index: 1, n: 1 }, c.ctx);
    expect(c.failures).toEqual(['No job abcd0000 of yours was found.', 'Image 1 of job abcd0000 is no longer kept.']);
    expect(s.submitted).toEqual([]);
    expect(s.inputs()).toEqual([]);
  });

  it('a carried value the target refuses is explained, nothing copied', async () => {
    const s = setup();
    s.finished([imageOutput(ID, 1)], { params: { ...params, prompt: 'x'.repeat(1001) } });
    const c = recordingContext();
    await s.d.action({ kind: 'follow_up', jobId: ID, index: 1, n: s.nOf('bot.button_vary_subtle') }, c.ctx);
    expect(c.failures).toEqual(['The prompt is too long: 1001 characters, at most 1000.']);
    expect(s.inputs()).toEqual([]);
  });

  it('runs nothing of someone else’s', async () => {
    const s = setup();
    s.finished([imageOutput(ID, 1)]);
    const c = recordingContext({ user: { userId: '2' } });
    await s.d.action({ kind: 'follow_up', jobId: ID, index: 1, n: 1 }, c.ctx);
    expect(c.ops).toEqual(['fail']);
    expect(s.journal).toEqual([]);
    expect(s.inputs()).toEqual([]);
  });
});

describe('the ⬇️ Original button', () => {
  it('sends the untouched result file as a file, not as a photo', async () => {
    const s = setup();
    s.finished([imageOutput(ID, 1), imageOutput(ID, 2)]);
    const c = recordingContext();
    await s.d.action(encodeAction({ kind: 'original', jobId: ID, index: 2 }), c.ctx);
    expect(c.ops).toEqual(['defer', 'reply']);
    expect(c.replies).toEqual([
      {
        text: 'Original file of image 2 · job abcd0000',
        files: [s.storage.resolveInside(`outputs/${ID}/02.png`)],
        asFiles: true,
      },
    ]);
  });
});
