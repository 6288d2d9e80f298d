import type { Param } from '../comfy/manifest.js';
import { isMediaParam } from '../comfy/param-kinds.js';
import { UserError } from '../errors.js';
import { storeInputs } from '../media/store-inputs.js';
import { type CommandContext, howToSend, type MediaRef } from './command.js';
import type { CommandDeps } from './commands/deps.js';
import type { Submitted } from './jobs/tracker.js';
import { assembleParams } from './validate.js';

/**
 * One job submission for every command and button, in the order that spends the least: the capability and quota
 * checks and the media's known sizes come before the acknowledgement and before any download; files are fetched,
 * decoded and stored only then. `options` were validated once by the dispatcher (or by the remix parse).
 */
export async function submitJob(
  deps: CommandDeps,
  ctx: CommandContext,
  workflowName: string,
  options: Record<string, unknown>,
  opts: { media?: boolean } = {},
): Promise<Submitted> {
  const workflow = deps.workflows.get(workflowName);
  if (!workflow) throw new UserError('error.unknown_workflow', { name: workflowName });
  const mediaParams = workflow.manifest.params.filter(isMediaParam);
  await deps.tracker.ensureRunnable(workflowName);
  const refs = opts.media ? ctx.media(mediaParams) : {};
  if (opts.media) checkRefs(mediaParams, refs, options, ctx);
  const { user } = ctx;
  await deps.quotas.check(user, deps.repo.unfinishedCount(user.platform, user.userId));
  // The asker's /settings may keep results to themselves (Discord ephemeral, a Telegram DM from a group).
  const privately = user.settings?.visibility === 'private';
  await ctx.defer(privately ? { private: true } : undefined);
  const bytes: Record<string, Buffer> = {};
  for (const [name, ref] of Object.entries(refs)) bytes[name] = await ref.fetch();
  const stored = await storeInputs(workflow, options, bytes, deps.storage);
  const params = assembleParams(workflow.manifest, stored);
  const { sink, messageId } = await ctx.progressSink({ private: privately, locale: user.locale });
  return deps.tracker.submit({
    workflow: workflowName,
    params,
    requester: { platform: user.platform, userId: user.userId, locale: user.locale, chatId: user.chatId, messageId },
    sink,
  });
}

/** Refuses a missing file (saying how to send one here) or one we already know is too big, before any download. */
function checkRefs(
  params: Param[],
  refs: Record<string, MediaRef>,
  options: Record<string, unknown>,
  ctx: CommandContext,
) {
  for (const p of params) {
    const ref = refs[p.name];
    if (!ref) {
      if (p.required && typeof options[p.name] !== 'string')
        throw new UserError(p.type === 'image' ? 'input.missing_image' : 'input.missing_audio', {
          name: p.name,
          label: p.description[ctx.user.locale],
          how: howToSend(ctx, p),
        });
      continue;
    }
    if (ref.size !== undefined && ref.size > ref.maxBytes)
      throw new UserError('input.file_too_big', {
        size: (ref.size / 1e6).toFixed(1),
        max: Math.round(ref.maxBytes / 1e6),
      });
  }
}
