import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REST } from 'discord.js';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiscordSink } from '../../src/bots/discord/sink.js';
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
      canUpscale: false,
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
