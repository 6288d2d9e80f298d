import { UserError } from '../../errors.js';
import { finalStatuses } from '../../history/jobs-repo.js';
import { t } from '../../i18n/index.js';
import { defineCommand } from '../command.js';
import { defineAction } from '../dispatch.js';
import { localized, option } from './common.js';
import type { CommandDeps } from './deps.js';

/** `/cancel [job]` (the newest unfinished job when none is named) and the Cancel button under a job's progress. */
export const cancelCommand = (deps: CommandDeps) =>
  defineCommand<{ job?: string }>({
    name: 'cancel',
    description: localized('menu.cancel'),
    options: [option({ name: 'job', type: 'text', maxLength: 36, description: 'discord.option_job' }, 'jobs')],
    positional: ['job'],
    async run(input, ctx) {
      const { user } = ctx;
      const id =
        input.job ||
        deps.repo
          .unfinished(user.platform)
          .filter((r) => r.userId === user.userId)
          .at(-1)?.id;
      if (!id) return ctx.reply({ text: t(user.locale, 'bot.nothing_to_cancel'), private: true });
      const { record } = await deps.tracker.cancel(id, { ...user });
      await ctx.reply({ text: t(user.locale, 'bot.cancel_requested', { id: record.shortId }), private: true });
    },
  });

export const cancelAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'cancel',
    async run(action, ctx, { record }) {
      // The button outlived its job (the message was not updated, or an old copy of it): say so, change nothing.
      if (record && finalStatuses.includes(record.status)) throw new UserError('error.unknown_button');
      await ctx.defer({ update: true });
      await deps.tracker.cancel(action.jobId, { ...ctx.user });
    },
  });
