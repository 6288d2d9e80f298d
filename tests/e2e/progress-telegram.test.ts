import { afterEach, describe, expect, it } from 'vitest';
import type { ApiCall } from '../fakes/telegram/server.js';
import { until } from '../support/pipeline.js';
import { startTelegramHarness } from '../support/telegram-harness.js';

type Harness = Awaited<ReturnType<typeof startTelegramHarness>>;

/** The uploads of a call (a preview is sent as preview.jpg, a result as result.png or grid.jpg). */
const uploads = (c: ApiCall) => Object.values(c.files).map((f) => f.filename);
const isPreview = (c: ApiCall) => uploads(c).includes('preview.jpg');
const textOf = (c: ApiCall) =>
  String(c.params.text ?? c.params.caption ?? (c.params.media as { caption?: string })?.caption ?? '');

/** The most calls found in any 60 s window. */
function busiestMinute(calls: ApiCall[]) {
  return Math.max(0, ...calls.map((a) => calls.filter((b) => b.at >= a.at && b.at < a.at + 60_000).length));
}

describe('Progress people can watch, on Telegram (fake Bot API, real worker and queue, fake ComfyUI)', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('shows the live preview as the progress photo, at most once per PREVIEW_INTERVAL_S, and none after the result', async () => {
    h = await startTelegramHarness({ PREVIEW_INTERVAL_S: '2' });
    h.comfy.script({ previews: true, stepDelayMs: 150 });
    const cmd = h.telegram.userSends(h.users.alice, h.chats.dmAlice, { text: '/imagine a fox at dawn --steps 40' });
    const done = await until(
      () => h.repliesTo(cmd).find((m) => m.caption?.startsWith('a fox at dawn')),
      'result',
      30_000,
    );
    const toJob = h.telegram.calls.filter((c) => c.chatId === h.users.alice.id && c.status === 200);
    const previews = toJob.filter(isPreview);
    expect(previews.length).toBeGreaterThanOrEqual(2);
    expect(
      previews.every((c) => c.method === 'editMessageMedia' && Number(c.params.message_id) === done.message_id),
    ).toBe(true);
    for (let i = 1; i < previews.length; i++)
      expect(previews[i]!.at - previews[i - 1]!.at).toBeGreaterThanOrEqual(2000 - 50);
    // While it is a photo, progress edits its caption (Telegram refuses editMessageText on a photo).
    expect(toJob.some((c) => c.method === 'editMessageCaption' && /Generating · job/.test(textOf(c)))).toBe(true);
    // Nothing after the result: the result is the job message's last change.
    const result = toJob.findIndex((c) => c.method === 'editMessageMedia' && uploads(c).includes('result.png'));
    expect(result).toBeGreaterThan(0);
    expect(toJob.slice(result + 1).filter((c) => Number(c.params.message_id) === done.message_id)).toEqual([]);
    expect(h.telegram.calls.filter((c) => c.status >= 400)).toEqual([]);
  });

  it('ticks a heartbeat while a node is silent, at most HEARTBEAT_S + one interval apart', async () => {
    h = await startTelegramHarness({ HEARTBEAT_S: '2', PROGRESS_INTERVAL_S: '0.5' });
    h.comfy.script({ holdAt: 'decode' }); // a VAE decode that says nothing for a while
    const cmd = h.telegram.userSends(h.users.alice, h.chats.dmAlice, { text: '/imagine a quiet fox' });
    await until(() => h.comfy.isHolding(), 'the silent node', 20_000);
    const silentFrom = Date.now();
    await new Promise((r) => setTimeout(r, 9_000));
    h.comfy.release();
    await until(() => h.repliesTo(cmd).find((m) => m.photo), 'the result', 20_000);
    const beats = h.telegram.calls.filter(
      (c) => c.at >= silentFrom && c.status === 200 && /still working · \d+:\d\d/.test(textOf(c)),
    );
    // Every tick shows a later elapsed time, so the message visibly moves.
    const shown = beats.map((c) => /still working · (\d+:\d\d)/.exec(textOf(c))?.[1]);
    expect(new Set(shown).size).toBe(beats.length);
    expect(beats.length).toBeGreaterThanOrEqual(3);
    const gaps = [beats[0]!.at - silentFrom, ...beats.slice(1).map((c, i) => c.at - beats[i]!.at)];
    // HEARTBEAT_S + PROGRESS_INTERVAL_S, plus the private chat's one-a-second spacing as slack.
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2_000 + 500 + 1_000);
  });

  it('10 jobs in one group: never over 20 calls a minute, no 429, and the first result is not queued behind progress', async () => {
    h = await startTelegramHarness({ MAX_QUEUED_PER_USER: '10', PREVIEW_INTERVAL_S: '1', HEARTBEAT_S: '2' });
    h.telegram.enforceGroupLimit(20);
    for (let i = 0; i < 10; i++) h.comfy.script({ stepDelayMs: 120, previews: true }); // about 3 s each
    const cmds = Array.from({ length: 10 }, (_, i) =>
      h.telegram.userSends(h.users.alice, h.chats.group, { text: `/imagine fox number ${i}` }),
    );
    const results = await until(
      () => {
        const r = cmds.map((c) => h.repliesTo(c).find((m) => m.caption?.startsWith('fox number')));
        return r.every(Boolean) ? r : undefined;
      },
      'all ten results',
      150_000,
    );
    expect(results).toHaveLength(10);
    const toGroup = h.telegram.calls.filter((c) => c.chatId === h.chats.group.id);
    expect(toGroup.filter((c) => c.status === 429)).toEqual([]);
    expect(busiestMinute(toGroup)).toBeLessThanOrEqual(20);

    // The first job ComfyUI finished: its result reached the chat within a few seconds, ahead of waiting progress.
    const [firstId, firstRun] = [...h.comfy.runTimes.entries()].sort((a, b) => (a[1].end ?? 0) - (b[1].end ?? 0))[0]!;
    const delivered = toGroup.find(
      (c) => c.status === 200 && uploads(c).includes('result.png') && textOf(c).includes(firstId.slice(0, 8)),
    )!;
    const latencyMs = delivered.at - (firstRun.end as number);
    const latencies = [...h.comfy.runTimes.entries()].map(([id, run]) => {
      const c = toGroup.find(
        (x) => x.status === 200 && uploads(x).includes('result.png') && textOf(x).includes(id.slice(0, 8)),
      );
      return (c?.at ?? Number.NaN) - (run.end as number);
    });
    console.log(`first result: ${latencyMs} ms after ComfyUI finished it; slowest: ${Math.max(...latencies)} ms`);
    expect(latencyMs).toBeLessThan(5_000);
  }, 180_000);

  it('pings the user with a reply to the command when a job took longer than NOTIFY_AFTER_S, and not otherwise', async () => {
    h = await startTelegramHarness({ NOTIFY_AFTER_S: '2' });
    h.comfy.script({ stepDelayMs: 5 });
    const quick = h.telegram.userSends(h.users.alice, h.chats.group, { text: '/imagine a quick fox --steps 4' });
    await until(() => h.repliesTo(quick).find((m) => m.photo), 'the quick result', 20_000);
    h.comfy.script({ stepDelayMs: 150 });
    const slow = h.telegram.userSends(h.users.alice, h.chats.group, { text: '/imagine a slow fox --steps 20' });
    const ping = await h.reply(slow, /^✅ Your job [0-9a-f]{8} is done \(\d+:\d\d\)\.$/, 30_000);
    expect(ping.reply_to_message?.message_id).toBe(slow.message_id);
    expect(h.repliesTo(slow).find((m) => m.photo)?.caption).toMatch(/^a slow fox/);
    expect(h.repliesTo(quick).map((m) => h.textOf(m))).not.toContainEqual(expect.stringMatching(/Your job/));
  });
});
