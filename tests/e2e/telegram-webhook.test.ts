import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/pipeline.js';
import { startTelegramHarness } from '../support/telegram-harness.js';

type Harness = Awaited<ReturnType<typeof startTelegramHarness>>;
const SECRET = 'hook-secret_0123456789';

describe('Telegram webhook mode (TELEGRAM_WEBHOOK_URL, through the HTTP server)', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('registers the webhook with its secret at start, never polls, and answers a command as it arrives', async () => {
    h = await startTelegramHarness({}, { webhook: { secret: SECRET } });
    expect(h.telegram.callsTo('setWebhook').map((c) => c.params)).toEqual([
      {
        url: `http://127.0.0.1:${h.http!.port}/telegram/webhook`,
        secret_token: SECRET,
        drop_pending_updates: false,
      },
    ]);
    const cmd = h.telegram.userSends(h.users.alice, h.chats.dmAlice, { text: '/imagine a fox' });
    await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the photo', 20_000);
    expect(h.telegram.webhookPosts.find((p) => p.updateId)?.status).toBe(200);
    expect(h.telegram.callsTo('getUpdates')).toEqual([]);
    expect(h.telegram.callsTo('deleteWebhook')).toEqual([]);
  });

  it('refuses a request without the right secret with 401, and does nothing with its update', async () => {
    h = await startTelegramHarness({}, { webhook: { secret: SECRET } });
    const { alice } = h.users;
    const update = {
      update_id: 900_001,
      message: {
        message_id: 77,
        date: Math.floor(Date.now() / 1000),
        chat: h.chats.dmAlice,
        from: alice,
        text: '/imagine a forged fox',
        entities: [{ type: 'bot_command', offset: 0, length: 8 }],
      },
    };
    for (const secret of ['wrong-secret', undefined, `${SECRET}x`]) {
      const res = await h.telegram.postToWebhook(update, secret);
      expect(res.status, String(secret)).toBe(401);
    }
    // The right secret on the same path works, so the refusals above were about the secret alone.
    const ok = await h.telegram.postToWebhook({ ...update, message: { ...update.message, text: '/help' } }, SECRET);
    expect(ok.status).toBe(200);
    await until(() => h.telegram.botMessages(h.chats.dmAlice.id).length > 0, 'the help');
    await new Promise((r) => setTimeout(r, 500));
    expect(h.telegram.botMessages(h.chats.dmAlice.id).map((m) => m.text?.split('\n')[0])).toEqual([
      expect.stringMatching(/^Commands/),
    ]);
    expect(h.role.core.repo.page({ platform: 'telegram', userId: String(alice.id) }, 0, 5).items).toEqual([]);
    expect(h.comfy.submissions()).toBe(0);
    expect(h.lines.filter((l) => l.msg === 'webhook request without the right secret refused')).toHaveLength(3);
  });

  it('runs chats concurrently: a chat waiting out a 429 does not hold up another chat', async () => {
    h = await startTelegramHarness({}, { webhook: { secret: SECRET } });
    const { alice, bob } = h.users;
    h.telegram.flood(h.chats.dmAlice.id, 2);
    const slow = h.telegram.userSends(alice, h.chats.dmAlice, { text: '/help' });
    const fast = h.telegram.userSends(bob, h.chats.dmBob, { text: '/help' });
    await until(() => h.repliesTo(fast)[0], 'Bob’s help', 5000);
    expect(h.repliesTo(slow)).toEqual([]);
    await until(() => h.repliesTo(slow)[0], 'Alice’s help, after the flood', 10_000);
  });

  it('back to long polling: the webhook is deleted at start and the updates it kept are answered', async () => {
    h = await startTelegramHarness(
      {},
      {
        beforeBot(telegram) {
          // An earlier deployment's webhook, unreachable now; Telegram keeps the update that it could not deliver.
          telegram.setWebhook('http://127.0.0.1:9/telegram/webhook', 'old');
          telegram.userSends(
            { id: 1001, is_bot: false, first_name: 'Alice', language_code: 'en' },
            {
              id: 1001,
              type: 'private',
              first_name: 'Alice',
            },
            { text: '/help' },
          );
        },
      },
    );
    expect(h.telegram.callsTo('deleteWebhook').map((c) => c.params)).toEqual([{ drop_pending_updates: false }]);
    expect(h.telegram.webhook()).toBeUndefined();
    await until(() => h.telegram.botMessages(h.chats.dmAlice.id)[0], 'the help for the kept update', 10_000);
    expect(h.telegram.callsTo('setWebhook')).toEqual([]);
  });
});
