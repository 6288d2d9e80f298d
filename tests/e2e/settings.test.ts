import { afterEach, describe, expect, it } from 'vitest';
import { startDiscordHarness } from '../support/discord-harness.js';
import { until } from '../support/pipeline.js';
import { buttonsOf, startTelegramHarness } from '../support/telegram-harness.js';

type Prompt = Record<string, { inputs: Record<string, unknown> }>;
const S = (name: string, value: unknown, type = 3) => ({ name, type, value });

/** The latent size and steps of each graph queued on the fake ComfyUI, in order. */
const sizes = (requests: Array<{ path: string; body?: unknown }>) =>
  requests
    .filter((r) => r.path === '/prompt')
    .map((r) => (r.body as { prompt: Prompt }).prompt)
    .map((p) => [p.latent?.inputs.width, p.latent?.inputs.height, p.sampler?.inputs.steps]);

describe('/settings on Telegram (grammY → fake Bot API; real Redis, worker, SQLite)', () => {
  let h: Awaited<ReturnType<typeof startTelegramHarness>>;
  afterEach(async () => h?.close());

  it('a typed default applies to the next job, a typed option wins, and /settings reset clears it', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const dm = h.chats.dmAlice;
    const send = (text: string) => h.telegram.userSends(alice, dm, { text });
    await h.reply(
      send('/settings aspect 16:9'),
      /^✅ Saved\.\n\n⚙️ Your settings\nLanguage: auto \(English\)\nAspect ratio: 16:9/,
    );
    await h.reply(send('/settings --steps 30'), /^✅ Saved\./);
    for (const text of ['/imagine a fox', '/imagine a fox --ar 1:1 --steps 12']) {
      const cmd = send(text);
      await until(() => h.repliesTo(cmd).find((m) => m.photo), `the photo of ${text}`, 20_000);
    }
    await h.reply(send('/settings reset'), /^↺ Your settings are back to the defaults\./);
    const last = send('/imagine a fox');
    await until(() => h.repliesTo(last).find((m) => m.photo), 'the photo after the reset', 20_000);
    expect(sizes(h.comfy.requests)).toEqual([
      [768, 432, 30],
      [512, 512, 12],
      [512, 512, 25],
    ]);
  });

  it('spoilers on: the result photo is hidden until tapped', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const send = (text: string) => h.telegram.userSends(alice, h.chats.dmAlice, { text });
    await h.reply(send('/settings spoilers on'), /^✅ Saved\./);
    const cmd = send('/imagine a fox');
    const photo = await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the photo', 20_000);
    const edit = h.telegram
      .callsTo('editMessageMedia')
      .find((c) => Number(c.params.message_id) === photo.message_id && c.status === 200)!;
    expect(edit.params.media).toMatchObject({ type: 'photo', has_spoiler: true });
    const other = send('/settings spoilers off');
    await h.reply(other, /^✅ Saved\./);
  });

  it('the menu is edited in place; picking 繁體中文 switches the menu, the replies and the job to Chinese', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/settings' });
    const menu = await h.reply(cmd, /^⚙️ Your settings/);
    const current = () => h.telegram.message(menu.chat.id, menu.message_id)!;
    const press = (label: string) => {
      const b = buttonsOf(current()).find((x) => x.text.includes(label));
      if (!b?.callback_data) throw new Error(`no button ${label} in ${JSON.stringify(buttonsOf(current()))}`);
      h.telegram.userPresses(alice, current(), b.callback_data);
    };
    press('Language');
    await until(() => current().text?.startsWith('Language — pick one:'), 'the language choices');
    expect(buttonsOf(current()).map((b) => b.text)).toEqual(['✓ auto (English)', 'English', '繁體中文', '« Back']);
    press('繁體中文');
    await until(() => current().text?.startsWith('✅ 已儲存。'), 'the menu in Chinese');
    expect(current().text).toContain('語言：繁體中文');
    expect(h.repliesTo(cmd)).toHaveLength(1);
    expect(buttonsOf(current()).map((b) => b.text)).toContain('↺ 全部重設');

    const job = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/imagine a red fox' });
    const done = await until(() => h.repliesTo(job).find((m) => m.photo), 'the photo', 20_000);
    expect(done.caption).toMatch(/^a red fox\n種子 \d+ · /);
    expect(
      buttonsOf(done)
        .slice(0, 3)
        .map((b) => b.text),
    ).toEqual(['🎲 重抽', '✏️ 重新混合', '⭐ 收藏']);
    // The job itself is recorded in Chinese: its progress, result and a redelivery after a restart speak it.
    const row = h.role.core.repo.page({ platform: 'telegram', userId: String(alice.id) }, 0, 1).items[0];
    expect(row?.locale).toBe('zh-TW');
    const gallery = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/gallery' });
    await h.reply(gallery, /^你的作品 — 第 1 \/ 1 頁/);
  });

  it('private results asked for in a group go to a DM, and the group is told', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    await h.reply(h.telegram.userSends(alice, h.chats.dmAlice, { text: '/settings visibility private' }), /^✅/);
    const cmd = h.telegram.userSends(alice, h.chats.group, { text: '/imagine a secret fox' });
    await h.reply(cmd, /^🔒 I’ll send the result to you privately\./);
    const dmPhoto = await until(
      () => h.telegram.botMessages(alice.id).find((m) => m.caption?.startsWith('a secret fox')),
      'the result in the DM',
      20_000,
    );
    expect(h.telegram.botMessages(alice.id).some((m) => m.text?.startsWith('🔒 Your job from the group'))).toBe(true);
    expect(dmPhoto.photo).toBeDefined();
    expect(h.telegram.botMessages(h.chats.group.id).filter((m) => m.photo)).toEqual([]);
  });

  it('a chat-wide spoiler policy is refused to a member who is not a chat admin', async () => {
    h = await startTelegramHarness();
    const cmd = h.telegram.userSends(h.users.alice, h.chats.group, { text: '/settings chat_spoilers on' });
    await h.reply(cmd, /^Only the admins of this chat can set its spoiler policy\.$/);
    expect(h.role.core.settings.chat('telegram', String(h.chats.group.id))).toEqual({});
  });
});

