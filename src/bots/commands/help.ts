import type { Param } from '../../comfy/manifest.js';
import { isMediaParam, paramUsage, primaryTextParam } from '../../comfy/param-kinds.js';
import { type Locale, t } from '../../i18n/index.js';
import { type CommandDefinition, defineCommand, howToSend } from '../command.js';
import { exampleLine, helpExample } from '../usage.js';
import { localized } from './common.js';

/**
 * Usage generated from the command list: every platform and the terminal show the same commands and options.
 * `mediaHint` says how files are sent where they are attachments (chats): commands that take one are marked 📎 and
 * the help ends with how to send them; without it files are typed as options (`--image <file>`). `compact` leaves
 * the option lines out, for a platform whose messages are too short for the whole help.
 */
export function helpText(
  commands: readonly CommandDefinition[],
  locale: Locale,
  prefix = '/',
  mediaHint?: (p: Param) => string,
  compact = false,
): string {
  const lines = [t(locale, 'bot.help_header')];
  const builtins: string[] = [];
  const hints = new Map<Param['type'], string>();
  for (const c of commands) {
    if (c.hidden || c.adminOnly) continue;
    if (!c.workflow) {
      if (c.name !== 'help') builtins.push(`${prefix}${c.name}${argsOf(c)} — ${c.description[locale]}`);
      continue;
    }
    const first = primaryTextParam(c.options.filter((p) => p.required));
    const files: Param[] = mediaHint ? c.options.filter(isMediaParam) : [];
    for (const p of files) if (!hints.has(p.type)) hints.set(p.type, (mediaHint as (p: Param) => string)(p));
    const clip = files.length ? ' 📎' : '';
    lines.push(`${prefix}${c.name}${first ? ` <${first.name}>` : ''}${clip} — ${c.description[locale]}`);
    const opts = c.options.filter((p) => p !== first && !files.includes(p)).map(paramUsage);
    if (opts.length && !compact) lines.push(`   ${opts.join(' · ')}`);
  }
  lines.push('', builtins.join('\n'));
  if (hints.size) lines.push('');
  for (const [kind, how] of hints)
    lines.push(t(locale, kind === 'audio' ? 'bot.help_media_audio' : 'bot.help_media_image', { how }));
  const example = helpExample(commands, prefix);
  if (example) lines.push('', t(locale, 'bot.help_options', { example }));
  return lines.join('\n');
}

/**
 * One command in full, for `npm run cli -- <command> --help`: its usage line, one line per option with what it is
 * (files as `--image <file>`), `extra` lines of the caller's own (the terminal's `--out`), and an example to copy.
 */
export function commandHelp(
  c: CommandDefinition,
  locale: Locale,
  prefix: string,
  extra: ReadonlyArray<[string, string]> = [],
): string {
  const positional: Param[] = c.workflow
    ? [primaryTextParam(c.options.filter((p) => p.required))].filter((p): p is NonNullable<typeof p> => Boolean(p))
    : [...(c.positional ?? []), ...(c.rest ? [c.rest] : [])].flatMap((n) => c.options.filter((o) => o.name === n));
  const required = t(locale, 'bot.help_required');
  const rows: Array<[string, string]> = [
    ...positional.map((p): [string, string] => [placeholder(p), p.description[locale]]),
    ...c.options
      .filter((p) => !positional.includes(p))
      .map((p): [string, string] => [paramUsage(p), `${p.description[locale]}${p.required ? required : ''}`]),
    ...extra,
  ];
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  const lines = [
    `${prefix}${c.name}${positional.map((p) => ` ${placeholder(p)}`).join('')} — ${c.description[locale]}`,
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
  ];
  const example = exampleLine(c, prefix, { flags: 1, files: true });
  if (example) lines.push(t(locale, 'bot.help_example'), example);
  return lines.join('\n');
}

/** `<job>` for a required option typed as free words, `[page]` for an optional one. */
const placeholder = (p: Param) => (p.required ? `<${p.name}>` : `[${p.name}]`);

/** `<job> [prompt]`: the positional options, required ones in angle brackets. */
const argsOf = (c: CommandDefinition) =>
  [...(c.positional ?? []), ...(c.rest ? [c.rest] : [])]
    .map((n) => c.options.find((o) => o.name === n))
    .map((o) => (o ? ` ${placeholder(o)}` : ''))
    .join('');

export const helpCommand = (list: () => readonly CommandDefinition[]) =>
  defineCommand({
    name: 'help',
    description: localized('menu.help'),
    options: [],
    public: true,
    async run(_input, ctx) {
      const help = (compact: boolean) =>
        helpText(list(), ctx.user.locale, ctx.commandPrefix, (p) => howToSend(ctx, p), compact);
      const full = help(false);
      // Discord's 2000 characters: the commands, how to send files and the example matter more than every option.
      const text = full.length <= ctx.maxText ? full : help(true).slice(0, ctx.maxText);
      await ctx.reply({ text, private: true });
    },
  });
