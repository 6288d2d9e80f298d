import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { png, wav } from '../support/media.js';
import { until } from '../support/pipeline.js';
import { startTelegramHarness } from '../support/telegram-harness.js';
import type { TgChat, TgUser } from '../fakes/telegram/server.js';

type Harness = Awaited<ReturnType<typeof startTelegramHarness>>;

/** Telegram's shared accounts (platforms.md): anonymous group admins, posts sent as a channel, automatic forwards. */
const anonymousAdmin: TgUser = { id: 1087968824, is_bot: true, first_name: 'Group', username: 'GroupAnonymousBot' };

describe('Telegram hardening', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('anonymous admins of two groups do not share one owner: each job belongs to the chat it was sent as', async () => {
    h = await startTelegramHarness();
    const groupA: TgChat = { id: -100111, type: 'supergroup', title: 'A' };
    const groupB: TgChat = { id: -100222, type: 'supergroup', title: 'B' };
    const a = h.telegram.userSends(anonymousAdmin, groupA, { text: '/imagine a fox', senderChat: groupA });
    const b = h.telegram.userSends(anonymousAdmin, groupB, { text: '/imagine a cat', senderChat: groupB });
    await until(() => h.repliesTo(a).find((m) => m.photo), 'group A photo', 20_000);
    await until(() => h.repliesTo(b).find((m) => m.photo), 'group B photo', 20_000);
    const owners = (id: number) => h.role.core.repo.page({ platform: 'telegram', userId: String(id) }, 0, 10).total;
    expect(owners(groupA.id)).toBe(1);
    expect(owners(groupB.id)).toBe(1);
    expect(owners(anonymousAdmin.id)).toBe(0);
  });

  it('a shared account with no chat to own the job is refused politely', async () => {
    h = await startTelegramHarness();
    const cmd = h.telegram.userSends(anonymousAdmin, h.chats.group, { text: '/imagine a fox' });
    await h.reply(cmd, /as yourself/);
    expect(h.comfy.submissions()).toBe(0);
  });

  it('never takes a shared account as an admin', () => {
    expect(() => loadConfig({ ADMIN_USERS: 'telegram:1087968824' })).toThrow(/ADMIN_USERS/);
    expect(() => loadConfig({ ADMIN_USERS: 'telegram:777000' })).toThrow(/cannot be admins/);
  });

  it('refuses a 25 MB voice message before downloading it, naming the 20 MB limit', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const voice = h.telegram.userSends(alice, h.chats.dmAlice, { voice: wav(1), voiceSize: 25_000_000 });
    const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { photo: await png(), caption: '/talk', replyTo: voice });
    await h.reply(cmd, /25\.0 MB, at most 20 MB/);
    // The photo may be looked at; the voice never is.
    const fetched = h.telegram.callsTo('getFile').map((c) => String(c.params.file_id));
    expect(fetched).not.toContain(voice.voice?.file_id);
    expect(h.comfy.submissions()).toBe(0);
  });

  it('refuses a prompt with nothing visible in it (zero-width, bidi and control characters) like an empty one', async () => {
    h = await startTelegramHarness();
    const { alice, bob } = h.users;
    for (const prompt of ['\u200b\u200c\u200d', '\u202e\u2066\u2069', '\u2060\ufeff']) {
      const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: `/imagine ${prompt}` });
      await h.reply(cmd, /^Please add what to draw after \/imagine/);
    }
    await h.reply(
      h.telegram.userSends(bob, h.chats.dmBob, { text: '/imagine \u200b\u200b' }),
      /^請在 \/imagine 後面加上/,
    );
    expect(h.comfy.submissions()).toBe(0);
    expect(h.role.core.repo.page({ platform: 'telegram', userId: String(alice.id) }, 0, 1).total).toBe(0);
  });
});
