import { afterEach, describe, expect, it } from 'vitest';
import type { RestCall } from '../fakes/discord/server.js';
import { startDiscordHarness } from '../support/discord-harness.js';
import { until } from '../support/pipeline.js';

type Harness = Awaited<ReturnType<typeof startDiscordHarness>>;
const S = (name: string, value: string) => ({ name, type: 3, value });
const isPreview = (c: RestCall) => c.files.includes('preview.jpg');

describe('Progress people can watch, on Discord (fake REST + gateway, real worker and queue, fake ComfyUI)', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('carries the live preview on the reply, at most once per PREVIEW_INTERVAL_S, and none after the result', async () => {
    h = await startDiscordHarness({ PREVIEW_INTERVAL_S: '2' });
    h.comfy.script({ previews: true, stepDelayMs: 150 });
    const steps = { name: 'steps', type: 4, value: 40 };
    const { token } = h.discord.slash(h.users.alice, 'imagine', [S('prompt', 'a fox at dawn'), steps], h.ctx);
    const final = await until(
      () => (h.original(token)?.content.startsWith('a fox at dawn') ? h.original(token) : undefined),
      'the result on the reply',
      30_000,
    );
    const edits = h.discord.calls.filter((c) => c.method === 'PATCH' && c.path.includes(token) && c.status === 200);
    const previews = edits.filter(isPreview);
    expect(previews.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < previews.length; i++)
      expect(previews[i]!.at - previews[i - 1]!.at).toBeGreaterThanOrEqual(2000 - 50);
    // Each preview replaces the last one: the reply never holds more than one picture while it runs.
    expect(previews.every((c) => JSON.stringify(c.body.attachments) === '[{"id":0,"filename":"preview.jpg"}]')).toBe(
      true,
    );
    // The result replaced the preview, and nothing came after it.
    expect(final.attachments.map((a) => a.filename)).toEqual(['01.png']);
    const resultAt = edits.findIndex((c) => c.files.includes('01.png'));
    expect(edits.slice(resultAt + 1)).toEqual([]);
  });

  it('ticks a heartbeat while a node is silent, at most HEARTBEAT_S + one interval apart', async () => {
    h = await startDiscordHarness({ HEARTBEAT_S: '2', PROGRESS_INTERVAL_S: '0.5' });
    h.comfy.script({ holdAt: 'decode' });
    const { token } = h.discord.slash(h.users.alice, 'imagine', [S('prompt', 'a quiet fox')], h.ctx);
    await until(() => h.comfy.isHolding(), 'the silent node', 20_000);
    const silentFrom = Date.now();
    await new Promise((r) => setTimeout(r, 9_000));
    h.comfy.release();
    await until(() => h.original(token)?.attachments.length, 'the result', 20_000);
    const beats = h.discord.calls.filter(
      (c) => c.at >= silentFrom && c.status === 200 && /still working · \d+:\d\d/.test(String(c.body.content)),
    );
    expect(beats.length).toBeGreaterThanOrEqual(3);
    const gaps = [beats[0]!.at - silentFrom, ...beats.slice(1).map((c, i) => c.at - beats[i]!.at)];
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2_000 + 500 + 1_000);
  });

  it('pings the user in the channel, mentioning only them, after a job longer than NOTIFY_AFTER_S', async () => {
    h = await startDiscordHarness({ NOTIFY_AFTER_S: '2' });
    h.comfy.script({ stepDelayMs: 5 });
    const quick = h.discord.slash(h.users.alice, 'imagine', [S('prompt', 'a quick fox')], h.ctx);
    await until(() => h.original(quick.token)?.attachments.length, 'the quick result', 20_000);
    h.comfy.script({ stepDelayMs: 150 });
    const slow = h.discord.slash(h.users.bob, 'imagine', [S('prompt', 'a slow fox')], h.ctx);
    const ping = await until(
      () => h.discord.channelMessages(h.channelId).find((m) => !m.interactionToken && /Your job/.test(m.content)),
      'the ping',
      30_000,
    );
    expect(ping.content).toMatch(
      new RegExp(`^<@${h.users.bob.id}> ✅ Your job [0-9a-f]{8} is done \\(\\d+:\\d\\d\\)\\.$`),
    );
    expect(ping.allowed_mentions).toEqual({ users: [h.users.bob.id] });
    expect(h.original(slow.token)?.content).toMatch(/^a slow fox/);
    // The quick job pinged nobody.
    expect(h.discord.channelMessages(h.channelId).filter((m) => /Your job/.test(m.content))).toHaveLength(1);
  });
});
