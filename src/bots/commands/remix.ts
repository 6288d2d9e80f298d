import { isMediaParam } from '../../comfy/param-kinds.js';
import { UserError } from '../../errors.js';
import type { JobRecord } from '../../history/jobs-repo.js';
import { t } from '../../i18n/index.js';
import { type CommandContext, defineCommand } from '../command.js';
import { defineAction } from '../dispatch.js';
import { parseWorkflowArgs } from '../parse-args.js';
import { submitJob } from '../submit.js';
import { parseOptions } from '../validate.js';
import { localized, mainText, option, ownedJob } from './common.js';
import type { CommandDeps } from './deps.js';

/**
 * Run a past job again with changes: `/remix <job> a blue fox --steps 30`, or the Remix button, which asks for the
 * new text (a form on Discord, a reply on Telegram) and comes back here as the same action with the answer.
 */

/** The job's options with `changes` typed over them, a new seed unless one is given; its files stay as they were. */
export function remixOptions(deps: CommandDeps, rec: JobRecord, changesText: string) {
  const wf = deps.workflows.get(rec.workflow);
  if (!wf) throw new UserError('error.unknown_workflow', { name: rec.workflow });
  const base: Record<string, unknown> = {};
  const media: Record<string, unknown> = {};
  for (const p of wf.manifest.params) {
    if (p.type === 'seed' || rec.params[p.name] === undefined) continue;
    (isMediaParam(p) ? media : base)[p.name] = rec.params[p.name];
  }
  const changes = changesText.trim() ? parseWorkflowArgs(wf.manifest, changesText) : {};
  return { ...parseOptions(wf.manifest.params, { ...base, ...changes }, deps.maxPromptChars), ...media };
}

export const remixJob = (deps: CommandDeps, ctx: CommandContext, rec: JobRecord, changesText: string) =>
  submitJob(deps, ctx, rec.workflow, remixOptions(deps, rec, changesText));

function ask(deps: CommandDeps, ctx: CommandContext, rec: JobRecord) {
  const { locale } = ctx.user;
  return ctx.ask({
    text: t(locale, 'bot.remix_ask', { id: rec.shortId }),
    title: t(locale, 'discord.remix_title'),
    label: t(locale, 'discord.remix_label'),
    prefill: mainText(deps.workflows, rec),
    action: { kind: 'remix', jobId: rec.id },
  });
}

export const remixCommand = (deps: CommandDeps) =>
  defineCommand<{ job: string; prompt?: string }>({
    name: 'remix',
    description: localized('menu.remix'),
    options: [
      option({ name: 'job', type: 'text', required: true, maxLength: 36, description: 'discord.option_job' }, 'jobs'),
      option({ name: 'prompt', type: 'text', maxLength: deps.maxPromptChars, description: 'discord.option_prompt' }),
    ],
    positional: ['job'],
    rest: 'prompt',
    async run(input, ctx) {
      const rec = ownedJob(deps.repo, ctx.user, input.job);
      if (!input.prompt) return ask(deps, ctx, rec);
      // Checked before the acknowledgement, so a bad option is answered privately.
      remixOptions(deps, rec, input.prompt);
      await remixJob(deps, ctx, rec, input.prompt);
    },
  });

export const remixAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'remix',
    async run(_action, ctx, { record, answer }) {
      if (!record) return;
      if (answer === undefined) return ask(deps, ctx, record);
      await remixJob(deps, ctx, record, answer);
    },
  });
