import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MediaRef } from '../../src/bots/command.js';
import { submitJob } from '../../src/bots/submit.js';
import { isValidParams } from '../../src/bots/validate.js';
import { UserError } from '../../src/errors.js';
import { strictCommandDeps } from '../support/command-deps.js';
import {
  type Journal,
  memoryRepo,
  mediaRef,
  quotasDouble,
  recordingContext,
  seedJob,
  tempStorage,
  trackerDouble,
} from '../support/doubles.js';
import { png } from '../support/media.js';

function setup(opts: { media?: Record<string, MediaRef>; refuse?: Error; quota?: Error; journal?: Journal } = {}) {
  const journal = opts.journal ?? [];
  const repo = memoryRepo();
  const storage = tempStorage();
  const t = trackerDouble({ journal, refuse: opts.refuse });
  const q = quotasDouble({ journal, refuse: opts.quota });
  const deps = strictCommandDeps({ tracker: t.tracker, quotas: q.quotas, repo, storage });
  const c = recordingContext({ journal, media: opts.media, messageId: 'm-7', user: { userId: '5', chatId: '-100' } });
  return { journal, repo, storage, deps, ...t, ...q, ...c };
}

async function refusal(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof UserError) return err;
  throw new Error(`expected a UserError, got ${String(err)}`);
}

describe('submitJob', () => {
  it('checks, acknowledges, then hands validated params and the requester to the tracker', async () => {
    const s = setup();
    seedJob(s.repo, { userId: '5', status: 'queued' });
    const out = await submitJob(s.deps, s.ctx, 'imagine', { prompt: 'a fox', steps: 8 });
    expect(s.journal).toEqual([
      'tracker.ensureRunnable:imagine',
      'quotas.check',
      'ctx.defer',
      'ctx.progressSink',
      'tracker.submit',
    ]);
    expect(s.checks).toEqual([{ userId: '5', unfinished: 1 }]);
    const [req] = s.submitted;
    expect(req?.workflow).toBe('imagine');
    expect(req?.sink).toBe(s.sink);
    expect(req?.requester).toEqual({
      platform: 'telegram',
      userId: '5',
      locale: 'en',
      chatId: '-100',
      messageId: 'm-7',
    });
    expect(req?.params).toMatchObject({ prompt: 'a fox', steps: 8 });
    expect(typeof req?.params.seed).toBe('number');
    expect(isValidParams(req!.params)).toBe(true);
    expect(out.params).toBe(req?.params);
  });

  it('downloads the files only after every check, and stores them under names of its own', async () => {
    const journal: Journal = [];
    const s2 = setup({ journal, media: { image: mediaRef(await png(), { size: 1000, journal }) } });
    await submitJob(s2.deps, s2.ctx, 'edit', { instruction: 'make it blue' }, { media: true });
    expect(s2.journal).toEqual([
      'tracker.ensureRunnable:edit',
      'ctx.media',
      'quotas.check',
      'ctx.defer',
      'ref.fetch',
      'ctx.progressSink',
      'tracker.submit',
    ]);
    expect(s2.calls.find((c) => c.op === 'media')).toEqual({ op: 'media', params: ['image'] });
    const stored = s2.submitted[0]?.params.image as string;
    expect(stored).toMatch(/^[0-9a-f-]{36}\.png$/);
    expect(existsSync(s2.storage.inputPath(stored))).toBe(true);
  });

  it('refuses a missing required image before the quota, the acknowledgement or any download', async () => {
    const s = setup({ media: {} });
    const err = await refusal(submitJob(s.deps, s.ctx, 'edit', { instruction: 'x' }, { media: true }));
    expect(err.key).toBe('input.missing_image');
    expect(err.params).toEqual({
      name: 'image',
      label: 'The picture to edit',
      how: 'Add --image followed by the file’s path, e.g. --image ./image.file',
    });
    expect(s.journal).toEqual(['tracker.ensureRunnable:edit', 'ctx.media']);
    expect(s.submitted).toEqual([]);
  });

  it('names the missing audio of a workflow that needs it', async () => {
    const s = setup({ media: { portrait: mediaRef(Buffer.from('x')) } });
    const err = await refusal(submitJob(s.deps, s.ctx, 'talk', {}, { media: true }));
    expect(err.key).toBe('input.missing_audio');
    expect(err.params).toEqual({
      name: 'audio',
      label: 'Voice (up to 60 s; voice messages work)',
      how: 'Add --audio followed by the file’s path, e.g. --audio ./audio.file',
    });
  });

  it('refuses a file it knows is too big without downloading it', async () => {
    const big = mediaRef(Buffer.from('never read'), { size: 25_500_000, maxBytes: 20_000_000 });
    const s = setup({ media: { image: big } });
    const err = await refusal(submitJob(s.deps, s.ctx, 'edit', { instruction: 'x' }, { media: true }));
    expect(err.key).toBe('input.file_too_big');
    expect(err.params).toEqual({ size: '25.5', max: 20 });
    expect(big.fetched).toBe(0);
    expect(s.journal).toEqual(['tracker.ensureRunnable:edit', 'ctx.media']);
  });

  it('downloads a file of unknown size (the platform did not say)', async () => {
    const image = mediaRef(await png(), { size: undefined, maxBytes: 10 });
    const s = setup({ media: { image } });
    await submitJob(s.deps, s.ctx, 'edit', { instruction: 'x' }, { media: true });
    expect(image.fetched).toBe(1);
    expect(s.submitted).toHaveLength(1);
  });

  it('runs without an optional file', async () => {
    const s = setup({ media: {} });
    await submitJob(s.deps, s.ctx, 'video', { prompt: 'waves' }, { media: true });
    expect(s.submitted[0]?.params).not.toHaveProperty('image');
  });

  it('refuses a workflow no online worker can run before looking at the files', async () => {
    const s = setup({
      media: { image: mediaRef(Buffer.from('x')) },
      refuse: new UserError('error.no_capable_worker', { name: 'edit' }),
    });
    const err = await refusal(submitJob(s.deps, s.ctx, 'edit', { instruction: 'x' }, { media: true }));
    expect(err.key).toBe('error.no_capable_worker');
    expect(s.journal).toEqual(['tracker.ensureRunnable:edit']);
  });

  it('refuses a user over quota before acknowledging or downloading', async () => {
    const image = mediaRef(Buffer.from('x'));
    const s = setup({ media: { image }, quota: new UserError('error.queue_cap', { max: 3 }) });
    const err = await refusal(submitJob(s.deps, s.ctx, 'edit', { instruction: 'x' }, { media: true }));
    expect(err.key).toBe('error.queue_cap');
    expect(s.journal).toEqual(['tracker.ensureRunnable:edit', 'ctx.media', 'quotas.check']);
    expect(image.fetched).toBe(0);
  });

  it('refuses an unknown workflow before anything else', async () => {
    const s = setup();
    const err = await refusal(submitJob(s.deps, s.ctx, 'nope', {}));
    expect(err.params).toEqual({ name: 'nope' });
    expect(s.journal).toEqual([]);
  });

  it('does not ask the platform for files when the command brings none (buttons, remix)', async () => {
    const s = setup();
    await submitJob(s.deps, s.ctx, 'imagine', { prompt: 'x' });
    expect(s.ops).not.toContain('media');
  });
});
