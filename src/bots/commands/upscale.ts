import { UserError } from '../../errors.js';
import { defineAction } from '../dispatch.js';
import type { CommandDeps } from './deps.js';
import { runFollowUp } from './follow-up.js';

/**
 * `v1:u<index>:<job>`, the Upscale button of messages sent before Upscale became a follow-up the manifests declare:
 * image `index` (1-based) of a finished job through the `upscale` workflow, at its default options.
 */
export const upscaleAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'upscale',
    async run(action, ctx, { record }) {
      if (!record) return;
      const input = deps.workflows.get('upscale')?.manifest.params.find((p) => p.type === 'image');
      if (!input) throw new UserError('error.job_not_found', { id: record.shortId });
      const upscale = { label: 'bot.button_upscale', workflow: 'upscale', input: input.name, carry: {}, preset: {} };
      await runFollowUp(deps, ctx, record, action.index, upscale);
    },
  });
