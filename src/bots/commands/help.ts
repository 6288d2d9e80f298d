import { isMediaParam, paramUsage, primaryTextParam } from '../../comfy/param-kinds.js';
import { type Locale, t } from '../../i18n/index.js';
import { type CommandDefinition, defineCommand } from '../command.js';
import { localized } from './common.js';

/** Usage generated from the command list: every platform and the terminal show the same commands and options. */
export function helpText(commands: readonly CommandDefinition[], locale: Locale, prefix = '/'): string {
  const lines = [t(locale, 'bot.help_header')];
  const builtins: string[] = [];
  for (const c of commands) {
    if (c.hidden || c.adminOnly) continue;
    if (!c.workflow) {
      if (c.name !== 'help') builtins.push(`${prefix}${c.name}${argsOf(c)} — ${c.description[locale]}`);
      continue;
    }
    const first = primaryTextParam(c.options.filter((p) => p.required));
    lines.push(`${prefix}${c.name}${first ? ` <${first.name}>` : ''} — ${c.description[locale]}`);
    const opts = c.options.filter((p) => p !== first && !isMediaParam(p)).map(paramUsage);
    if (opts.length) lines.push(`   ${opts.join(' · ')}`);
  }
  lines.push('', t(locale, 'bot.help_options'), builtins.join('\n'));
  return lines.join('\n');
}

/** `<job> [prompt]`: the positional options, required ones in angle brackets. */
const argsOf = (c: CommandDefinition) =>
  [...(c.positional ?? []), ...(c.rest ? [c.rest] : [])]
    .map((n) => c.options.find((o) => o.name === n))
    .map((o) => (o ? (o.required ? ` <${o.name}>` : ` [${o.name}]`) : ''))
    .join('');

export const helpCommand = (list: () => readonly CommandDefinition[]) =>
  defineCommand({
    name: 'help',
    description: localized('menu.help'),
    options: [],
    public: true,
    async run(_input, ctx) {
      await ctx.reply({
        text: helpText(list(), ctx.user.locale, ctx.commandPrefix).slice(0, ctx.maxText),
        private: true,
      });
    },
  });
