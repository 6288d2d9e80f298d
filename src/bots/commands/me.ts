import type { JobRecord } from '../../history/jobs-repo.js';
import { formatDuration, type MessageKey, t } from '../../i18n/index.js';
import { type ActionRow, defineCommand, type Identity, type Reply } from '../command.js';
import { defineAction } from '../dispatch.js';
import { localized } from './common.js';
import type { CommandDeps } from './deps.js';

/**
 * `/me`: the asker's unfinished jobs with their live queue positions and a Cancel for each, how many jobs they sent
 * today, and what is left of their limits and when it comes back. Refresh and Cancel redraw it in place.
 */

/** Cancel buttons: three to a row (Telegram's width), four rows, so Refresh still fits Discord's five. */
const PER_ROW = 3;
const MAX_BUTTONS = 12;

async function positionsOf(deps: CommandDeps, jobs: JobRecord[]): Promise<Map<string, number>> {
  if (!jobs.some((r) => r.status === 'queued')) return new Map();
  try {
    return await deps.producer.positions(new Set(jobs.map((r) => r.workflow)));
  } catch (err) {
    deps.logger.warn({ err }, 'could not read queue positions for /me');
    return new Map();
  }
}

const startOfToday = (now: number) => new Date(now).setHours(0, 0, 0, 0);

export async function meView(deps: CommandDeps, user: Identity, note?: { key: MessageKey; id: string }) {
  const { locale } = user;
  const owner = { platform: user.platform, userId: user.userId };
  const mine = deps.repo.unfinished(user.platform).filter((r) => r.userId === user.userId);
  const positions = await positionsOf(deps, mine);
  const quota = await deps.quotas.remaining(user);
  const lines = note ? [t(locale, note.key, { id: note.id }), ''] : [];
  lines.push(t(locale, mine.length ? 'me.title' : 'me.none', { n: mine.length }));
  for (const r of mine) {
    const position = positions.get(r.id);
    const state =
      r.status === 'running'
        ? t(locale, 'me.running', { progress: r.progress })
        : t(locale, 'progress.queued', { position: position ?? 0 });
    lines.push(t(locale, 'me.job', { id: r.shortId, workflow: r.workflow, state }));
  }
  lines.push('', t(locale, 'me.today', { n: deps.repo.countSince(owner, startOfToday(Date.now())) }));
  if (quota.exempt) lines.push(t(locale, 'me.exempt'));
  else {
    const time = quota.resetsInMs > 0 ? formatDuration(quota.resetsInMs) : '';
    lines.push(t(locale, 'me.rate', { left: quota.left, max: quota.perMinute, time }));
    lines.push(t(locale, 'me.queue', { used: mine.length, max: quota.maxQueued }));
    if (quota.gpu) {
      const { usedS, limitS, resetsInMs } = quota.gpu;
      lines.push(t(locale, 'me.gpu', { used: Math.round(usedS), max: limitS, time: formatDuration(resetsInMs) }));
    }
  }
  const cancels = mine.slice(0, MAX_BUTTONS).map((r) => ({
    label: t(locale, 'me.button_cancel', { id: r.shortId }),
    action: { kind: 'withdraw' as const, jobId: r.id },
    style: 'danger' as const,
  }));
  const rows: ActionRow[] = [];
  for (let i = 0; i < cancels.length; i += PER_ROW)
    rows.push({ kind: 'buttons', buttons: cancels.slice(i, i + PER_ROW) });
  rows.push({ kind: 'buttons', buttons: [{ label: t(locale, 'me.button_refresh'), action: { kind: 'me' } }] });
  return { text: lines.join('\n'), rows, private: true } satisfies Reply;
}

export const meCommand = (deps: CommandDeps) =>
  defineCommand({
    name: 'me',
    description: localized('menu.me'),
    options: [],
    async run(_input, ctx) {
      await ctx.defer({ private: true });
      await ctx.reply(await meView(deps, ctx.user));
    },
  });

/** Refresh: the same view with the positions as they are now. */
export const meAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'me',
    async run(_action, ctx) {
      await ctx.defer({ update: true });
      await ctx.update(await meView(deps, ctx.user));
    },
  });

/** /me's Cancel: the job is cancelled (ownership was checked by the dispatcher), then /me is drawn again. */
export const withdrawAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'withdraw',
    async run(action, ctx) {
      await ctx.defer({ update: true });
      const { record } = await deps.tracker.cancel(action.jobId, { ...ctx.user });
      await ctx.update(await meView(deps, ctx.user, { key: 'bot.cancel_requested', id: record.shortId }));
    },
  });
