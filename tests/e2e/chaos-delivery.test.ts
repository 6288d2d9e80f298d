import { describe, it } from 'vitest';
import type { OutageMode } from '../support/outage.js';
import { startDiscordHarness } from '../support/discord-harness.js';
import { until } from '../support/pipeline.js';
import { buttonsOf, startTelegramHarness } from '../support/telegram-harness.js';

/**
 * The platform's API is down (5xx, or connections dropped) from just before the result would be delivered until
 * 20 s later (the number: longer than a 5xx burst, shorter than the ~1.5 min delivery backoff). The four
 * cases run side by side, each with its own product, so the file takes one outage, not four.
 */
const OUTAGE_MS = 20_000;
const CASE_MS = 75_000;
/** Long enough for a late progress edit, were one still queued, to land after the result. */
const SETTLE_MS = 1_500;
const PROMPT = 'a fox through the outage';
const modes: OutageMode[] = ['5xx', 'drop'];
/** The result's controls: Reroll, Remix, Star, then the image's follow-ups (no Cancel). */
const RESULT_BUTTONS = [
  '🎲 Reroll',
  '✏️ Remix',
  '⭐ Star',
  '⬆️ Upscale 1',
  '🔅 Vary (subtle) 1',
  '🔆 Vary (strong) 1',
  '🎬 Animate 1',
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.concurrent('a platform outage while a result is delivered', () => {
  for (const mode of modes) {
    it(
      `Telegram (${mode}): the photo arrives once after the outage, on the job's message, with no Cancel left`,
      async ({ expect, onTestFinished }) => {
        const h = await startTelegramHarness();
        onTestFinished(() => h.close());
        h.comfy.script({ holdAt: 'sampler' });
        const { alice } = h.users;
        const chat = h.chats.dmAlice;
        const cmd = h.telegram.userSends(alice, chat, { text: `/imagine ${PROMPT}` });
        await until(() => h.comfy.isHolding(), 'the sampler', 20_000);
        const progress = await until(
          () => h.repliesTo(cmd).find((m) => buttonsOf(m).some((b) => b.callback_data?.startsWith('v1:c:'))),
          'the progress message with Cancel',
        );
        const jobId = h.role.core.repo.page({ platform: 'telegram', userId: String(alice.id) }, 0, 1).items[0]!.id;

        const outage = h.telegram.outage({ mode, ms: OUTAGE_MS });
        h.comfy.release();
        await outage.ended;
        // The job ended during the outage, and nothing could be shown yet.
        expect(h.role.core.repo.get(jobId)).toMatchObject({ status: 'succeeded', deliveredAt: undefined });
        const resultCalls = () =>
          h.telegram.calls.filter((c) => ['editMessageMedia', 'sendPhoto', 'sendMediaGroup'].includes(c.method));
        expect(resultCalls().length).toBeGreaterThan(0);
        expect(resultCalls().every((c) => c.status === (mode === '5xx' ? 502 : 0))).toBe(true);

        await until(() => h.role.core.repo.get(jobId)?.deliveredAt, 'delivered_at', CASE_MS - OUTAGE_MS - 10_000);
        await sleep(SETTLE_MS);
        const delivered = resultCalls().filter((c) => c.status === 200);
        expect(delivered.map((c) => c.method)).toEqual(['editMessageMedia']);
        expect(h.telegram.botMessages(chat.id).filter((m) => m.photo)).toHaveLength(1);
        // The progress message itself became the photo, and its buttons are the result's.
        expect(h.repliesTo(cmd)).toHaveLength(1);
        const final = h.telegram.message(chat.id, progress.message_id);
        expect(final?.photo).toBeDefined();
        expect(final?.caption).toMatch(new RegExp(`^${PROMPT}\\nseed \\d+`));
        expect(buttonsOf(final).map((b) => b.text)).toEqual(RESULT_BUTTONS);
        // No edit put a Cancel back on the message after the result.
        const later = h.telegram.calls.filter(
          (c) => c.params.message_id === progress.message_id && c.at >= delivered[0]!.at && c.status === 200,
        );
        expect(later.filter((c) => JSON.stringify(c.params.reply_markup ?? {}).includes('v1:c:'))).toEqual([]);
        expect(h.lines.some((l) => l.msg === 'delivery failed; retrying' && l.jobId === jobId)).toBe(true);
      },
      CASE_MS,
    );

    it(
      `Discord (${mode}): the attachment arrives once after the outage, on the reply, with no Cancel left`,
      async ({ expect, onTestFinished }) => {
        const h = await startDiscordHarness();
        onTestFinished(() => h.close());
        h.comfy.script({ holdAt: 'sampler' });
        const { alice } = h.users;
        const { token } = h.discord.slash(alice, 'imagine', [{ name: 'prompt', type: 3, value: PROMPT }], h.ctx);
        await until(() => h.comfy.isHolding(), 'the sampler', 20_000);
        await until(
          () => h.componentsOf(h.original(token)).some((b) => b.custom_id.startsWith('v1:c:')),
          'the reply with Cancel',
        );
        const jobId = h.role.core.repo.page({ platform: 'discord', userId: alice.id }, 0, 1).items[0]!.id;

        const outage = h.discord.outage({ mode, ms: OUTAGE_MS });
        h.comfy.release();
        await outage.ended;
        expect(h.role.core.repo.get(jobId)).toMatchObject({ status: 'succeeded', deliveredAt: undefined });
        const uploads = () => h.discord.calls.filter((c) => c.files.length > 0);
        expect(uploads().length).toBeGreaterThan(0);
        expect(uploads().every((c) => c.status === (mode === '5xx' ? 502 : 0))).toBe(true);

        await until(() => h.role.core.repo.get(jobId)?.deliveredAt, 'delivered_at', CASE_MS - OUTAGE_MS - 10_000);
        await sleep(SETTLE_MS);
        const delivered = uploads().filter((c) => c.status === 200);
        expect(delivered).toHaveLength(1);
        expect(delivered[0]!.path).toContain(`/webhooks/${h.discord.appId}/${token}/messages/@original`);
        const attachments = h.discord.channelMessages(h.channelId).flatMap((m) => m.attachments);
        expect(attachments).toHaveLength(1);
        const final = h.original(token);
        expect(final?.attachments).toHaveLength(1);
        expect(final?.content).toMatch(new RegExp(`^${PROMPT}\\nseed \\d+`));
        expect(h.componentsOf(final).map((b) => b.label)).toEqual(RESULT_BUTTONS);
        const later = h.discord.calls.filter(
          (c) => c.method === 'PATCH' && c.path.includes(token) && c.at >= delivered[0]!.at && c.status === 200,
        );
        expect(later.filter((c) => JSON.stringify(c.body.components ?? []).includes('v1:c:'))).toEqual([]);
        expect(h.lines.some((l) => l.msg === 'delivery failed; retrying' && l.jobId === jobId)).toBe(true);
      },
      CASE_MS,
    );
  }

  it(
    'Telegram: while only edits fail with 5xx, the photo is still delivered once, in place of the progress message',
    async ({ expect, onTestFinished }) => {
      const h = await startTelegramHarness();
      onTestFinished(() => h.close());
      h.comfy.script({ holdAt: 'sampler' });
      const { alice } = h.users;
      const chat = h.chats.dmAlice;
      const cmd = h.telegram.userSends(alice, chat, { text: `/imagine ${PROMPT}` });
      await until(() => h.comfy.isHolding(), 'the sampler', 20_000);
      const progress = await until(() => h.repliesTo(cmd)[0], 'the progress message');
      const jobId = h.role.core.repo.page({ platform: 'telegram', userId: String(alice.id) }, 0, 1).items[0]!.id;

      // A 5xx says nothing about whether the message can be edited: sending the photo anew instead would leave a
      // copy in the chat for every retry that fails on the edit after it.
      const outage = h.telegram.outage({ mode: '5xx', ms: 5_000, only: ['editMessageMedia', 'editMessageText'] });
      h.comfy.release();
      await outage.ended;
      await until(() => h.role.core.repo.get(jobId)?.deliveredAt, 'delivered_at', 40_000);
      await sleep(SETTLE_MS);
      expect(h.telegram.callsTo('editMessageMedia').some((c) => c.status === 502)).toBe(true);
      expect(h.telegram.botMessages(chat.id).filter((m) => m.photo)).toHaveLength(1);
      expect(h.repliesTo(cmd)).toHaveLength(1);
      expect(h.telegram.message(chat.id, progress.message_id)?.photo).toBeDefined();
    },
    CASE_MS,
  );
});
