import { existsSync } from 'node:fs';
import { UserError } from '../../errors.js';
import { t } from '../../i18n/index.js';
import { defineAction } from '../dispatch.js';
import type { CommandDeps } from './deps.js';

/** ⬇️ Original: result image `index` as the untouched file (a document), where the chat got a recompressed photo. */
export const originalAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'original',
    async run(action, ctx, { record }) {
      if (!record) return;
      const file = record.outputs.filter((o) => o.kind === 'image')[action.index - 1];
      if (!file) throw new UserError('error.job_not_found', { id: record.shortId });
      const absolute = deps.storage.resolveInside(file.path);
      if (!existsSync(absolute)) throw new UserError('error.result_gone', { n: action.index, id: record.shortId });
      await ctx.defer();
      await ctx.reply({
        text: t(ctx.user.locale, 'bot.original_caption', { n: action.index, id: record.shortId }),
        files: [absolute],
        asFiles: true,
      });
    },
  });
