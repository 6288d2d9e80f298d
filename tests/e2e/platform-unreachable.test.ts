import { afterEach, describe, expect, it } from 'vitest';
import type { Outage } from '../support/outage.js';
import { until } from '../support/pipeline.js';
import { startTelegramHarness } from '../support/telegram-harness.js';

type Harness = Awaited<ReturnType<typeof startTelegramHarness>>;

describe('a chat platform unreachable at start', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('Telegram: the bot starts anyway, says so once, keeps trying, and serves users once Telegram answers', async () => {
    let outage: Outage | undefined;
    h = await startTelegramHarness({}, { beforeBot: (tg) => (outage = tg.outage({ mode: '5xx' })) });
    // The bot role came up (the worker keeps working) although Telegram answered nothing but errors.
    const warned = () => h.lines.filter((l) => String(l.msg).includes('telegram cannot be reached'));
    expect(warned()).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 2_500)); // a few background attempts fail meanwhile
    outage?.end();
    await until(() => h.lines.some((l) => String(l.msg).includes('telegram reachable again')), 'the retry', 15_000);
    expect(warned()).toHaveLength(1);
    const cmd = h.telegram.userSends(h.users.alice, h.chats.dmAlice, { text: '/imagine a fox' });
    await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the photo', 20_000);
  }, 45_000);
});
