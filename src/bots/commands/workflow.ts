import type { Workflow } from '../../comfy/workflows.js';
import { defineCommand, type OptionSpec } from '../command.js';
import { submitJob } from '../submit.js';
import type { CommandDeps } from './deps.js';
import { storedDefaults } from './settings.js';

/** One command per workflow manifest: its parameters are the options; running it queues a job. */
export function workflowCommand(wf: Workflow, deps: CommandDeps) {
  const options: OptionSpec[] = wf.manifest.params.map((p) =>
    p.type === 'choice' && p.dynamic ? { ...p, suggest: 'models' } : p,
  );
  return defineCommand<Record<string, unknown>>({
    name: wf.name,
    description: wf.manifest.description,
    options,
    workflow: wf.name,
    defaults: (user) => storedDefaults(wf.manifest.params, user.settings, deps.maxPromptChars),
    async run(input, ctx) {
      await submitJob(deps, ctx, wf.name, input, { media: true });
    },
  });
}
