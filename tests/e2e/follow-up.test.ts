import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDiscordHarness } from '../support/discord-harness.js';
import { until } from '../support/pipeline.js';
import { buttonsOf, startTelegramHarness } from '../support/telegram-harness.js';

type Prompt = Record<string, { class_type: string; inputs: Record<string, unknown> }>;
type Comfy = Awaited<ReturnType<typeof startTelegramHarness>>['comfy'];

const prompts = (comfy: Comfy) =>
  comfy.requests.filter((r) => r.path === '/prompt').map((r) => (r.body as { prompt: Prompt }).prompt);
const uploads = (comfy: Comfy) => comfy.requests.filter((r) => r.path === '/upload/image').length;
/** What ComfyUI holds under this input name (what the worker uploaded). */
const comfyInput = async (comfy: Comfy, name: string) =>
  Buffer.from(await (await fetch(`${comfy.url}/view?filename=${encodeURIComponent(name)}&type=input`)).arrayBuffer());

describe('follow-ups on Telegram (grammY → fake Bot API; real Redis, worker, SQLite; fake ComfyUI)', () => {
  let h: Awaited<ReturnType<typeof startTelegramHarness>>;
  afterEach(async () => h?.close());

  it('a 4-image batch gets one row per image (U V V A), every callback within 64 bytes; Vary uploads the chosen image', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const cmd = h.telegram.userSends(alice, h.chats.group, { text: '/imagine a fox in snow --n 4 --seed 7' });
    const grid = await until(
      () => h.repliesTo(cmd).find((m) => m.caption?.startsWith('a fox in snow\nseed') && buttonsOf(m).length),
      'the grid with the buttons',
      20_000,
    );
    const rows = grid.reply_markup?.inline_keyboard ?? [];
    // Under the job's own buttons (Reroll, Remix, …), one row per image.
    expect(rows[0]?.slice(0, 2).map((b) => b.text)).toEqual(['🎲 Reroll', '✏️ Remix']);
    expect(rows.slice(1).map((r) => r.map((b) => b.text))).toEqual([
      ...[1, 2, 3, 4].map((n) => [
        `⬆️ Upscale ${n}`,
        `🔅 Vary (subtle) ${n}`,
        `🔆 Vary (strong) ${n}`,
        `🎬 Animate ${n}`,
      ]),
    ]);
    for (const b of rows.flat()) expect(Buffer.byteLength(b.callback_data ?? '')).toBeLessThanOrEqual(64);
    const job = h.role.core.repo.page({ platform: 'telegram', userId: String(alice.id) }, 0, 1).items[0]!;
    const before = uploads(h.comfy);

    h.telegram.userPresses(alice, grid, rows[2]![1]!.callback_data!); // Vary (subtle) 2
    const varied = await until(() => h.repliesTo(grid).find((m) => m.photo), 'the variation', 20_000);
    expect(varied.caption).toMatch(/^a fox in snow\nseed \d+ · /);
    expect(varied.caption).not.toMatch(/^a fox in snow\nseed 7 /);
    expect(uploads(h.comfy)).toBe(before + 1);
    const p = prompts(h.comfy).at(-1)!;
    expect(p.sampler?.inputs).toMatchObject({ denoise: 0.35, steps: 25, cfg: 7 });
    expect(p.sampler?.inputs.seed).not.toBe(7);
    expect(p.positive?.inputs.text).toBe('a fox in snow');
    expect(p.encode?.class_type).toBe('VAEEncode');
    // The image ComfyUI got is the second result, byte for byte.
    const second = readFileSync(path.join(h.config.storageDir, job.outputs[1]!.path));
    expect(await comfyInput(h.comfy, String(p.image?.inputs.image))).toEqual(second);
    // A variation can be varied again.
    await until(
      () => h.repliesTo(grid).find((m) => buttonsOf(m).some((b) => b.text === '🔆 Vary (strong) 1')),
      'the variation’s buttons',
    );
  });

  it('Animate sends the chosen image to the video workflow as its start frame, with the same prompt', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/imagine a red fox --ar 16:9' });
    const result = await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the photo', 20_000);
    const animate = buttonsOf(result).find((b) => b.text === '🎬 Animate 1')!;
    expect(animate.callback_data).toMatch(/^v1:f14:[0-9a-f-]{36}$/);
    h.telegram.userPresses(alice, result, animate.callback_data!);
    await until(() => h.telegram.callsTo('sendVideo').length, 'the video', 20_000);
    const p = prompts(h.comfy).at(-1)!;
    expect(p.i2v?.class_type).toBe('WanImageToVideo');
    expect(p.i2v?.inputs.start_image).toEqual(['start', 0]);
    expect(p.positive?.inputs.text).toBe('a red fox');
    const job = h.role.core.repo.page({ platform: 'telegram', userId: String(alice.id) }, 0, 2).items[1]!;
    expect(await comfyInput(h.comfy, String(p.start?.inputs.image))).toEqual(
      readFileSync(path.join(h.config.storageDir, job.outputs[0]!.path)),
    );
  });

  it('a stranger’s press on a follow-up runs nothing', async () => {
    h = await startTelegramHarness();
    const { alice, bob } = h.users;
    const cmd = h.telegram.userSends(alice, h.chats.group, { text: '/imagine a fox' });
    const result = await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the photo', 20_000);
    const submitted = h.comfy.submissions();
    h.telegram.userPresses(
      bob,
      result,
      buttonsOf(result).find((b) => b.text.includes('Vary (strong)'))!.callback_data!,
    );
    await until(() => h.telegram.callsTo('answerCallbackQuery').length, 'the refusal');
    expect(h.telegram.callsTo('answerCallbackQuery')[0]?.params).toMatchObject({ show_alert: true });
    expect(h.comfy.submissions()).toBe(submitted);
  });
});

