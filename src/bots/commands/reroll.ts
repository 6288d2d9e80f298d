import { defineAction } from '../dispatch.js';
import { remixJob } from './remix.js';
import type { CommandDeps } from './deps.js';

/** Reroll: the same workflow and options, a new seed. */
export const rerollAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'reroll',
    async run(_action, ctx, { record }) {
      if (record) await remixJob(deps, ctx, record, '');
    },
  });