describe('/settings on Discord (discord.js → fake REST + gateway)', () => {
  let h: Awaited<ReturnType<typeof startDiscordHarness>>;
  afterEach(async () => h?.close());

  it('options store defaults privately; the ephemeral menu has dropdowns; a pick switches the language', async () => {
    h = await startDiscordHarness();
    const { alice } = h.users;
    const set = h.discord.slash(alice, 'settings', [S('aspect', '16:9'), S('steps', 30, 4)], h.ctx);
    await until(() => h.original(set.token)?.content.startsWith('✅ Saved.'), 'the saved settings');
    expect(h.original(set.token)?.flags).toBe(64);
    const job = h.discord.slash(alice, 'imagine', [S('prompt', 'a fox')], h.ctx);
    await until(() => h.original(job.token)?.attachments.length, 'the images', 20_000);
    expect(sizes(h.comfy.requests)).toEqual([[768, 432, 30]]);

    const open = h.discord.slash(alice, 'settings', [], h.ctx);
    const menu = await until(
      () => (h.original(open.token)?.components.length ? h.original(open.token) : undefined),
      'the menu',
    );
    expect(menu.flags).toBe(64);
    const selects = h.componentsOf(menu) as unknown as Array<{
      type: number;
      custom_id: string;
      options: Array<{ value: string }>;
    }>;
    expect(selects.every((c) => c.type === 3)).toBe(true);
    expect(new Set(selects.map((c) => c.custom_id)).size).toBe(selects.length);
    const language = selects.find((c) => c.options.some((o) => o.value === 'language=zh-TW'))!;
    h.discord.component(alice, menu, language.custom_id, { ...h.ctx, values: ['language=zh-TW'] });
    await until(() => h.discord.messages.get(menu.id)?.content.startsWith('✅ 已儲存。'), 'the menu in Chinese');

    const zh = h.discord.slash(alice, 'imagine', [S('prompt', 'a fox')], h.ctx);
    const done = await until(
      () => (h.original(zh.token)?.attachments.length ? h.original(zh.token) : undefined),
      'the result',
      20_000,
    );
    expect(
      h
        .componentsOf(done)
        .slice(0, 3)
        .map((b) => b.label),
    ).toEqual(['🎲 重抽', '✏️ 重新混合', '⭐ 收藏']);
  });

  it('private results stay in an ephemeral reply', async () => {
    h = await startDiscordHarness();
    const { alice } = h.users;
    const set = h.discord.slash(alice, 'settings', [S('visibility', 'private')], h.ctx);
    await until(() => h.original(set.token)?.content.startsWith('✅'), 'saved');
    const job = h.discord.slash(alice, 'imagine', [S('prompt', 'a quiet fox')], h.ctx);
    const done = await until(
      () => (h.original(job.token)?.attachments.length ? h.original(job.token) : undefined),
      'the result',
      20_000,
    );
    expect(h.callbacks(job.token)[0]?.body).toMatchObject({ type: 5, data: { flags: 64 } });
    expect(done.flags).toBe(64);
    // Nothing anyone else can see.
    expect(h.discord.channelMessages(h.channelId).filter((m) => !((m.flags ?? 0) & 64))).toEqual([]);
  });

  it('a chat-wide spoiler policy needs Manage Server or Manage Channels', async () => {
    h = await startDiscordHarness();
    const set = h.discord.slash(h.users.alice, 'settings', [S('chat_spoilers', 'on')], h.ctx);
    await until(() => h.callbacks(set.token).length, 'the answer');
    expect(h.callbacks(set.token)[0]?.body).toMatchObject({
      type: 4,
      data: { flags: 64, content: 'Only the admins of this chat can set its spoiler policy.' },
    });
  });
});
