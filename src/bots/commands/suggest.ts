import type { Suggester } from '../dispatch.js';
import { mainText } from './common.js';
import type { CommandDeps } from './deps.js';
import { modelChoices } from './models.js';

/** Choices while typing (Discord autocomplete): the user's recent jobs, or the models ComfyUI offers. */
export const createSuggester =
  (deps: CommandDeps): Suggester =>
  async (source, { command, option, query, user }) => {
    const q = query.toLowerCase();
    if (source === 'jobs') {
      const { items } = deps.repo.page({ platform: user.platform, userId: user.userId }, 0, 25);
      return items
        .filter((r) => r.shortId.startsWith(q) || mainText(deps.workflows, r).toLowerCase().includes(q))
        .map((r) => ({
          name: `${r.shortId} · ${r.workflow} · ${mainText(deps.workflows, r) || r.status}`.slice(0, 100),
          value: r.shortId,
        }))
        .slice(0, 25);
    }
    const models = await modelChoices(deps);
    const own = models.find((m) => m.workflow === command && m.option === option);
    // A built-in's option (/settings model) offers that option's choices over every workflow.
    const choices = deps.workflows.has(command)
      ? (own?.choices ?? [])
      : [...new Set(models.filter((m) => m.option === option).flatMap((m) => m.choices))];
    return choices
      .filter((c) => c.toLowerCase().includes(q))
      .slice(0, 25)
      .map((c) => ({ name: c.slice(0, 100), value: c.slice(0, 100) }));
  };
