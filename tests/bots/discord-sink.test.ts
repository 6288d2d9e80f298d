import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REST } from 'discord.js';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiscordSink } from '../../src/bots/discord/sink.js';
import { createSendScheduler, type SendScheduler } from '../../src/bots/send-scheduler.js';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord/server.js';
import { memoryLogger } from '../support/logger.js';

const TOKEN = `MTAw.${'x'.repeat(60)}`;

describe('Discord result delivery within the upload limit', () => {
  let dc: FakeDiscord;
  afterEach(async () => dc?.close());

  it('recompresses an image above attachment_size_limit so it fits, and posts it mentioning the user', async () => {
    dc = await startFakeDiscord({ token: TOKEN, uploadCap: 400_000 });
    const rest = new REST({ api: dc.apiUrl }).setToken(TOKEN);
    const dir = mkdtempSync(path.join(tmpdir(), 'dc-'));
    const jobId = randomUUID();
    mkdirSync(path.join(dir, 'outputs', jobId), { recursive: true });
    const noisy = path.join(dir, 'outputs', jobId, '01.png');
    await sharp(randomBytes(700 * 700 * 3), { raw: { width: 700, height: 700, channels: 3 } })
      .png()
      .toFile(noisy);
    expect(statSync(noisy).size).toBeGreaterThan(400_000);
    const sink = createDiscordSink({
      rest,
      appId: dc.appId,
      tokenCreatedAt: 0,
      channelId: '400000000000000009',
      userId: '300000000000000001',
      locale: 'en',
      uploadCap: 400_000,
      canPost: true,
      handoverMs: 780_000,
      rolloverMs: 3_300_000,
      logger: memoryLogger().logger,
    });
    const file = {
      path: path.relative(dir, noisy),
      absolutePath: noisy,
      kind: 'image' as const,
      mime: 'image/png',
      bytes: statSync(noisy).size,
      node: 'save',
    };
    await sink.showResult({
      jobId,
      shortId: jobId.slice(0, 8),
      locale: 'en',
      workflow: 'imagine',
      params: { prompt: 'noise', seed: 1 },
      files: [file],
      durationMs: 5000,
      text: 'Done',
    });
    const [msg] = dc.channelMessages('400000000000000009');
    expect(msg?.content).toMatch(/^<@300000000000000001> noise\nseed 1 · 0:05 · job /);
    expect(msg?.attachments.map((a) => a.filename)).toEqual(['01.jpg']);
    expect(msg!.attachments[0]!.size).toBeLessThanOrEqual(400_000);
  });
});

