import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Api } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { createTelegramSink } from '../../src/bots/telegram/sink.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram/server.js';
import { memoryLogger } from '../support/logger.js';

const TOKEN = '123456:TEST-token-for-the-fake-server';

describe('Telegram result delivery within limits', () => {
  let tg: FakeTelegram;
  afterEach(async () => tg?.close());

  it('sends a video as video, audio as audio, and a file above the upload cap as a download link', async () => {
    tg = await startFakeTelegram({ token: TOKEN });
    const api = new Api(TOKEN, { apiRoot: tg.apiRoot });
    const dir = mkdtempSync(path.join(tmpdir(), 'tg-'));
    const jobId = randomUUID();
    mkdirSync(path.join(dir, 'outputs', jobId), { recursive: true });
    const small = path.join(dir, 'outputs', jobId, '01.mp4');
    const big = path.join(dir, 'outputs', jobId, '02.mp4');
    writeFileSync(small, Buffer.alloc(100, 1));
    writeFileSync(big, Buffer.alloc(5000, 1));
    const flac = path.join(dir, 'outputs', jobId, '03.flac');
    writeFileSync(flac, Buffer.from('fLaC\0\0\0\x22'));
    const sink = createTelegramSink({
      api,
      chatId: 42,
      locale: 'en',
      logger: memoryLogger().logger,
      canUpscale: false,
      maxUploadBytes: 1000,
      linkFor: (rel) => ({ url: `https://relay.example/files/${rel}?exp=1&sig=s`, hours: 24 }),
    });
    const file = (p: string, bytes: number) => ({
      path: path.relative(dir, p),
      absolutePath: p,
      kind: 'video' as const,
      mime: 'video/mp4',
      bytes,
      node: 'save',
    });
    await sink.showResult({
      jobId,
      shortId: jobId.slice(0, 8),
      locale: 'en',
      workflow: 'talk',
      params: { prompt: 'hello' },
      files: [file(small, 100), file(big, 5000), { ...file(flac, 8), kind: 'audio' as const, mime: 'audio/flac' }],
      durationMs: 61_000,
      text: 'Done',
    });
    expect(tg.callsTo('sendVideo')).toHaveLength(1);
    expect(tg.callsTo('sendAudio')).toHaveLength(1);
    const texts = tg
      .botMessages(42)
      .map((m) => m.text)
      .filter(Boolean);
    expect(texts[0]).toBe(
      `02.mp4 (0.0 MB) is too large to send here. Download it (the link works for 24 h): https://relay.example/files/outputs/${jobId}/02.mp4?exp=1&sig=s`,
    );
    expect(texts.at(-1)).toMatch(/^hello\nseed – · 1:01 · job /);
  });
});
