import { afterEach, describe, expect, it } from 'vitest';
import { png, wav } from '../support/media.js';
import { until } from '../support/pipeline.js';
import { buttonsOf, startTelegramHarness } from '../support/telegram-harness.js';

type Harness = Awaited<ReturnType<typeof startTelegramHarness>>;

describe('Telegram bot: language, upscale, help, restarts', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('speaks Traditional Chinese to a zh-hant user, from queue to result buttons', async () => {
    h = await startTelegramHarness();
    h.comfy.script({ stepDelayMs: 40 });
    const { bob } = h.users;
    const cmd = h.telegram.userSends(bob, h.chats.dmBob, { text: '/imagine 雪地裡的紅狐狸 --steps 25' });
    const done = await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the photo', 20_000);
    const texts = h.telegram.callsTo('editMessageText').map((c) => String(c.params.text));
    expect(texts.some((x) => /^生成中 · 任務 [0-9a-f]{8}/.test(x) || /^準備開始… · 任務/.test(x))).toBe(true);
    expect(done.caption).toMatch(/^雪地裡的紅狐狸\n種子 \d+ · 0:0\d · 任務 [0-9a-f]{8}$/);
    expect(buttonsOf(done).map((b) => b.text)).toEqual([
      '🎲 重抽',
      '✏️ 重新混合',
      '⭐ 收藏',
      '⬆️ 放大 1',
      '🔅 微幅變化 1',
      '🔆 大幅變化 1',
      '🎬 做成影片 1',
    ]);
    const help = h.telegram.userSends(bob, h.chats.dmBob, { text: '/help' });
    expect((await h.reply(help, /^指令：/)).text).toContain('/imagine <prompt> — 根據文字描述生成圖片');
  });

  it('talk: a photo captioned /talk, replying to a voice message, comes back as a video', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const voice = h.telegram.userSends(alice, h.chats.dmAlice, { voice: wav(2) });
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, {
      photo: await png(256, 256),
      caption: '/talk --seconds 5',
      replyTo: voice,
    });
    await until(() => h.telegram.callsTo('sendVideo').length, 'the video', 20_000);
    const buttons = await until(
      () => h.repliesTo(cmd).find((m) => m.text?.startsWith('a person')),
      'the caption message',
    );
    expect(buttons.text).toMatch(/^a person talking naturally/);
    const prompt = h.comfy.requests.filter((r) => r.path === '/prompt').at(-1)!.body as {
      prompt: Record<string, { inputs: Record<string, unknown> }>;
    };
    expect(prompt.prompt.voice?.inputs.audio).toMatch(/-audio\.wav$/);
  });

  it('Upscale 1 runs the upscale workflow on that image', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/imagine a tiny fox' });
    const result = await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the photo', 20_000);
    h.telegram.userPresses(alice, result, buttonsOf(result).find((b) => b.text === '⬆️ Upscale 1')!.callback_data!);
    const up = await until(() => h.repliesTo(result).find((m) => m.photo), 'the upscaled photo', 20_000);
    expect(up.caption).toMatch(/^upscale\nseed – · /);
    const last = h.comfy.requests.filter((r) => r.path === '/prompt').at(-1)!.body as {
      prompt: Record<string, { class_type: string }>;
    };
    expect(last.prompt.upscale?.class_type).toBe('ImageUpscaleWithModel');
  });

  it('answers /start, /help and /models from the manifests and ComfyUI’s model lists', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    await h.reply(h.telegram.userSends(alice, h.chats.dmAlice, { text: '/start' }), /^Hi! I turn text/);
    const help = await h.reply(h.telegram.userSends(alice, h.chats.dmAlice, { text: '/help' }), /^Commands:/);
    expect(help.text).toContain('--aspect/--ar 1:1 | 16:9 | 9:16 | 4:3 | 3:4 | 3:2 | 2:3');
    expect(help.text).toContain('/edit <instruction> 📎 — Change a picture with an instruction');
    const models = await h.reply(
      h.telegram.userSends(alice, h.chats.dmAlice, { text: '/models' }),
      /^Models you can pick:/,
    );
    expect(models.text).toContain('/imagine --model:\n• v1-5-pruned-emaonly.safetensors\n• dreamshaper_8.safetensors');
  });

  it('a restarted bot finishes the job it was showing: same message, result delivered once', async () => {
    h = await startTelegramHarness();
    h.comfy.script({ holdAt: 'sampler' });
    const { alice } = h.users;
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/imagine a patient fox' });
    await until(() => h.comfy.isHolding(), 'the sampler', 20_000);
    const progress = await until(() => h.repliesTo(cmd)[0], 'the progress message');
    await h.restartBot();
    h.comfy.release();
    await until(
      () => h.telegram.message(progress.chat.id, progress.message_id)?.photo,
      'the photo on the same message',
      20_000,
    );
    expect(h.repliesTo(cmd)).toHaveLength(1);
    expect(h.telegram.callsTo('editMessageMedia')).toHaveLength(1);
  });

  it('jobs in one group share that chat’s edit budget: never more than one call a second to the group', async () => {
    h = await startTelegramHarness({}, { secondGpu: true });
    h.comfy.script({ stepDelayMs: 50 });
    h.comfy2!.script({ stepDelayMs: 50 });
    const { alice, bob } = h.users;
    const a = h.telegram.userSends(alice, h.chats.group, { text: '/imagine@relay_bot fox one --steps 60' });
    const b = h.telegram.userSends(bob, h.chats.group, { text: '/imagine@relay_bot fox two --steps 60' });
    await until(
      () => h.repliesTo(a).some((m) => m.photo) && h.repliesTo(b).some((m) => m.photo),
      'both photos',
      30_000,
    );
    const toGroup = h.telegram.calls.filter((c) => c.chatId === h.chats.group.id).map((c) => c.at);
    const gaps = toGroup.slice(1).map((t, i) => t - (toGroup[i] as number));
    expect(toGroup.length).toBeGreaterThan(4);
    // The throttler spaces group calls 1 s apart (20 a minute); both jobs' edits queue behind each other.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(950);
    expect(h.comfy.historyIds().length + h.comfy2!.historyIds().length).toBe(2);
  }, 60_000);

  it('an allowlist keeps strangers out, politely', async () => {
    h = await startTelegramHarness({ ALLOWED_USERS: 'telegram:1001' });
    await h.reply(
      h.telegram.userSends(h.users.bob, h.chats.dmBob, { text: '/imagine a fox' }),
      /^抱歉，你無法在這裡使用這個機器人。$/,
    );
    await h.reply(
      h.telegram.userSends(h.users.alice, h.chats.dmAlice, { text: '/imagine a fox' }),
      /^Queued|^Generating|^Starting/,
    );
  });
});

describe('capability-aware routing', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('refuses a workflow no online GPU can run, saying what is missing', async () => {
    h = await startTelegramHarness();
    const cmd = h.telegram.userSends(h.users.alice, h.chats.dmAlice, { photo: await png(), caption: '/faceswap' });
    await h.reply(
      cmd,
      /^No GPU server that can run \/faceswap is online right now \(it needs nodes ReActorFaceSwap\)\.$/,
    );
    expect(h.comfy.submissions()).toBe(0);
    expect(h.role.core.repo.page({ platform: 'telegram', userId: String(h.users.alice.id) }, 0, 1).total).toBe(0);
  });
});
