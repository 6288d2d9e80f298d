import { existsSync } from 'node:fs';
import type { JobRecord } from '../../history/jobs-repo.js';
import { type Locale, t } from '../../i18n/index.js';
import { defineCommand, type Reply } from '../command.js';
import { cancelRow } from '../result-actions.js';
import { resultCaption } from '../result-text.js';
import { localized, option, ownedJob, paramsSummary } from './common.js';
import type { CommandDeps } from './deps.js';
import { jobRows } from './star.js';

/**
 * `/show <job>`: one of the asker's past jobs posted again, its files read from STORAGE_DIR (never a platform URL,
 * which may have expired), with live result buttons: a result buried in an old thread can be varied or upscaled
 * again. Public, unless the asker's results are private.
 */
export function showReply(deps: CommandDeps, locale: Locale, rec: JobRecord, maxText: number): Reply {
  const images = rec.outputs.filter((f) => f.kind === 'image').slice(0, 10);
  const files = images.map((f) => deps.storage.resolveInside(f.path)).filter((f) => existsSync(f));
  if (rec.status !== 'succeeded') {
    const unfinished = rec.status === 'queued' || rec.status === 'running';
    return {
      text: t(locale, 'bot.job_details', {
        workflow: rec.workflow,
        id: rec.shortId,
        status: rec.status,
        params: paramsSummary(rec.params),
      }),
      rows: unfinished ? [cancelRow(locale, rec.id)] : jobRows(deps, locale, rec, 0),
    };
  }
  const caption = resultCaption(
    {
      jobId: rec.id,
      shortId: rec.shortId,
      locale,
      workflow: rec.workflow,
      params: rec.params,
      files: [],
      durationMs: rec.startedAt && rec.finishedAt ? rec.finishedAt - rec.startedAt : 0,
      text: '',
    },
    maxText - 200,
  );
  const gone = files.length < images.length ? [t(locale, 'show.gone', { n: images.length - files.length })] : [];
  return { text: [caption, ...gone].join('\n'), files, rows: jobRows(deps, locale, rec, files.length) };
}

export const showCommand = (deps: CommandDeps) =>
  defineCommand<{ job: string }>({
    name: 'show',
    description: localized('menu.show'),
    options: [
      option({ name: 'job', type: 'text', required: true, maxLength: 36, description: 'discord.option_job' }, 'jobs'),
    ],
    positional: ['job'],
    async run(input, ctx) {
      const rec = ownedJob(deps.repo, ctx.user, input.job);
      const privately = ctx.user.settings?.visibility === 'private';
      await ctx.defer(privately ? { private: true } : undefined);
      await ctx.reply({ ...showReply(deps, ctx.user.locale, rec, ctx.maxText), private: privately });
    },
  });
