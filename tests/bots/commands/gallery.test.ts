import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeAction } from '../../../src/bots/actions.js';
import type { Reply } from '../../../src/bots/command.js';
import { strictCommandDeps } from '../../support/command-deps.js';
import {
  actionsOf,
  dispatcherFor,
  imageOutput,
  memoryRepo,
  recordingContext,
  seedJob,
  tempStorage,
} from '../../support/doubles.js';
import { png } from '../../support/media.js';

function setup() {
  const repo = memoryRepo();
  const storage = tempStorage();
  const d = dispatcherFor(strictCommandDeps({ repo, storage }));
  return { repo, storage, d };
}

/** `n` of the caller's jobs, oldest first (so the gallery lists them in reverse). */
const seedMany = (repo: ReturnType<typeof memoryRepo>, n: number) =>
  Array.from({ length: n }, (_, i) => seedJob(repo, { params: { prompt: `fox ${i}` }, at: i + 1 }));

const select = (reply: Reply | undefined) => reply?.rows?.find((r) => r.kind === 'select');
const nav = (reply: Reply | undefined) => reply?.rows?.filter((r) => r.kind === 'buttons').flatMap((r) => r.buttons);

async function pixel(jpeg: Buffer, x: number, y: number) {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [data[at], data[at + 1], data[at + 2]] as number[];
}

describe('/gallery', () => {
  it('says there is nothing yet, privately', async () => {
    const { repo, d } = setup();
    seedJob(repo, { userId: '2' });
    const c = recordingContext();
    await d.command('gallery', { text: '' }, c.ctx);
    expect(c.calls).toEqual([
      { op: 'defer', opts: { private: true } },
      { op: 'reply', reply: { text: 'Nothing here yet. Try /imagine first.', private: true } },
    ]);
  });

  it('shows the newest nine as a numbered sheet with a pick for each and a way forward', async () => {
    const { repo, d } = setup();
    const jobs = seedMany(repo, 10);
    const c = recordingContext();
    await d.command('gallery', { text: '' }, c.ctx);
    const [reply] = c.replies;
    expect(reply?.text).toBe('Your work — page 1 of 2. Tap a number to open it.');
    expect(reply?.private).toBe(true);
    expect(reply?.image?.name).toBe('gallery.jpg');
    expect((await sharp(reply!.image!.data).metadata()).format).toBe('jpeg');
    const pick = select(reply);
    expect(pick?.kind === 'select' && pick.options.slice(0, 2)).toEqual([
      {
        label: `1. imagine · ${jobs[9]!.shortId}`,
        short: '1',
        description: 'fox 9',
        action: { kind: 'open', jobId: jobs[9]!.id },
      },
      {
        label: `2. imagine · ${jobs[8]!.shortId}`,
        short: '2',
        description: 'fox 8',
        action: { kind: 'open', jobId: jobs[8]!.id },
      },
    ]);
    expect(actionsOf(reply?.rows).filter((a) => a.kind === 'open')).toHaveLength(9);
    expect(nav(reply)).toEqual([{ label: '▶', action: { kind: 'page', page: 1 } }]);
  });

  it('opens at the page asked for, and at the last one when asked for more', async () => {
    const { repo, d } = setup();
    const jobs = seedMany(repo, 10);
    const second = recordingContext();
    const beyond = recordingContext({ user: { locale: 'zh-TW' } });
    await d.command('gallery', { text: '2' }, second.ctx);
    await d.command('gallery', { text: '40' }, beyond.ctx);
    const pick = select(second.replies[0]);
    expect(pick?.kind === 'select' && pick.options.map((o) => o.action)).toEqual([
      { kind: 'open', jobId: jobs[0]!.id },
    ]);
    expect(nav(second.replies[0])).toEqual([{ label: '◀', action: { kind: 'page', page: 0 } }]);
    expect(beyond.replies[0]?.text).toBe('你的作品 — 第 2 / 2 頁。點數字即可開啟。');
  });

  it('describes an unfinished or failed job by its status when it has no text', async () => {
    const { repo, d } = setup();
    const swap = seedJob(repo, { workflow: 'faceswap', params: { face: 'a.png' }, status: 'failed' });
    const c = recordingContext();
    await d.command('gallery', { text: '' }, c.ctx);
    const pick = select(c.replies[0]);
    expect(pick?.kind === 'select' && pick.options[0]).toMatchObject({
      label: `1. faceswap · ${swap.shortId}`,
      description: 'failed',
    });
    expect(nav(c.replies[0])).toEqual([]);
  });

  it('thumbnails a job by its first image, and a video by its poster frame', async () => {
    const { repo, storage, d } = setup();
    const video = seedJob(repo, { workflow: 'video', params: { prompt: 'waves' }, at: 1 });
    mkdirSync(storage.resolveInside(`outputs/${video.id}`), { recursive: true });
    writeFileSync(storage.resolveInside(`outputs/${video.id}/poster.png`), await png(32, 32, '#00ff00'));
    const id = '0b9e1c1e-0000-4000-8000-000000000001';
    const out = imageOutput(id, 1);
    mkdirSync(path.dirname(storage.resolveInside(out.path)), { recursive: true });
    writeFileSync(storage.resolveInside(out.path), await png(32, 32, '#ff0000'));
    seedJob(repo, { id, outputs: [out], at: 2 });
    const c = recordingContext();
    await d.command('gallery', { text: '' }, c.ctx);
    const sheet = c.replies[0]!.image!.data;
    const [r1, g1] = await pixel(sheet, 8 + 128, 8 + 128);
    const [r2, g2] = await pixel(sheet, 8 + 256 + 8 + 128, 8 + 128);
    expect(r1).toBeGreaterThan(200);
    expect(g1).toBeLessThan(60);
    expect(g2).toBeGreaterThan(200);
    expect(r2).toBeLessThan(60);
  });
});

