import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/pipeline.js';
import { buttonsOf, startTelegramHarness } from '../support/telegram-harness.js';

type Harness = Awaited<ReturnType<typeof startTelegramHarness>>;
const png = (w = 64, h = 64) =>
  sharp({ create: { width: w, height: h, channels: 3, background: '#884422' } })
    .png()
    .toBuffer();

describe('Telegram bot end to end (grammY → fake Bot API; real Redis, worker, SQLite; fake ComfyUI)', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('imagine in a private chat: one message goes from queued through progress to the photo with buttons', async () => {
    h = await startTelegramHarness();
    h.comfy.script({ stepDelayMs: 40 });
    const { alice } = h.users;
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, {
      text: '/imagine a red fox in snow --ar 16:9 --steps 30',
    });
    const done = await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the photo', 20_000);
    // The progress message itself became the photo (edited in place, not a second message).
    expect(h.repliesTo(cmd)).toHaveLength(1);
    const edits = h.telegram
      .callsTo('editMessageText')
      .filter((c) => c.params.message_id === done.message_id && c.status === 200);
    expect(edits.some((c) => /Generating · job [0-9a-f]{8}\n[█░]+ \d+%/.test(String(c.params.text)))).toBe(true);
    expect(JSON.stringify(edits[0]?.params.reply_markup)).toContain('v1:c:');
    expect(done.caption).toMatch(/^a red fox in snow\nseed \d+ · 0:0\d · job [0-9a-f]{8}$/);
    expect(buttonsOf(done).map((b) => b.text)).toEqual([
      '🎲 Reroll',
      '✏️ Remix',
      '⭐ Star',
      '⬆️ Upscale 1',
      '🔅 Vary (subtle) 1',
      '🔆 Vary (strong) 1',
      '🎬 Animate 1',
    ]);
    const meta = await sharp(
      h.telegram.calls.find((c) => c.method === 'editMessageMedia')!.files[
        Object.keys(h.telegram.calls.find((c) => c.method === 'editMessageMedia')!.files)[0]!
      ]!.bytes,
    ).metadata();
    expect([meta.width, meta.height]).toEqual([768, 432]);
    // Never an edit Telegram would refuse as "not modified".
    expect(h.telegram.calls.filter((c) => c.status === 400)).toEqual([]);
    const row = h.role.core.repo.page({ platform: 'telegram', userId: String(alice.id) }, 0, 1).items[0]!;
    expect(row).toMatchObject({ status: 'succeeded', chatId: String(alice.id), messageId: String(done.message_id) });
    expect(h.telegram.callsTo('setMyCommands').map((c) => c.params.language_code ?? 'default')).toEqual([
      'default',
      'zh',
    ]);
  });

  it('in a group: /imagine@bot with 2 images gives an album plus the buttons message; other bots’ commands are ignored', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const other = h.telegram.userSends(alice, h.chats.group, { text: '/imagine@other_bot a cat' });
    const cmd = h.telegram.userSends(alice, h.chats.group, { text: '/imagine@relay_bot a fox --n 2' });
    await until(() => h.telegram.callsTo('sendMediaGroup').length === 1, 'the album', 20_000);
    const buttons = await until(
      () => h.repliesTo(cmd).find((m) => m.caption?.startsWith('a fox\nseed')),
      'the grid with the buttons',
    );
    expect(buttons.reply_markup?.inline_keyboard?.map((row) => row.map((b) => b.text))).toEqual([
      ['🎲 Reroll', '✏️ Remix', '⭐ Star'],
      ['⬆️ Upscale 1', '🔅 Vary (subtle) 1', '🔆 Vary (strong) 1', '🎬 Animate 1'],
      ['⬆️ Upscale 2', '🔅 Vary (subtle) 2', '🔆 Vary (strong) 2', '🎬 Animate 2'],
    ]);
    expect(buttons.photo?.[0]?.width).toBe(2 * 512 + 3 * 8); // a numbered 2-column grid of both images
    expect(h.repliesTo(cmd).filter((m) => m.photo)).toHaveLength(3); // the album's two photos and the grid
    expect(h.repliesTo(other)).toEqual([]);
  });

  it('edit: replying to a photo with /edit sends that photo to ComfyUI and returns the edited picture', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const photo = h.telegram.userSends(alice, h.chats.dmAlice, { photo: await png(300, 200) });
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/edit make it night', replyTo: photo });
    const done = await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the edited photo', 20_000);
    expect(done.caption).toMatch(/^make it night\n/);
    const upload = h.comfy.requests.find((r) => r.path === '/upload/image');
    expect(upload).toBeDefined();
    const prompt = h.comfy.requests.find((r) => r.path === '/prompt')!.body as {
      prompt: Record<string, { inputs: Record<string, unknown> }>;
    };
    expect(prompt.prompt.image?.inputs.image).toMatch(/^relay-[0-9a-f-]{36}-image\.png$/);
    expect(prompt.prompt.instruction?.inputs.text).toBe('make it night');
  });

  it('a photo with the command in its caption works too', async () => {
    h = await startTelegramHarness();
    const cmd = h.telegram.userSends(h.users.alice, h.chats.dmAlice, {
      photo: await png(),
      caption: '/upscale --factor 4',
    });
    await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the upscaled photo', 20_000);
    const prompt = h.comfy.requests.find((r) => r.path === '/prompt')!.body as {
      prompt: Record<string, { inputs: Record<string, unknown> }>;
    };
    expect(prompt.prompt.resize?.inputs.scale_by).toBe(1);
  });

  it('Cancel button mid-run interrupts the job and the message says so', async () => {
    h = await startTelegramHarness();
    h.comfy.script({ holdAt: 'sampler' });
    const { alice } = h.users;
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/imagine a slow fox' });
    await until(() => h.comfy.isHolding(), 'the sampler to start', 20_000);
    const progress = await until(
      () => h.repliesTo(cmd).find((m) => buttonsOf(m).some((b) => b.callback_data?.startsWith('v1:c:'))),
      'the cancel button',
    );
    h.telegram.userPresses(
      alice,
      progress,
      buttonsOf(progress).find((b) => b.callback_data?.startsWith('v1:c:'))!.callback_data!,
    );
    await until(
      () => h.telegram.message(progress.chat.id, progress.message_id)?.text === 'Cancelled.',
      'the message to say Cancelled.',
    );
    expect(buttonsOf(h.telegram.message(progress.chat.id, progress.message_id))).toEqual([]);
    expect(h.telegram.callsTo('answerCallbackQuery')).toHaveLength(1);
    expect(h.comfy.requests.some((r) => r.path === '/interrupt')).toBe(true);
  });

  it('Reroll keeps the options with a new seed; Remix asks for a prompt and keeps the rest', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/imagine a fox --ar 9:16 --seed 42' });
    const result = await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the first photo', 20_000);
    h.telegram.userPresses(alice, result, buttonsOf(result).find((b) => b.text.includes('Reroll'))!.callback_data!);
    const rerolled = await until(() => h.repliesTo(result).find((m) => m.photo), 'the rerolled photo', 20_000);
    expect(rerolled.caption).toMatch(/^a fox\nseed (\d+)/);
    expect(rerolled.caption).not.toMatch(/seed 42 /);

    h.telegram.userPresses(alice, result, buttonsOf(result).find((b) => b.text.includes('Remix'))!.callback_data!);
    const ask = await until(
      () => h.telegram.botMessages(alice.id).find((m) => m.text?.startsWith('✏️ Remix')),
      'the remix question',
    );
    const answer = h.telegram.userSends(alice, h.chats.dmAlice, { text: 'a blue fox --steps 10', replyTo: ask });
    await until(() => h.repliesTo(answer).find((m) => m.photo), 'the remixed photo', 20_000);
    const prompts = h.comfy.requests
      .filter((r) => r.path === '/prompt')
      .map((r) => (r.body as { prompt: Record<string, { inputs: Record<string, unknown> }> }).prompt);
    expect(prompts).toHaveLength(3);
    expect(prompts[2]!.positive?.inputs.text).toBe('a blue fox');
    expect(prompts[2]!.sampler?.inputs.steps).toBe(10);
    expect(prompts[2]!.latent?.inputs).toMatchObject({ width: 432, height: 768 });
  });

  it('gallery: a contact sheet with paging that edits the same message, and numbers that open a job', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    for (let i = 0; i < 10; i++) {
      const id = crypto.randomUUID();
      h.role.core.repo.insert({
        id,
        platform: 'telegram',
        userId: String(alice.id),
        workflow: 'imagine',
        params: { prompt: `fox ${i}` },
        createdAt: i + 1,
      });
      h.role.core.repo.finish(id, { status: 'failed', error: 'x' });
    }
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/gallery' });
    const sheet = await h.reply(cmd, /page 1 of 2/);
    expect(buttonsOf(sheet).map((b) => b.text)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '▶']);
    h.telegram.userPresses(alice, sheet, buttonsOf(sheet).find((b) => b.text === '▶')!.callback_data!);
    await until(
      () => h.telegram.message(sheet.chat.id, sheet.message_id)?.caption?.includes('page 2 of 2'),
      'page 2 on the same message',
    );
    const page2 = h.telegram.message(sheet.chat.id, sheet.message_id)!;
    expect(buttonsOf(page2).map((b) => b.text)).toEqual(['1', '◀']);
    h.telegram.userPresses(alice, page2, buttonsOf(page2)[0]!.callback_data!);
    await until(
      () => h.telegram.botMessages(alice.id).find((m) => m.text?.startsWith('imagine · job')),
      'the job view',
    );
    expect(h.telegram.botMessages(alice.id).find((m) => m.text?.startsWith('imagine · job'))?.text).toContain(
      'prompt: fox 0',
    );
  });

  it('refuses bad input with clear, localized replies and queues nothing', async () => {
    h = await startTelegramHarness();
    const { alice, bob } = h.users;
    const dm = h.chats.dmAlice;
    const send = (text: string, extra: Record<string, unknown> = {}) =>
      h.telegram.userSends(alice, dm, { text, ...extra });
    await h.reply(send(`/imagine ${'x'.repeat(1001)}`), /^The prompt is too long: 1001 characters, at most 1000\.$/);
    await h.reply(send('/edit make it night'), /needs a picture: “The picture to edit”/);
    await h.reply(send('/imagine a fox --colour red'), /^Unknown option --colour\.$/);
    await h.reply(send('/imagine a fox --count 9'), /Some options are not valid:\n• count must be 1–4/);
    const doc = h.telegram.userSends(alice, dm, {
      document: { bytes: Buffer.from('%PDF-1.7 not an image'), name: 'cat.png', mime: 'image/png' },
    });
    await h.reply(h.telegram.userSends(alice, dm, { text: '/edit brighter', replyTo: doc }), /not an image I can read/);
    const corrupt = Buffer.concat([(await png()).subarray(0, 60), Buffer.alloc(200, 7)]);
    await h.reply(
      h.telegram.userSends(alice, dm, { photo: corrupt, caption: '/edit fix' }),
      /damaged and cannot be decoded/,
    );
    const bomb = await sharp({ create: { width: 9000, height: 9000, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    await h.reply(
      h.telegram.userSends(alice, dm, { photo: bomb, caption: '/edit fix' }),
      /too large: 9000×9000 pixels, at most 50 megapixels/,
    );
    const big = h.telegram.userSends(alice, dm, {
      document: { bytes: Buffer.alloc(10), name: 'x.png', mime: 'image/png', size: 25_000_000 },
    });
    await h.reply(
      h.telegram.userSends(alice, dm, { text: '/edit x', replyTo: big }),
      /too big to download: 25\.0 MB, at most 20 MB/,
    );
    // Bob, in Traditional Chinese, cannot touch Alice's job.
    const job = h.role.core.repo.insert({
      id: crypto.randomUUID(),
      platform: 'telegram',
      userId: String(alice.id),
      workflow: 'imagine',
      params: {},
    });
    const bobs = h.telegram.userSends(bob, h.chats.dmBob, { text: `/cancel ${job.shortId}` });
    await until(() => h.repliesTo(bobs).find((m) => m.text === `找不到你的任務 ${job.shortId}。`), 'Bob’s refusal');
    await h.reply(send('/remix 00000000 a cat'), /^No job 00000000 of yours was found\.$/);
    await h.reply(send('/status'), /^Only admins can use this command\.$/);
    expect(h.comfy.submissions()).toBe(0);
    expect(h.role.core.repo.page({ platform: 'telegram', userId: String(alice.id) }, 0, 10).total).toBe(1); // only the one we inserted
  });

  it('rate limit and queue cap say when to try again', async () => {
    h = await startTelegramHarness({ RATE_LIMIT_PER_MINUTE: '2', MAX_QUEUED_PER_USER: '5' }, { withWorker: false });
    const { alice } = h.users;
    for (let i = 0; i < 2; i++)
      await h.reply(h.telegram.userSends(alice, h.chats.dmAlice, { text: `/imagine fox ${i}` }), /^Queued/);
    await h.reply(
      h.telegram.userSends(alice, h.chats.dmAlice, { text: '/imagine fox 3' }),
      /^Slow down: at most 2 jobs a minute\. Try again in \d+ s\.$/,
    );
    await h.close();
    h = await startTelegramHarness({ MAX_QUEUED_PER_USER: '1' }, { withWorker: false });
    await h.reply(h.telegram.userSends(alice, h.chats.dmAlice, { text: '/imagine one' }), /^Queued/);
    await h.reply(
      h.telegram.userSends(alice, h.chats.dmAlice, { text: '/imagine two' }),
      /^You already have 1 jobs waiting or running/,
    );
  });

  it('a 429 storm during progress: retry_after is honoured, the chat gets no call while flooded, the result still arrives', async () => {
    h = await startTelegramHarness();
    h.comfy.script({ stepDelayMs: 60 });
    const { alice } = h.users;
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/imagine a stormy fox --steps 40' });
    await h.reply(cmd, /Generating/);
    h.telegram.flood(alice.id, 2);
    const done = await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the photo after the storm', 30_000);
    expect(done.caption).toMatch(/^a stormy fox/);
    const toChat = h.telegram.calls.filter((c) => c.chatId === alice.id);
    const first429 = toChat.find((c) => c.status === 429)!;
    expect(first429).toBeDefined();
    expect(first429.retryAfter).toBeGreaterThanOrEqual(1);
    // Nothing else went to this chat until retry_after had passed (50 ms of timer slack allowed).
    const next = toChat.find((c) => c.at > first429.at)!;
    expect(next.at - first429.at).toBeGreaterThanOrEqual(first429.retryAfter! * 1000 - 50);
    expect(toChat.filter((c) => c.status === 429)).toHaveLength(1);
  });
});
