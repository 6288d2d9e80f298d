import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Api } from 'grammy';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { createTelegramSink } from '../../src/bots/telegram/sink.js';
import type { TgMessage } from '../fakes/telegram/server.js';
import { startDiscordHarness } from '../support/discord-harness.js';
import { memoryLogger } from '../support/logger.js';
import { until } from '../support/pipeline.js';
import { buttonsOf, startTelegramHarness, TOKEN } from '../support/telegram-harness.js';

/** A message in forum topic 42, as Telegram marks one. */
const inTopic = <T extends object>(m: T) => Object.assign(m, { message_thread_id: 42, is_topic_message: true });

describe('result delivery on Telegram', () => {
  let h: Awaited<ReturnType<typeof startTelegramHarness>>;
  afterEach(async () => h?.close());

  it('stays in the command’s forum topic, and a video goes with its size, length and poster thumbnail', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const { group } = h.chats;
    const cmd = inTopic(h.telegram.userSends(alice, group, { text: '/imagine a fox in a topic --n 2' }));
    const grid = await until(
      () => h.repliesTo(cmd).find((m) => m.caption?.startsWith('a fox in a topic') && buttonsOf(m).length),
      'the grid with the buttons',
      20_000,
    );
    const sends = () => h.telegram.calls.filter((c) => c.chatId === group.id && /^send/.test(c.method));
    expect(sends().map((c) => c.method)).toEqual(expect.arrayContaining(['sendMessage', 'sendMediaGroup']));
    for (const c of sends()) expect(Number(c.params.message_thread_id), c.method).toBe(42);

    // The grid sits in the topic too; Animate 1 from it.
    const animate = buttonsOf(grid).find((b) => b.text === '🎬 Animate 1')!;
    h.telegram.userPresses(alice, inTopic({ ...grid }) as TgMessage, animate.callback_data!);
    const call = await until(() => h.telegram.callsTo('sendVideo').find((c) => c.status === 200), 'the video', 20_000);
    expect(Number(call.params.message_thread_id)).toBe(42);
    // video.json makes 81 frames at 16 fps, 640×640 by default.
    expect([call.params.width, call.params.height, call.params.duration].map(Number)).toEqual([640, 640, 5]);
    expect(String(call.params.supports_streaming)).toBe('true');
    const thumb = call.files[String(call.params.thumbnail).replace('attach://', '')];
    const meta = await sharp(thumb!.bytes).metadata();
    expect(meta.format).toBe('jpeg');
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThanOrEqual(320);
    expect(thumb!.bytes.length).toBeLessThan(200_000);
    for (const c of sends()) expect(Number(c.params.message_thread_id), c.method).toBe(42);
  });

  it('a photo Telegram got recompressed has ⬇️ Original, which sends the untouched PNG as a document', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    // A finished job whose only image is an uncompressed 1900×1900 PNG, over the 10 MB photo limit (cheap to recompress).
    const id = randomUUID();
    const rel = `outputs/${id}/01.png`;
    mkdirSync(path.join(h.config.storageDir, 'outputs', id), { recursive: true });
    await sharp({ create: { width: 1900, height: 1900, channels: 3, background: '#336699' } })
      .png({ compressionLevel: 0, adaptiveFiltering: false })
      .toFile(path.join(h.config.storageDir, rel));
    const original = readFileSync(path.join(h.config.storageDir, rel));
    expect(original.length).toBeGreaterThan(10_000_000);
    h.role.core.repo.insert({
      id,
      platform: 'telegram',
      userId: String(alice.id),
      workflow: 'imagine',
      params: { prompt: 'noise' },
      chatId: String(alice.id),
    });
    h.role.core.repo.finish(id, {
      status: 'succeeded',
      outputs: [{ path: rel, kind: 'image', mime: 'image/png', bytes: original.length, node: 'save' }],
    });
    const sink = createTelegramSink({
      api: new Api(TOKEN, { apiRoot: h.telegram.apiRoot }),
      chatId: alice.id,
      locale: 'en',
      logger: memoryLogger().logger,
      followUpsOf: (name) => h.role.core.workflows.get(name)?.manifest.followUps ?? [],
    });
    await sink.showResult({
      jobId: id,
      shortId: id.slice(0, 8),
      locale: 'en',
      workflow: 'imagine',
      params: { prompt: 'noise' },
      files: [
        {
          path: rel,
          absolutePath: path.join(h.config.storageDir, rel),
          kind: 'image',
          mime: 'image/png',
          bytes: original.length,
          node: 'save',
        },
      ],
      durationMs: 1000,
      text: 'Done',
    });
    expect(h.telegram.callsTo('sendPhoto')).toHaveLength(1); // the recompressed photo
    const controls = h.telegram.botMessages(alice.id).find((m) => buttonsOf(m).length)!;
    const row = buttonsOf(controls).filter((b) => b.text.endsWith(' 1'));
    expect(row.map((b) => b.text)).toEqual([
      '⬆️ Upscale 1',
      '🔅 Vary (subtle) 1',
      '🔆 Vary (strong) 1',
      '🎬 Animate 1',
      '⬇️ Original 1',
    ]);
    h.telegram.userPresses(alice, controls, row.at(-1)!.callback_data!);
    const doc = await until(
      () => h.telegram.callsTo('sendDocument').find((c) => c.status === 200),
      'the original as a document',
    );
    expect(doc.params.caption).toBe(`Original file of image 1 · job ${id.slice(0, 8)}`);
    expect(doc.files[String(doc.params.document).replace('attach://', '')]?.bytes.equals(original)).toBe(true);
  });
});

