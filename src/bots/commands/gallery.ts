import { paramSchema } from '../../comfy/manifest.js';
import { t } from '../../i18n/index.js';
import type { JobRecord } from '../../history/jobs-repo.js';
import { contactSheet } from '../../images/contact-sheet.js';
import { type ActionRow, defineCommand, type Identity, type Reply } from '../command.js';
import { defineAction } from '../dispatch.js';
import { localized, mainText, option, paramsSummary } from './common.js';
import type { CommandDeps } from './deps.js';
import { jobRows } from './star.js';

/**
 * The caller's past work (or only what they starred) as a numbered contact sheet, paged in place; a number (or a menu
 * pick) opens a job.
 */
export const GALLERY_PAGE_SIZE = 9;

const SHEET_SIGN: Record<JobRecord['status'], string> = {
  queued: '…',
  running: '…',
  succeeded: '✓',
  failed: '✗',
  cancelled: '⊘',
};

export async function galleryView(deps: CommandDeps, user: Identity, page: number, starred = false): Promise<Reply> {
  const owner = { platform: user.platform, userId: user.userId };
  const total = deps.repo.page(owner, 0, 1, { starred }).total;
  const pages = Math.max(1, Math.ceil(total / GALLERY_PAGE_SIZE));
  const p = Math.min(Math.max(0, page), pages - 1);
  const { items } = deps.repo.page(owner, p, GALLERY_PAGE_SIZE, { starred });
  if (items.length === 0)
    return { text: t(user.locale, starred ? 'bot.gallery_starred_empty' : 'bot.gallery_empty'), private: true };
  const sheet = await contactSheet(
    items.map((r) => ({
      file: thumbnailOf(deps, r),
      // Drawn into the picture: the job id, or a sign any font has for a job without results (no words to translate).
      label: `${r.workflow} · ${r.status === 'succeeded' ? r.shortId : SHEET_SIGN[r.status]}`,
    })),
  );
  const rows: ActionRow[] = [
    {
      kind: 'select',
      placeholder: t(user.locale, 'discord.gallery_pick'),
      options: items.map((r, n) => ({
        label: `${n + 1}. ${r.workflow} · ${r.shortId}`,
        short: String(n + 1),
        description: (mainText(deps.workflows, r) || t(user.locale, 'bot.job_status', { status: r.status })).slice(
          0,
          100,
        ),
        action: { kind: 'open', jobId: r.id },
      })),
    },
  ];
  const onlyStarred = starred ? { starred: true } : {};
  const nav = [
    ...(p > 0 ? [{ label: '◀', action: { kind: 'page' as const, page: p - 1, ...onlyStarred } }] : []),
    ...(p < pages - 1 ? [{ label: '▶', action: { kind: 'page' as const, page: p + 1, ...onlyStarred } }] : []),
  ];
  if (nav.length) rows.push({ kind: 'buttons', buttons: nav });
  return {
    text: t(user.locale, starred ? 'bot.gallery_starred_caption' : 'bot.gallery_caption', { page: p + 1, pages }),
    image: { data: sheet, name: 'gallery.jpg' },
    rows,
    private: true,
  };
}

/** Videos show their poster frame (saved beside the results when the workflow names one). */
function thumbnailOf(deps: CommandDeps, r: JobRecord) {
  const img = r.outputs.find((f) => f.kind === 'image');
  return deps.storage.resolveInside(img ? img.path : `outputs/${r.id}/poster.png`);
}

export const galleryCommand = (deps: CommandDeps) =>
  defineCommand<{ page?: number; starred?: boolean }>({
    name: 'gallery',
    description: localized('menu.gallery'),
    options: [
      option({ name: 'page', type: 'int', min: 1, max: 1000, description: 'discord.option_page' }),
      // `/gallery starred` typed: a word naming a bool option switches it on.
      paramSchema.parse({ name: 'starred', type: 'bool', description: localized('discord.option_starred') }),
    ],
    positional: ['page'],
    async run(input, ctx) {
      await ctx.defer({ private: true });
      await ctx.reply(await galleryView(deps, ctx.user, (input.page ?? 1) - 1, input.starred === true));
    },
  });

export const pageAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'page',
    async run(action, ctx) {
      await ctx.defer({ update: true });
      await ctx.update(await galleryView(deps, ctx.user, action.page, action.starred === true));
    },
  });

/** One past job: its images, its options, and the result buttons again. */
export const openAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'open',
    async run(_action, ctx, { record }) {
      if (!record) return;
      const images = record.outputs.filter((f) => f.kind === 'image').slice(0, 10);
      const { locale } = ctx.user;
      await ctx.reply({
        text: t(locale, 'bot.job_details', {
          workflow: record.workflow,
          id: record.shortId,
          status: record.status,
          params: paramsSummary(record.params),
        }),
        files: images.map((f) => deps.storage.resolveInside(f.path)),
        rows: jobRows(deps, locale, record, images.length),
        private: true,
      });
    },
  });