describe('gallery paging', () => {
  it('replaces the sheet in place', async () => {
    const { repo, d } = setup();
    seedMany(repo, 10);
    const c = recordingContext();
    await d.action(encodeAction({ kind: 'page', page: 1 }), c.ctx);
    expect(c.ops).toEqual(['defer', 'update']);
    expect(c.calls[0]).toEqual({ op: 'defer', opts: { update: true } });
    expect(c.replies[0]?.text).toBe('Your work — page 2 of 2. Tap a number to open it.');
  });
});

describe('opening a past job', () => {
  it('shows its images, its options and the result buttons again', async () => {
    const { repo, storage, d } = setup();
    const id = '0b9e1c1e-0000-4000-8000-000000000002';
    const outputs = [imageOutput(id, 1), imageOutput(id, 2)];
    const job = seedJob(repo, { id, params: { prompt: 'a fox', steps: 8, seed: 42 }, outputs });
    const c = recordingContext();
    await d.action(encodeAction({ kind: 'open', jobId: id }), c.ctx);
    expect(c.ops).toEqual(['reply']);
    const [reply] = c.replies;
    expect(reply?.text).toMatchInlineSnapshot(`
      "imagine · job 0b9e1c1e · done
      prompt: a fox
      steps: 8
      seed: 42"
    `);
    expect(reply?.private).toBe(true);
    expect(reply?.files).toEqual(outputs.map((o) => storage.resolveInside(o.path)));
    expect(actionsOf(reply?.rows)).toEqual([
      { kind: 'reroll', jobId: job.id },
      { kind: 'remix', jobId: job.id },
      { kind: 'star', jobId: job.id },
      // Upscale, Vary (subtle), Vary (strong), Animate (imagine's follow-ups) on each image.
      ...[1, 2].flatMap((index) => [1, 2, 3, 4].map((n) => ({ kind: 'follow_up', jobId: job.id, index, n }))),
    ]);
  });

  it('offers no follow-ups for a job without images', async () => {
    const { repo, d } = setup();
    const job = seedJob(repo, { status: 'failed' });
    const c = recordingContext({ user: { locale: 'zh-TW' } });
    await d.action({ kind: 'open', jobId: job.id }, c.ctx);
    expect(c.replies[0]?.files).toEqual([]);
    expect(actionsOf(c.replies[0]?.rows).map((a) => a.kind)).toEqual(['reroll', 'remix', 'star']);
    expect(c.replies[0]?.text.startsWith(`imagine · 任務 ${job.shortId} · 失敗`)).toBe(true);
  });

  it('opens nothing of someone else’s', async () => {
    const { repo, d } = setup();
    const job = seedJob(repo, { userId: '2' });
    const c = recordingContext();
    await d.action({ kind: 'open', jobId: job.id }, c.ctx);
    expect(c.calls).toEqual([{ op: 'fail', text: `No job ${job.id} of yours was found.` }]);
  });
});