describe('follow-ups on Discord (discord.js → fake REST + gateway; real Redis, worker, SQLite; fake ComfyUI)', () => {
  let h: Awaited<ReturnType<typeof startDiscordHarness>>;
  afterEach(async () => h?.close());

  it('a 4-image batch fits 5 rows of at most 5 buttons; Vary (strong) and Animate run on the chosen image', async () => {
    h = await startDiscordHarness();
    const { alice } = h.users;
    const { token } = h.discord.slash(
      alice,
      'imagine',
      [
        { name: 'prompt', type: 3, value: 'a fox in snow' },
        { name: 'count', type: 4, value: 4 },
      ],
      h.ctx,
    );
    const final = await until(
      () => (h.original(token)?.attachments.length ? h.original(token) : undefined),
      'the images',
      20_000,
    );
    const rows = final.components as Array<{ type: number; components: Array<{ label: string; custom_id: string }> }>;
    expect(rows.length).toBeLessThanOrEqual(5);
    for (const r of rows) expect(r.components.length).toBeLessThanOrEqual(5);
    expect(rows[0]?.components.slice(0, 2).map((b) => b.label)).toEqual(['🎲 Reroll', '✏️ Remix']);
    expect(rows.slice(1).map((r) => r.components.map((b) => b.label))).toEqual([
      ...[1, 2, 3, 4].map((n) => [
        `⬆️ Upscale ${n}`,
        `🔅 Vary (subtle) ${n}`,
        `🔆 Vary (strong) ${n}`,
        `🎬 Animate ${n}`,
      ]),
    ]);
    expect(h.discord.calls.filter((c) => c.status >= 400)).toEqual([]);
    const job = h.role.core.repo.page({ platform: 'discord', userId: alice.id }, 0, 1).items[0]!;

    const strong = h.discord.component(alice, final, rows[3]!.components[2]!.custom_id, h.ctx); // Vary (strong) 3
    await until(() => h.original(strong.token)?.attachments.length, 'the variation', 20_000);
    const vary = prompts(h.comfy).at(-1)!;
    expect(vary.sampler?.inputs.denoise).toBe(0.7);
    expect(vary.positive?.inputs.text).toBe('a fox in snow');
    expect(await comfyInput(h.comfy, String(vary.image?.inputs.image))).toEqual(
      readFileSync(path.join(h.config.storageDir, job.outputs[2]!.path)),
    );

    const animate = h.discord.component(alice, final, rows[1]!.components[3]!.custom_id, h.ctx); // Animate 1
    await until(() => h.original(animate.token)?.attachments.length, 'the video', 20_000);
    const video = prompts(h.comfy).at(-1)!;
    expect(video.i2v?.inputs.start_image).toEqual(['start', 0]);
    expect(video.positive?.inputs.text).toBe('a fox in snow');
    expect(await comfyInput(h.comfy, String(video.start?.inputs.image))).toEqual(
      readFileSync(path.join(h.config.storageDir, job.outputs[0]!.path)),
    );
    expect(h.original(animate.token)?.attachments[0]?.filename).toMatch(/\.mp4$/);
  });
});
