import path from 'node:path';
import type { CommandDeps } from '../../src/bots/commands/deps.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';

/**
 * CommandDeps for unit tests: the real workflow catalogue plus whatever the test passes; any other dependency
 * throws when touched, so a test cannot pass by ignoring a call it did not expect.
 */
export function strictCommandDeps(given: Partial<CommandDeps> = {}): CommandDeps {
  const base: Partial<CommandDeps> = {
    workflows: loadWorkflows(path.resolve('workflows')),
    maxPromptChars: 1000,
    ...given,
  };
  return new Proxy(base as CommandDeps, {
    get(target, key) {
      if (key in target) return target[key as keyof CommandDeps];
      if (key === 'then') return undefined;
      throw new Error(`unexpected use of deps.${String(key)}`);
    },
  });
}