describe('Discord progress with a live preview, and the ping after a long job', () => {
  let dc: FakeDiscord;
  afterEach(async () => dc?.close());
  const channelId = '400000000000000009';
  const userId = '300000000000000001';

  /** A deferred slash command, as the frontend leaves it before the first progress edit. */
  async function deferred(scheduler?: SendScheduler) {
    dc = await startFakeDiscord({ token: TOKEN });
    const rest = new REST({ api: dc.apiUrl }).setToken(TOKEN);
    const user = { id: userId, username: 'alice', discriminator: '0', avatar: null };
    const { id, token } = dc.slash(user, 'imagine', [], { channelId });
    await rest.post(`/interactions/${id}/${token}/callback`, { body: { type: 5 }, auth: false });
    const sink = createDiscordSink({
      rest,
      appId: dc.appId,
      token,
      tokenCreatedAt: Date.now(),
      channelId,
      userId,
      locale: 'en',
      uploadCap: 10 * 1024 * 1024,
      canPost: true,
      handoverMs: 780_000,
      rolloverMs: 3_300_000,
      logger: memoryLogger().logger,
      graceMs: 1000, // PROGRESS_GRACE_S=1
      scheduler,
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'dc-'));
    const frame = (n: number) => {
      const p = path.join(dir, `preview-${n}.jpg`);
      return sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 40 * n, g: 80, b: 120 } } })
        .jpeg()
        .toFile(p)
        .then(() => p);
    };
    return { sink, token, frame, dir };
  }
  const progress = (text: string, previewPath?: string) => ({
    jobId: 'abcdef01-0000-4000-8000-000000000001',
    shortId: 'abcdef01',
    locale: 'en' as const,
    text,
    percent: 0,
    bar: '',
    isRunning: true,
    canCancel: true,
    ...(previewPath ? { previewPath, previewSeq: 1 } : {}),
  });

  it('carries the preview as the reply’s one attachment: a new frame replaces it, a text edit keeps it', async () => {
    const { sink, token, frame } = await deferred();
    await sink.showProgress(progress('Generating 20%', await frame(1)));
    await sink.showProgress(progress('Generating 50%', await frame(2)));
    const afterSecond = dc.original(token)?.attachments.map((a) => a.id);
    await sink.showProgress(progress('Generating 70%'));
    const msg = dc.original(token);
    expect(msg?.content).toBe('Generating 70%');
    expect(msg?.attachments.map((a) => a.filename)).toEqual(['preview.jpg']);
    expect(msg?.attachments.map((a) => a.id)).toEqual(afterSecond);
  });

  it('waits its grace under “thinking…” only while it has an interaction to edit', async () => {
    const { sink } = await deferred();
    expect(sink.graceMs).toBe(1000);
    const rest = new REST({ api: dc.apiUrl }).setToken(TOKEN);
    const restored = createDiscordSink({
      rest,
      appId: dc.appId,
      tokenCreatedAt: 0,
      channelId,
      userId,
      locale: 'en',
      uploadCap: 10 * 1024 * 1024,
      canPost: true,
      handoverMs: 780_000,
      rolloverMs: 3_300_000,
      logger: memoryLogger().logger,
    });
    expect(restored.graceMs).toBe(0); // after a restart: a channel message to edit at once
  });

  it('takes a turn in the channel’s budget for every call: a result of 11 pictures, an edit and a followup, takes two', async () => {
    const real = createSendScheduler({ budgetOf: () => ({ window: { limit: 5, ms: 5_000 }, reserve: 1 }) });
    const lanes: string[] = [];
    const scheduler: SendScheduler = {
      ...real,
      acquire: (chat, lane, opts) => (lanes.push(lane), real.acquire(chat, lane, opts)),
    };
    const { sink, token, dir } = await deferred(scheduler);
    const files = await Promise.all(
      Array.from({ length: 11 }, async (_, i) => {
        const p = path.join(dir, `0${i}.png`);
        await sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } })
          .png()
          .toFile(p);
        return { path: `0${i}.png`, absolutePath: p, kind: 'image' as const, mime: 'image/png', bytes: 1, node: 's' };
      }),
    );
    await sink.showResult({
      jobId: 'abcdef01-0000-4000-8000-000000000001',
      shortId: 'abcdef01',
      locale: 'en',
      workflow: 'imagine',
      params: { prompt: 'foxes' },
      files,
      durationMs: 4000,
      text: 'Done',
    });
    expect(dc.original(token)?.attachments).toHaveLength(10);
    expect(dc.calls.filter((c) => c.path.startsWith('/webhooks/') && c.method !== 'GET').map((c) => c.method)).toEqual([
      'PATCH',
      'POST',
    ]);
    expect(lanes).toEqual(['final', 'final']);
  });

  it('pings a long job’s user in the channel, mentioning only them, when the result was an edit', async () => {
    const { sink, token } = await deferred();
    await sink.showProgress(progress('Generating'));
    await sink.showFailure({
      jobId: 'abcdef01-0000-4000-8000-000000000001',
      shortId: 'abcdef01',
      locale: 'en',
      failure: { kind: 'execution', message: 'OOM' },
      text: 'Generation failed: OOM',
      notify: true,
    });
    expect(dc.original(token)?.content).toBe('Generation failed: OOM');
    const [ping] = dc.channelMessages(channelId).filter((m) => !m.interactionToken);
    expect(ping?.content).toBe(`<@${userId}> ⚠️ Your job abcdef01 ended without a result.`);
    expect(ping?.allowed_mentions).toEqual({ users: [userId] });
  });
});