describe('result delivery on Discord', () => {
  let h: Awaited<ReturnType<typeof startDiscordHarness>>;
  afterEach(async () => h?.close());

  it('the “progress continues here” link names the server in a guild and @me in a DM', async () => {
    h = await startDiscordHarness({ DISCORD_HANDOVER_S: '1' });
    const dm = { channelId: '400000000000000009' };
    for (const [ctx, where, prompt] of [
      [h.ctx, h.guildId, 'a guild fox'],
      [dm, '@me', 'a dm fox'],
    ] as const) {
      h.comfy.script({ holdAt: 'sampler' });
      const { token } = h.discord.slash(h.users.alice, 'imagine', [{ name: 'prompt', type: 3, value: prompt }], ctx);
      await until(() => h.comfy.isHolding(), 'the sampler', 20_000);
      await new Promise((r) => setTimeout(r, 1300)); // past DISCORD_HANDOVER_S: the next edit moves to the channel
      h.comfy.release();
      await until(
        () =>
          h.discord
            .channelMessages(ctx.channelId)
            .find((m) => m.content.startsWith(`<@${h.users.alice.id}> ${prompt}`)),
        'the result in the channel',
        20_000,
      );
      const link = /^Progress continues here: (https:\/\/discord\.com\/channels\/[^/]+\/\d+\/(\d+))$/.exec(
        h.original(token)?.content ?? '',
      );
      expect(link?.[1]).toBe(`https://discord.com/channels/${where}/${ctx.channelId}/${link?.[2]}`);
      expect(h.discord.channelMessages(ctx.channelId).map((m) => m.id)).toContain(link?.[2]);
    }
  });

  it('a status message someone deleted (10008) is posted again, and the result arrives there', async () => {
    h = await startDiscordHarness();
    h.comfy.script({ holdAt: 'sampler' });
    const { token } = h.discord.slash(
      h.users.alice,
      'imagine',
      [{ name: 'prompt', type: 3, value: 'a shy fox' }],
      h.ctx,
    );
    await until(() => h.comfy.isHolding(), 'the sampler', 20_000);
    const first = await until(() => h.original(token), 'the reply');
    h.discord.messages.get(first.id)!.deleted = true;
    h.comfy.release();
    const result = await until(
      () =>
        h.discord.channelMessages(h.channelId).find((m) => m.content.startsWith('a shy fox') && m.attachments.length),
      'the result on a re-posted message',
      20_000,
    );
    expect(result.id).not.toBe(first.id);
    expect(h.discord.calls.some((c) => c.code === 10008)).toBe(true);
    expect(
      h.discord.calls.some((c) => c.method === 'POST' && c.path.includes(`/webhooks/`) && c.path.endsWith(token)),
    ).toBe(true);
  });
});
