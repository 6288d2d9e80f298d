import { comboOptions } from '../../comfy/object-info.js';
import { type Locale, t } from '../../i18n/index.js';
import { defineCommand } from '../command.js';
import { localized } from './common.js';
import type { CommandDeps } from './deps.js';

/** Model choices per workflow option, from ComfyUI's /object_info. */
export async function modelChoices(deps: CommandDeps) {
  const info = await deps.objectInfo();
  if (!info) return [];
  const out: Array<{ workflow: string; option: string; choices: string[] }> = [];
  for (const wf of deps.workflows.values()) {
    for (const p of wf.manifest.params) {
      if (p.type !== 'choice' || !p.dynamic) continue;
      const target = p.targets[0];
      const node = target && wf.graph[target.node];
      if (!target || !node) continue;
      out.push({ workflow: wf.name, option: p.name, choices: comboOptions(info, node.class_type, target.input) ?? [] });
    }
  }
  return out;
}

/** Model choices as text, cut to a message's limit. */
export async function modelsText(deps: CommandDeps, locale: Locale, maxChars: number): Promise<string> {
  const lines = (await modelChoices(deps))
    .filter((m) => m.choices.length)
    .map(
      (m) =>
        `/${m.workflow} --${m.option}:\n${m.choices
          .slice(0, 30)
          .map((c) => `• ${c}`)
          .join('\n')}`,
    );
  return lines.length
    ? `${t(locale, 'bot.models_header')}\n${lines.join('\n\n')}`.slice(0, maxChars)
    : t(locale, 'bot.models_none');
}

export const modelsCommand = (deps: CommandDeps) =>
  defineCommand({
    name: 'models',
    description: localized('menu.models'),
    options: [],
    async run(_input, ctx) {
      await ctx.defer({ private: true });
      await ctx.reply({ text: await modelsText(deps, ctx.user.locale, ctx.maxText - 10), private: true });
    },
  });
