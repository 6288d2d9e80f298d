import type { JobRecord } from '../../history/jobs-repo.js';
import { type Locale, t } from '../../i18n/index.js';
import type { ActionRow } from '../command.js';
import { defineAction } from '../dispatch.js';
import { resultRows } from '../result-actions.js';
import type { CommandDeps } from './deps.js';

/**
 * ⭐ Favourites: the star under a result (and under a job opened from history) stars or unstars it; its label says
 * which it is now. `/gallery starred` lists the starred ones.
 */

/** The result controls of a job from history (an opened or re-posted job), its star as it is now. */
export function jobRows(deps: CommandDeps, locale: Locale, rec: JobRecord, imageCount: number): ActionRow[] {
  return resultRows(locale, rec.id, imageCount, deps.workflows.get(rec.workflow)?.manifest.followUps, {
    starred: rec.starredAt !== undefined,
  });
}

/** The star's label for a job's state. */
export const starLabel = (locale: Locale, starred: boolean) =>
  t(locale, starred ? 'bot.button_starred' : 'bot.button_star');

export const starAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'star',
    async run(_action, ctx, { record }) {
      if (!record) return;
      const starred = record.starredAt === undefined;
      deps.repo.setStarred(record.id, starred);
      await ctx.relabel(starLabel(ctx.user.locale, starred));
    },
  });
