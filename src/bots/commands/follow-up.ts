import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FollowUp } from '../../comfy/manifest.js';
import type { Workflow } from '../../comfy/workflows.js';
import { UserError } from '../../errors.js';
import type { JobRecord } from '../../history/jobs-repo.js';
import type { CommandContext } from '../command.js';
import { defineAction } from '../dispatch.js';
import { submitJob } from '../submit.js';
import { parseOptions } from '../validate.js';
import type { CommandDeps } from './deps.js';

/**
 * A follow-up a manifest declares (Upscale, Vary, Animate): result image `index` of a finished job, run through
 * another workflow without the user sending it again. The image is copied into the inputs (the worker uploads it to
 * ComfyUI like any input); the target's options are its defaults, then what the follow-up carries over from this
 * job, then its presets; a seed is new unless carried.
 */

/** The target's options for this job: carried values the job has, then the presets, through the one parse. */
export function followUpOptions(deps: CommandDeps, rec: JobRecord, f: FollowUp, target: Workflow) {
  const raw: Record<string, unknown> = {};
  for (const [to, from] of Object.entries(f.carry)) if (rec.params[from] !== undefined) raw[to] = rec.params[from];
  return parseOptions(target.manifest.params, { ...raw, ...f.preset }, deps.maxPromptChars);
}

/** Result image `index` (1-based) of the job, copied into the inputs under a new name; refused when it is not there. */
async function resultAsInput(deps: CommandDeps, rec: JobRecord, index: number): Promise<string> {
  const file = rec.outputs.filter((o) => o.kind === 'image')[index - 1];
  if (!file) throw new UserError('error.job_not_found', { id: rec.shortId });
  const source = deps.storage.resolveInside(file.path);
  if (!existsSync(source)) throw new UserError('error.result_gone', { n: index, id: rec.shortId });
  const name = `${randomUUID()}${path.extname(file.path) || '.png'}`;
  const dest = deps.storage.inputPath(name);
  await mkdir(path.dirname(dest), { recursive: true });
  await copyFile(source, dest);
  return name;
}

export async function runFollowUp(deps: CommandDeps, ctx: CommandContext, rec: JobRecord, index: number, f: FollowUp) {
  const target = deps.workflows.get(f.workflow);
  if (!target) throw new UserError('error.unknown_workflow', { name: f.workflow });
  // Options first: a value that no longer fits is refused before anything is copied.
  const options = followUpOptions(deps, rec, f, target);
  const name = await resultAsInput(deps, rec, index);
  await submitJob(deps, ctx, f.workflow, { ...options, [f.input]: name });
}

/** `v1:f<index><n>:<job>`: the n-th follow-up of the job's workflow, on image `index`. */
export const followUpAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'follow_up',
    async run(action, ctx, { record }) {
      if (!record) return;
      const f = deps.workflows.get(record.workflow)?.manifest.followUps[action.n - 1];
      // The manifest changed since the buttons were made: the button no longer means anything.
      if (!f) throw new UserError('error.unknown_button');
      await runFollowUp(deps, ctx, record, action.index, f);
    },
  });
