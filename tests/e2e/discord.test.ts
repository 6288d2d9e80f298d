import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startDiscordHarness } from '../support/discord-harness.js';
import { until } from '../support/pipeline.js';

type Harness = Awaited<ReturnType<typeof startDiscordHarness>>;
const png = (w = 64, h = 64) =>
  sharp({ create: { width: w, height: h, channels: 3, background: '#224488' } })
    .png()
    .toBuffer();
const S = (name: string, value: string) => ({ name, type: 3, value });

describe('Discord bot end to end (discord.js → fake REST + gateway; real Redis, worker, SQLite; fake ComfyUI)', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('registers localized commands once, then /imagine defers and edits one reply from progress to the images', async () => {
    h = await startDiscordHarness();
    const registered = h.discord.commands.get(`guild:${h.guildId}`) as Array<{
      name: string;
      options: Array<{ name: string; required?: boolean; type: number }>;
      description_localizations: Record<string, string>;
    }>;
    expect(registered.map((c) => c.name).sort()).toEqual([
      'blend',
      'cancel',
      'edit',
      'faceswap',
      'gallery',
      'help',
      'imagine',
      'me',
      'models',
      'remix',
      'settings',
      'show',
      'sketch',
      'status',
      'talk',
      'upscale',
      'vary',
      'video',
    ]);
    const imagine = registered.find((c) => c.name === 'imagine')!;
    expect(imagine.description_localizations['zh-TW']).toBe('根據文字描述生成圖片');
    expect(imagine.options[0]).toMatchObject({ name: 'prompt', required: true, type: 3 });
    expect(
      registered.find((c) => c.name === 'edit')!.options.map((o) => [o.name, o.type, Boolean(o.required)]),
    ).toEqual([
      ['instruction', 3, true],
      ['image', 11, true],
      ['seed', 4, false],
      ['steps', 4, false],
      ['guidance', 10, false],
    ]);

    h.comfy.script({ stepDelayMs: 40 });
    const { token } = h.discord.slash(
      h.users.alice,
      'imagine',
      [S('prompt', 'a red fox in snow'), S('aspect', '16:9'), { name: 'steps', type: 4, value: 30 }],
      h.ctx,
    );
    const final = await until(
      () => (h.original(token)?.attachments.length ? h.original(token) : undefined),
      'the images on the reply',
      20_000,
    );
    expect(h.callbacks(token).map((c) => c.body.type)).toEqual([5]);
    const edits = h.discord.calls.filter((c) => c.method === 'PATCH' && c.path.includes(token));
    expect(edits.some((c) => /Generating · job [0-9a-f]{8}\n[█░]+ \d+%/.test(String(c.body.content)))).toBe(true);
    expect(JSON.stringify(edits[0]?.body.components)).toContain('v1:c:');
    expect(final.content).toMatch(/^a red fox in snow\nseed \d+ · 0:0\d · job [0-9a-f]{8}$/);
    expect(h.componentsOf(final).map((b) => b.label)).toEqual([
      '🎲 Reroll',
      '✏️ Remix',
      '⭐ Star',
      '⬆️ Upscale 1',
      '🔅 Vary (subtle) 1',
      '🔆 Vary (strong) 1',
      '🎬 Animate 1',
    ]);
    expect(h.discord.calls.filter((c) => c.status >= 400)).toEqual([]);

    // A restart does not register the commands again.
    const puts = () => h.discord.calls.filter((c) => c.method === 'PUT').length;
    expect(puts()).toBe(1);
    await h.restartBot();
    expect(puts()).toBe(1);
  });

  it('edit takes its image from an attachment option', async () => {
    h = await startDiscordHarness();
    const { token } = h.discord.slash(h.users.alice, 'edit', [S('instruction', 'make it night')], {
      ...h.ctx,
      files: { image: { bytes: await png(320, 240), filename: 'cat.png', contentType: 'image/png' } },
    });
    await until(() => h.original(token)?.attachments.length, 'the edited image', 20_000);
    expect(h.comfy.requests.some((r) => r.path === '/upload/image')).toBe(true);
  });

  it('Cancel on the reply interrupts the job; a stranger’s click changes nothing', async () => {
    h = await startDiscordHarness();
    h.comfy.script({ holdAt: 'sampler' });
    const { token } = h.discord.slash(h.users.alice, 'imagine', [S('prompt', 'a slow fox')], h.ctx);
    await until(() => h.comfy.isHolding(), 'the sampler', 20_000);
    const msg = await until(
      () =>
        h.componentsOf(h.original(token)).some((b) => b.custom_id.startsWith('v1:c:')) ? h.original(token) : undefined,
      'the cancel button',
    );
    const cancelId = h.componentsOf(msg).find((b) => b.custom_id.startsWith('v1:c:'))!.custom_id;
    const bobs = h.discord.component(h.users.bob, msg, cancelId, h.ctx);
    await until(() => h.callbacks(bobs.token).length, 'bob’s answer');
    expect(h.callbacks(bobs.token)[0]?.body).toMatchObject({
      type: 4,
      data: { flags: 64, content: expect.stringMatching(/^No job [0-9a-f-]+ of yours was found\.$/) },
    });
    expect(h.comfy.isHolding()).toBe(true);
    h.discord.component(h.users.alice, msg, cancelId, h.ctx);
    await until(() => h.original(token)?.content === 'Cancelled.', 'Cancelled.');
  });

  it('a job outliving the interaction token moves to a channel message and ends there, mentioning the user', async () => {
    h = await startDiscordHarness({ DISCORD_HANDOVER_S: '1' });
    h.comfy.script({ holdAt: 'sampler' });
    const { token } = h.discord.slash(h.users.alice, 'imagine', [S('prompt', 'a long fox')], h.ctx);
    await until(() => h.comfy.isHolding(), 'the sampler', 20_000);
    await new Promise((r) => setTimeout(r, 1300));
    h.comfy.release();
    const result = await until(
      () =>
        h.discord.channelMessages(h.channelId).find((m) => m.content.startsWith(`<@${h.users.alice.id}> a long fox`)),
      'the result in the channel',
      20_000,
    );
    expect(result.attachments).toHaveLength(1);
    expect(result.allowed_mentions).toEqual({ users: [h.users.alice.id] });
    const posts = h.discord.calls.filter((c) => c.method === 'POST' && c.path === `/channels/${h.channelId}/messages`);
    expect(posts.every((c) => c.body.enforce_nonce === true && typeof c.body.nonce === 'string')).toBe(true);
    expect(h.original(token)?.content).toMatch(
      new RegExp(`^Progress continues here: https://discord\\.com/channels/${h.guildId}/${h.channelId}/\\d+$`),
    );
  });

  it('a token Discord rejects early (50027) triggers the handover at once and is never used again', async () => {
    h = await startDiscordHarness({}, { tokenLifetimeMs: 700 });
    h.comfy.script({ stepDelayMs: 60 });
    const { token } = h.discord.slash(
      h.users.alice,
      'imagine',
      [S('prompt', 'an impatient fox'), { name: 'steps', type: 4, value: 40 }],
      h.ctx,
    );
    await until(
      () =>
        h.discord
          .channelMessages(h.channelId)
          .find((m) => m.content.startsWith(`<@${h.users.alice.id}> an impatient fox`)),
      'the result in the channel',
      20_000,
    );
    const onToken = h.discord.calls.filter((c) => c.path.includes(`/webhooks/`) && c.path.includes(token));
    const rejected = onToken.filter((c) => c.code === 50027);
    expect(rejected).toHaveLength(1);
    expect(onToken.at(-1)).toBe(rejected[0]);
  });

  it('rolls the status message over when Discord answers 30046 for an old message', async () => {
    h = await startDiscordHarness({ DISCORD_HANDOVER_S: '1' });
    h.comfy.script({ stepDelayMs: 80 });
    h.discord.setOldEditQuota(0);
    h.discord.slash(
      h.users.alice,
      'imagine',
      [S('prompt', 'an old fox'), { name: 'steps', type: 4, value: 40 }],
      h.ctx,
    );
    const status = await until(
      () => h.discord.channelMessages(h.channelId).find((m) => /Generating/.test(m.content)),
      'the channel status message',
      20_000,
    );
    h.discord.age(status.id, 2 * 3_600_000);
    await until(() => h.discord.calls.some((c) => c.code === 30046), 'a 30046', 20_000);
    await until(
      () =>
        h.discord
          .channelMessages(h.channelId)
          .some((m) => m.id !== status.id && /Generating|Done|an old fox/.test(m.content)),
      'a fresh status message',
      20_000,
    );
    await until(
      () =>
        h.discord.channelMessages(h.channelId).find((m) => m.content.includes('an old fox') && m.attachments.length),
      'the result',
      20_000,
    );
  });

  it('waits out a 429 storm on the webhook route and still delivers', async () => {
    h = await startDiscordHarness();
    h.comfy.script({ stepDelayMs: 40 });
    h.discord.rateLimit('/webhooks/', 4, 0.4);
    const { token } = h.discord.slash(
      h.users.alice,
      'imagine',
      [S('prompt', 'a stormy fox'), { name: 'steps', type: 4, value: 25 }],
      h.ctx,
    );
    await until(() => h.original(token)?.attachments.length, 'the images', 20_000);
    const limited = h.discord.calls.filter((c) => c.status === 429);
    expect(limited).toHaveLength(4);
  });

  it('gallery is ephemeral, pages in place, and opens a job; Remix opens a modal prefilled with the prompt', async () => {
    h = await startDiscordHarness();
    const { alice } = h.users;
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const id = crypto.randomUUID();
      ids.push(id);
      h.role.core.repo.insert({
        id,
        platform: 'discord',
        userId: alice.id,
        workflow: 'imagine',
        params: { prompt: `fox ${i}`, aspect: '4:3' },
        createdAt: i + 1,
      });
      h.role.core.repo.finish(id, { status: 'failed', error: 'x' });
    }
    const { token } = h.discord.slash(alice, 'gallery', [], h.ctx);
    const sheet = await until(
      () => (h.original(token)?.attachments.length ? h.original(token) : undefined),
      'the contact sheet',
    );
    expect(h.callbacks(token)[0]?.body).toMatchObject({ type: 5, data: { flags: 64 } });
    expect(sheet.content).toBe('Your work — page 1 of 2. Tap a number to open it.');
    const next = h.componentsOf(sheet).find((c) => c.label === '▶')!;
    h.discord.component(alice, sheet, next.custom_id, h.ctx);
    await until(() => h.discord.messages.get(sheet.id)?.content.includes('page 2 of 2'), 'page 2 in place');
    const open = h.discord.component(alice, sheet, 'v1:o:select', { ...h.ctx, values: [ids[0]!] });
    await until(() => h.callbacks(open.token).length, 'the job view');
    expect(h.callbacks(open.token)[0]?.body).toMatchObject({
      type: 4,
      data: { flags: 64, content: expect.stringContaining('prompt: fox 0') },
    });

    const shown = h.discord.original(open.token)!;
    const remix = h.discord.component(
      alice,
      shown,
      h.componentsOf(shown).find((b) => b.custom_id.startsWith('v1:m:'))!.custom_id,
      h.ctx,
    );
    await until(() => h.callbacks(remix.token).length, 'the modal');
    const modal = h.callbacks(remix.token)[0]!.body as {
      type: number;
      data: { components: Array<{ components: Array<{ value: string }> }> };
    };
    expect(modal.type).toBe(9);
    expect(modal.data.components[0]?.components[0]?.value).toBe('fox 0');
    const submit = h.discord.modalSubmit(alice, `v1:m:${ids[0]}`, { prompt: 'a blue fox --steps 8' }, h.ctx);
    await until(() => h.original(submit.token)?.attachments.length, 'the remixed images', 20_000);
    const sent = h.comfy.requests.filter((r) => r.path === '/prompt').at(-1)!.body as {
      prompt: Record<string, { inputs: Record<string, unknown> }>;
    };
    expect(sent.prompt.positive?.inputs.text).toBe('a blue fox');
    expect(sent.prompt.latent?.inputs).toMatchObject({ width: 640, height: 480 });
  });

  it('answers bad input ephemerally, in the user’s language, and queues nothing', async () => {
    h = await startDiscordHarness();
    const { alice, bob } = h.users;
    const answer = async (token: string) => {
      await until(
        () =>
          h.discord.calls.some(
            (c) =>
              c.path.includes(token) && (c.body.type === 4 || (c.method === 'POST' && c.path.includes('/webhooks/'))),
          ),
        'an answer',
      );
      const call = h.discord.calls.find(
        (c) => c.path.includes(token) && (c.body.type === 4 || (c.method === 'POST' && c.path.includes('/webhooks/'))),
      )!;
      const body = (call.body.type === 4 ? call.body.data : call.body) as { content: string; flags: number };
      expect(body.flags & 64).toBe(64);
      return body.content;
    };
    expect(await answer(h.discord.slash(alice, 'imagine', [S('prompt', 'x'.repeat(1001))], h.ctx).token)).toBe(
      'The prompt is too long: 1001 characters, at most 1000.',
    );
    expect(await answer(h.discord.slash(alice, 'edit', [S('instruction', 'night')], h.ctx).token)).toMatch(
      /needs a picture/,
    );
    const notImage = h.discord.slash(alice, 'edit', [S('instruction', 'night')], {
      ...h.ctx,
      files: { image: { bytes: Buffer.from('GIF? no, a text file'), filename: 'x.png' } },
    });
    expect(await answer(notImage.token)).toBe('That file is not an image I can read (PNG, JPEG, WebP or GIF).');
    expect(h.discord.calls.some((c) => c.method === 'DELETE' && c.path.includes(notImage.token))).toBe(true); // the public "thinking…" is removed
    const job = h.role.core.repo.insert({
      id: crypto.randomUUID(),
      platform: 'discord',
      userId: alice.id,
      workflow: 'imagine',
      params: {},
    });
    expect(
      await answer(h.discord.slash(bob, 'cancel', [S('job', job.shortId)], { ...h.ctx, locale: 'zh-TW' }).token),
    ).toBe(`找不到你的任務 ${job.shortId}。`);
    expect(
      await answer(
        h.discord.component(
          alice,
          {
            id: '1',
            channel_id: h.channelId,
            content: '',
            components: [],
            attachments: [],
            author: h.discord.botUser,
            createdAt: Date.now(),
          },
          'old:button',
          h.ctx,
        ).token,
      ),
    ).toBe('This button is from an older message and no longer works.');
    expect(await answer(h.discord.slash(alice, 'status', [], h.ctx).token)).toBe('Only admins can use this command.');
    expect(h.comfy.submissions()).toBe(0);
  });

  it('autocompletes the caller’s own recent jobs and the model list', async () => {
    h = await startDiscordHarness();
    const { alice } = h.users;
    const mine = h.role.core.repo.insert({
      id: crypto.randomUUID(),
      platform: 'discord',
      userId: alice.id,
      workflow: 'imagine',
      params: { prompt: 'a fox' },
    });
    h.role.core.repo.insert({
      id: crypto.randomUUID(),
      platform: 'discord',
      userId: '999',
      workflow: 'imagine',
      params: { prompt: 'not yours' },
    });
    const a = h.discord.autocomplete(alice, 'remix', [{ name: 'job', type: 3, value: '', focused: true }], h.ctx);
    await until(() => h.callbacks(a.token).length, 'choices');
    expect(h.callbacks(a.token)[0]?.body).toEqual({
      type: 8,
      data: { choices: [{ name: `${mine.shortId} · imagine · a fox`, value: mine.shortId }] },
    });
    const m = h.discord.autocomplete(
      alice,
      'imagine',
      [
        { name: 'prompt', type: 3, value: 'x' },
        { name: 'model', type: 3, value: 'dream', focused: true },
      ],
      h.ctx,
    );
    await until(() => h.callbacks(m.token).length, 'model choices');
    expect(h.callbacks(m.token)[0]?.body).toEqual({
      type: 8,
      data: { choices: [{ name: 'dreamshaper_8.safetensors', value: 'dreamshaper_8.safetensors' }] },
    });
  });
});
