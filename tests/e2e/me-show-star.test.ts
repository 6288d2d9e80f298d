import { afterEach, describe, expect, it } from 'vitest';
import { startDiscordHarness } from '../support/discord-harness.js';
import { until } from '../support/pipeline.js';
import { buttonsOf, startTelegramHarness } from '../support/telegram-harness.js';

const S = (name: string, value: unknown, type = 3) => ({ name, type, value });

describe('/me, /show and ⭐ on Telegram (grammY → fake Bot API; real Redis, worker, SQLite)', () => {
  let h: Awaited<ReturnType<typeof startTelegramHarness>>;
  afterEach(async () => h?.close());

  it('/me shows a running job and a waiting one with its live position; its Cancel cancels that job', async () => {
    h = await startTelegramHarness();
    h.comfy.script({ holdAt: 'sampler' });
    const { alice } = h.users;
    const send = (text: string) => h.telegram.userSends(alice, h.chats.dmAlice, { text });
    send('/imagine a slow fox');
    await until(() => h.comfy.isHolding(), 'the first job to run', 20_000);
    send('/imagine a patient fox');
    const owner = { platform: 'telegram', userId: String(alice.id) };
    const waiting = await until(
      () => h.role.core.repo.page(owner, 0, 2).items.find((r) => r.params.prompt === 'a patient fox'),
      'the second job',
    );
    const me = send('/me');
    const view = await h.reply(me, /^Your jobs — 2 waiting or running:/);
    expect(view.text).toMatch(/ imagine — running, \d+%\n/);
    expect(view.text).toContain(`• ${waiting.shortId} imagine — Queued — next up`);
    expect(view.text).toMatch(/Today: 2 job\(s\)\nThis minute: \d+ of \d+ jobs left/);
    const cancel = buttonsOf(view).find((b) => b.text === `✖ ${waiting.shortId}`)!;
    expect(cancel.callback_data).toBe(`v1:q:${waiting.id}`);
    h.telegram.userPresses(alice, view, cancel.callback_data!);
    await until(
      () => h.telegram.message(view.chat.id, view.message_id)?.text?.startsWith(`Cancelling job ${waiting.shortId}…`),
      '/me drawn again',
    );
    await until(() => h.role.core.repo.get(waiting.id)?.status === 'cancelled', 'the job cancelled');
    expect(h.telegram.message(view.chat.id, view.message_id)?.text).toContain('Your jobs — 1 waiting or running:');
    h.comfy.release();
  });

  it('/show posts a past job again from storage with working buttons; ⭐ stars it; /gallery starred lists only it', async () => {
    h = await startTelegramHarness();
    const { alice } = h.users;
    const send = (text: string) => h.telegram.userSends(alice, h.chats.dmAlice, { text });
    for (const text of ['/imagine a fox in snow', '/imagine a cat']) {
      const cmd = send(text);
      await until(() => h.repliesTo(cmd).find((m) => m.photo), `the photo of ${text}`, 20_000);
    }
    const owner = { platform: 'telegram', userId: String(alice.id) };
    const fox = h.role.core.repo.page(owner, 0, 2).items.find((r) => r.params.prompt === 'a fox in snow')!;
    const uploadsBefore = h.telegram.callsTo('sendPhoto').length;
    const show = send(`/show ${fox.shortId}`);
    const card = await h.reply(show, /^a fox in snow\nseed \d+ · /);
    // The picture went up again from STORAGE_DIR (a file upload, not a Telegram file id or a URL).
    const upload = h.telegram.callsTo('sendPhoto').slice(uploadsBefore)[0]!;
    expect(Object.keys(upload.files)).toHaveLength(1);
    expect(
      buttonsOf(card)
        .slice(0, 3)
        .map((b) => b.text),
    ).toEqual(['🎲 Reroll', '✏️ Remix', '⭐ Star']);

    h.telegram.userPresses(alice, card, buttonsOf(card).find((b) => b.text === '🎲 Reroll')!.callback_data!);
    const rerolled = await until(() => h.repliesTo(card).find((m) => m.photo), 'the rerolled photo', 20_000);
    expect(rerolled.caption).toMatch(/^a fox in snow\nseed \d+/);

    h.telegram.userPresses(alice, card, `v1:s:${fox.id}`);
    await until(
      () => buttonsOf(h.telegram.message(card.chat.id, card.message_id)).some((b) => b.text === '⭐ Starred ✓'),
      'the star relabelled',
    );
    expect(buttonsOf(h.telegram.message(card.chat.id, card.message_id)).map((b) => b.text)).toEqual(
      buttonsOf(card).map((b) => (b.text === '⭐ Star' ? '⭐ Starred ✓' : b.text)),
    );
    expect(h.role.core.repo.get(fox.id)?.starredAt).toBeDefined();

    const starred = send('/gallery starred');
    const sheet = await h.reply(starred, /^Your starred work — page 1 of 1\./);
    expect(buttonsOf(sheet).map((b) => b.callback_data)).toEqual([`v1:o:${fox.id}`]);
  });
});

describe('/show and ⭐ on Discord (discord.js → fake REST + gateway)', () => {
  let h: Awaited<ReturnType<typeof startDiscordHarness>>;
  afterEach(async () => h?.close());

  it('/show autocompletes my jobs, re-posts one with buttons; ⭐ relabels itself; /gallery starred:true lists it', async () => {
    h = await startDiscordHarness();
    const { alice } = h.users;
    const job = h.discord.slash(alice, 'imagine', [S('prompt', 'a fox')], h.ctx);
    const result = await until(
      () => (h.original(job.token)?.attachments.length ? h.original(job.token) : undefined),
      'the result',
      20_000,
    );
    const rec = h.role.core.repo.page({ platform: 'discord', userId: alice.id }, 0, 1).items[0]!;
    const ac = h.discord.autocomplete(alice, 'show', [{ name: 'job', type: 3, value: '', focused: true }], h.ctx);
    await until(() => h.callbacks(ac.token).length, 'choices');
    expect(h.callbacks(ac.token)[0]?.body).toEqual({
      type: 8,
      data: { choices: [{ name: `${rec.shortId} · imagine · a fox`, value: rec.shortId }] },
    });

    const show = h.discord.slash(alice, 'show', [S('job', rec.shortId)], h.ctx);
    const card = await until(
      () => (h.original(show.token)?.attachments.length ? h.original(show.token) : undefined),
      'the job posted again',
    );
    expect(card.flags ?? 0).toBe(0);
    expect(card.content).toMatch(/^a fox\nseed \d+ · /);
    expect(
      h
        .componentsOf(card)
        .slice(0, 3)
        .map((b) => b.label),
    ).toEqual(['🎲 Reroll', '✏️ Remix', '⭐ Star']);

    h.discord.component(alice, result, `v1:s:${rec.id}`, h.ctx);
    await until(
      () => h.componentsOf(h.discord.messages.get(result.id)).some((b) => b.label === '⭐ Starred ✓'),
      'the star relabelled',
    );
    expect(h.componentsOf(h.discord.messages.get(result.id)).length).toBe(h.componentsOf(result).length);

    const gallery = h.discord.slash(alice, 'gallery', [S('starred', true, 5)], h.ctx);
    const sheet = await until(
      () => (h.original(gallery.token)?.content ? h.original(gallery.token) : undefined),
      'the starred gallery',
    );
    expect(sheet.content).toBe('Your starred work — page 1 of 1. Tap a number to open it.');
  });
});
