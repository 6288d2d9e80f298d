import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeAction } from '../../../src/bots/actions.js';
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

/** Above any seed the bot picks (< 2^32), so a kept seed cannot pass for a new one. */
const OLD_SEED = 2 ** 40;
const foxParams = {
  prompt: 'a red fox',
  negative: 'blurry',
  aspect: '16:9',
  count: 2,
  steps: 25,
  cfg: 7,
  seed: OLD_SEED,
};

const FOX = 'f0c5f0c5-0000-4000-8000-000000000001';

function setup() {
  const repo = memoryRepo();
  const storage = tempStorage();
  const t = trackerDouble();
  const deps = strictCommandDeps({ repo, storage, tracker: t.tracker, quotas: quotasDouble().quotas });
  const fox = seedJob(repo, { id: FOX, params: foxParams });
  return { repo, storage, d: dispatcherFor(deps), fox, ...t };
}

describe('/remix', () => {
  it('runs the job again with a new prompt and steps, keeping its other options and picking a new seed', async () => {
    const { d, fox, submitted } = setup();
    const c = recordingContext();
    await d.command('remix', { text: `${fox.shortId} a blue fox --steps 8` }, c.ctx);
    expect(c.ops).toEqual(['defer', 'progressSink']);
    expect(submitted).toHaveLength(1);
    const { workflow, params } = submitted[0]!;
    expect(workflow).toBe('imagine');
    const { seed, ...rest } = params;
    expect(rest).toEqual({ ...foxParams, seed: undefined, prompt: 'a blue fox', steps: 8 });
    expect(seed).not.toBe(OLD_SEED);
    expect(seed).toBeLessThan(2 ** 32);
  });

  it('keeps the prompt when only options change, and takes a seed it is given', async () => {
    const { d, fox, submitted } = setup();
    await d.command('remix', { text: `${fox.id} --seed 5 --ar 1:1` }, recordingContext().ctx);
    expect(submitted[0]?.params).toEqual({ ...foxParams, seed: 5, aspect: '1:1' });
  });

  it('asks for the new text when none is given, prefilled with the job’s text', async () => {
    const { d, fox, submitted } = setup();
    const c = recordingContext();
    await d.command('remix', { text: fox.shortId }, c.ctx);
    await d.command('remix', { values: { job: fox.shortId, prompt: '' } }, c.ctx);
    expect(submitted).toEqual([]);
    expect(c.ops).toEqual(['ask', 'ask']);
    const ask = c.calls[0]?.op === 'ask' ? c.calls[0].question : undefined;
    expect(ask).toMatchInlineSnapshot(`
      {
        "action": {
          "jobId": "f0c5f0c5-0000-4000-8000-000000000001",
          "kind": "remix",
        },
        "label": "New prompt (options like --steps 30 work too)",
        "prefill": "a red fox",
        "text": "✏️ Remix f0c5f0c5: reply to this message with the new prompt (options like --steps 30 work too).",
        "title": "Remix",
      }
    `);
    expect(encodeAction(ask!.action)).toBe(`v1:m:${fox.id}`);
  });

  it('prefills whatever text the workflow is about', async () => {
    const { repo, d } = setup();
    const edit = seedJob(repo, { workflow: 'edit', params: { instruction: 'make it blue', image: 'x.png' } });
    const c = recordingContext({ user: { locale: 'zh-TW' } });
    await d.command('remix', { text: edit.shortId }, c.ctx);
    expect(c.calls[0]).toMatchObject({ op: 'ask', question: { prefill: 'make it blue', title: expect.any(String) } });
  });

  it('refuses a bad change privately, before acknowledging', async () => {
    const { d, fox, submitted } = setup();
    const c = recordingContext();
    await d.command('remix', { text: `${fox.shortId} --steps 999` }, c.ctx);
    await d.command('remix', { text: `${fox.shortId} a fox --bogus 1` }, c.ctx);
    expect(submitted).toEqual([]);
    expect(c.calls).toMatchInlineSnapshot(`
      [
        {
          "op": "fail",
          "text": "Some options are not valid:
      • steps must be 1–60",
        },
        {
          "op": "fail",
          "text": "Unknown option --bogus.",
        },
      ]
    `);
  });

  it('refuses someone else’s job', async () => {
    const { repo, d, submitted } = setup();
    const theirs = seedJob(repo, { userId: '2', params: foxParams });
    const c = recordingContext();
    await d.command('remix', { text: `${theirs.shortId} a cat` }, c.ctx);
    expect(c.calls).toEqual([{ op: 'fail', text: `No job ${theirs.shortId} of yours was found.` }]);
    expect(submitted).toEqual([]);
  });

  it('refuses a job whose workflow is gone', async () => {
    const { repo, d } = setup();
    const old = seedJob(repo, { workflow: 'retired', params: { prompt: 'x' } });
    const c = recordingContext();
    await d.command('remix', { text: `${old.shortId} a cat` }, c.ctx);
    expect(c.failures).toEqual(['There is no workflow called "retired".']);
  });

  it('reuses the job’s stored picture while it is kept, and says so when it is not', async () => {
    const { repo, storage, d, submitted } = setup();
    const kept = seedJob(repo, { workflow: 'edit', params: { instruction: 'blue', image: 'kept-1.png', steps: 20 } });
    const gone = seedJob(repo, { workflow: 'edit', params: { instruction: 'blue', image: 'gone-1.png', steps: 20 } });
    mkdirSync(path.dirname(storage.inputPath('kept-1.png')), { recursive: true });
    writeFileSync(storage.inputPath('kept-1.png'), 'png');
    const c = recordingContext();
    await d.command('remix', { text: `${kept.shortId} red` }, c.ctx);
    await d.command('remix', { text: `${gone.shortId} red` }, c.ctx);
    expect(submitted.map((s) => s.params)).toMatchObject([{ instruction: 'red', image: 'kept-1.png', steps: 20 }]);
    expect(c.failures).toEqual(['The file from that job is no longer kept. Send it again with the command.']);
  });
});

describe('the Remix button', () => {
  it('asks first, then submits the answer typed back', async () => {
    const { d, fox, submitted } = setup();
    const c = recordingContext();
    await d.action(encodeAction({ kind: 'remix', jobId: fox.id }), c.ctx);
    expect(c.calls[0]).toMatchObject({ op: 'ask', question: { prefill: 'a red fox', action: { kind: 'remix' } } });
    expect(submitted).toEqual([]);
    await d.action(encodeAction({ kind: 'remix', jobId: fox.id }), c.ctx, 'a green fox --count 1');
    expect(c.ops).toEqual(['ask', 'defer', 'progressSink']);
    expect(submitted[0]?.params).toMatchObject({ prompt: 'a green fox', count: 1, steps: 25, aspect: '16:9' });
    expect(submitted[0]?.params.seed).not.toBe(OLD_SEED);
  });
});
