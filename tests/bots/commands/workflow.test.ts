import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MediaRef } from '../../../src/bots/command.js';
import { workflowCommand } from '../../../src/bots/commands/workflow.js';
import { isValidParams } from '../../../src/bots/validate.js';
import { UserError } from '../../../src/errors.js';
import { strictCommandDeps } from '../../support/command-deps.js';
import {
  dispatcherFor,
  type Journal,
  memoryRepo,
  mediaRef,
  quotasDouble,
  recordingContext,
  tempStorage,
  trackerDouble,
} from '../../support/doubles.js';
import { png } from '../../support/media.js';

function setup(opts: { refuse?: Error; quota?: Error } = {}) {
  const journal: Journal = [];
  const storage = tempStorage();
  const t = trackerDouble({ journal, refuse: opts.refuse });
  const deps = strictCommandDeps({
    repo: memoryRepo(),
    storage,
    tracker: t.tracker,
    quotas: quotasDouble({ journal, refuse: opts.quota }).quotas,
  });
  const ctx = (media: Record<string, MediaRef>) => recordingContext({ journal, media });
  return { journal, storage, deps, d: dispatcherFor(deps), ctx, ...t };
}

describe('a workflow command', () => {
  it('is made from its manifest, with model options suggested from ComfyUI', () => {
    const deps = strictCommandDeps();
    const imagine = workflowCommand(deps.workflows.get('imagine')!, deps);
    expect(imagine).toMatchObject({ name: 'imagine', workflow: 'imagine', description: { en: expect.any(String) } });
    expect(imagine.options.map((o) => o.name)).toEqual(
      deps.workflows.get('imagine')!.manifest.params.map((p) => p.name),
    );
    expect(imagine.options.filter((o) => o.suggest).map((o) => [o.name, o.suggest])).toEqual([['model', 'models']]);
  });

  it('queues a job with the typed options and the attached picture', async () => {
    const s = setup();
    const image = mediaRef(await png(), { size: 500, journal: s.journal });
    const c = s.ctx({ image });
    await s.d.command('edit', { text: 'make it blue --steps 8' }, c.ctx);
    expect(c.failures).toEqual([]);
    expect(s.journal).toEqual([
      'tracker.ensureRunnable:edit',
      'ctx.media',
      'quotas.check',
      'ctx.defer',
      'ref.fetch',
      'ctx.progressSink',
      'tracker.submit',
    ]);
    const params = s.submitted[0]!.params;
    expect(params).toMatchObject({ instruction: 'make it blue', steps: 8, guidance: 2.5 });
    expect(existsSync(s.storage.inputPath(params.image as string))).toBe(true);
    expect(isValidParams(params)).toBe(true);
  });

  it('refuses a missing picture before the quota, the acknowledgement or any download', async () => {
    const s = setup();
    const c = s.ctx({});
    await s.d.command('edit', { text: 'make it blue' }, c.ctx);
    expect(s.journal).toEqual(['tracker.ensureRunnable:edit', 'ctx.media', 'ctx.fail']);
    expect(c.failures).toMatchInlineSnapshot(`
      [
        "This command needs a picture: “The picture to edit”. Add --image followed by the file’s path, e.g. --image ./image.file",
      ]
    `);
  });

  it('refuses a picture it knows is too big without downloading it', async () => {
    const s = setup();
    const image = mediaRef(Buffer.alloc(0), { size: 30e6, maxBytes: 20e6 });
    const c = s.ctx({ image });
    await s.d.command('edit', { text: 'make it blue' }, c.ctx);
    expect(image.fetched).toBe(0);
    expect(c.failures).toEqual(['That file is too big to download: 30.0 MB, at most 20 MB.']);
    expect(s.submitted).toEqual([]);
  });

  it('checks the quota before acknowledging', async () => {
    const s = setup({ quota: new UserError('error.queue_cap', { max: 2 }) });
    const image = mediaRef(await png());
    const c = s.ctx({ image });
    await s.d.command('edit', { text: 'make it blue' }, c.ctx);
    expect(c.ops).toEqual(['media', 'fail']);
    expect(image.fetched).toBe(0);
  });

  it('refuses a workflow no worker can run before looking at the files', async () => {
    const s = setup({ refuse: new UserError('error.no_capable_worker', { name: 'edit', missing: 'FluxKontext' }) });
    const c = s.ctx({ image: mediaRef(Buffer.alloc(0)) });
    await s.d.command('edit', { text: 'make it blue' }, c.ctx);
    expect(c.calls).toEqual([
      { op: 'fail', text: 'No GPU server that can run /edit is online right now (it needs FluxKontext).' },
    ]);
  });

  it('refuses bad options before asking for files or capacity', async () => {
    const s = setup();
    const c = s.ctx({});
    await s.d.command('edit', { text: 'make it blue --guidance 11' }, c.ctx);
    await s.d.command('edit', { text: 'make it blue --image x.png' }, c.ctx);
    expect(s.journal).toEqual(['ctx.fail', 'ctx.fail']);
    expect(c.failures[1]).toBe('Unknown option --image.');
  });
});
