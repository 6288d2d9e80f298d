import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Api } from 'grammy';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProgressView } from '../../src/bots/progress/sink.js';
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

describe('Telegram progress message with a live preview', () => {
  let tg: FakeTelegram;
  afterEach(async () => tg?.close());

  async function setup() {
    tg = await startFakeTelegram({ token: TOKEN });
    const api = new Api(TOKEN, { apiRoot: tg.apiRoot });
    const dir = mkdtempSync(path.join(tmpdir(), 'tg-'));
    const frame = path.join(dir, 'preview.jpg');
    await sharp({ create: { width: 320, height: 320, channels: 3, background: '#336699' } })
      .jpeg()
      .toFile(frame);
    const chat = { id: 42, type: 'private' as const, first_name: 'Alice' };
    const user = { id: 42, is_bot: false, first_name: 'Alice' };
    const command = tg.userSends(user, chat, { text: '/imagine a fox' });
    const sinkAt = (messageId?: number) =>
      createTelegramSink({
        api,
        chatId: 42,
        replyTo: command.message_id,
        messageId,
        locale: 'en',
        logger: memoryLogger().logger,
        graceMs: 1000, // PROGRESS_GRACE_S=1
      });
    return { api, frame, command, sinkAt };
  }
  const progress = (text: string, previewPath?: string): ProgressView => ({
    jobId: 'abcdef01-0000-4000-8000-000000000001',
    shortId: 'abcdef01',
    locale: 'en',
    text,
    percent: 0,
    bar: '',
    isRunning: true,
    canCancel: true,
    ...(previewPath ? { previewPath, previewSeq: 1 } : {}),
  });

  it('becomes a photo captioned with the progress text, then edits only the caption', async () => {
    const { frame, sinkAt, command } = await setup();
    const sink = sinkAt();
    await sink.showProgress(progress('Queued'));
    await sink.showProgress(progress('Generating 40%', frame));
    await sink.showProgress(progress('Generating 80%'));
    const [msg] = tg.botMessages(42);
    expect(msg?.reply_to_message?.message_id).toBe(command.message_id);
    expect(msg?.photo?.[0]?.width).toBe(320);
    expect(msg?.caption).toBe('Generating 80%');
    expect(tg.calls.map((c) => `${c.method} ${c.status}`)).toEqual([
      'sendMessage 200',
      'editMessageMedia 200',
      'editMessageCaption 200',
    ]);
    expect(JSON.stringify(msg?.reply_markup)).toContain('v1:c:');
  });

  it('after a restart, finds out the message is a photo and edits its caption', async () => {
    const { frame, sinkAt } = await setup();
    const first = sinkAt();
    await first.showProgress(progress('Generating 40%', frame));
    const id = tg.botMessages(42)[0]!.message_id;
    await sinkAt(id).showProgress(progress('The bot is restarting'));
    expect(tg.botMessages(42)).toHaveLength(1);
    expect(tg.message(42, id)?.caption).toBe('The bot is restarting');
  });

  it('shows the text alone when the preview frame cannot be read', async () => {
    const { sinkAt } = await setup();
    const sink = sinkAt();
    await sink.showProgress(progress('Generating 40%', '/nonexistent/preview.jpg'));
    expect(tg.botMessages(42).map((m) => m.text)).toEqual(['Generating 40%']);
  });

  it('a new job waits its grace under “sending a photo…”; its photo alone answers a job done by then', async () => {
    const { frame, sinkAt, command, api } = await setup();
    const sink = sinkAt();
    expect(sink.graceMs).toBe(1000);
    expect(sinkAt(7).graceMs).toBe(0); // a message kept over a restart is edited at once
    await sink.showActivity?.();
    await sink.showResult({
      jobId: 'abcdef01-0000-4000-8000-000000000001',
      shortId: 'abcdef01',
      locale: 'en',
      workflow: 'imagine',
      params: { prompt: 'a fox', seed: 7 },
      files: [{ path: 'p.jpg', absolutePath: frame, kind: 'image', mime: 'image/jpeg', bytes: 1, node: 'save' }],
      durationMs: 400,
      text: 'Done',
    });
    expect(tg.calls.map((c) => `${c.method} ${c.params.action ?? ''} ${c.status}`)).toEqual([
      'sendChatAction upload_photo 200',
      'sendPhoto  200',
    ]);
    const [msg] = tg.botMessages(42);
    expect(msg?.reply_to_message?.message_id).toBe(command.message_id);
    expect(msg?.caption).toMatch(/^a fox\nseed 7/);
    // In a group the chat action would spend one of the 20 sends a minute every member's jobs share.
    const group = createTelegramSink({ api, chatId: -100777, locale: 'en', logger: memoryLogger().logger });
    await group.showActivity?.();
    expect(tg.calls).toHaveLength(2);
  });

  it('pings the user with a reply to the command when a long job ends, besides the edit', async () => {
    const { sinkAt, command } = await setup();
    const sink = sinkAt();
    await sink.showProgress(progress('Generating'));
    await sink.showFailure({
      jobId: 'abcdef01-0000-4000-8000-000000000001',
      shortId: 'abcdef01',
      locale: 'en',
      failure: { kind: 'execution', message: 'OOM' },
      text: 'Generation failed: OOM',
      notify: true,
    });
    const [status, ping] = tg.botMessages(42);
    expect(status?.text).toBe('Generation failed: OOM');
    expect(ping?.text).toBe('⚠️ Your job abcdef01 ended without a result.');
    expect(ping?.reply_to_message?.message_id).toBe(command.message_id);
  });
});
