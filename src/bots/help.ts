import type { Param } from '../comfy/manifest.js';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import { t, type Locale } from '../i18n/index.js';

/** Usage text generated from the manifests: every platform and the terminal show the same options. */
export function optionUsage(p: Param): string {
  const names = [`--${p.name}`, ...p.aliases.map((a) => `--${a}`)].join('/');
  switch (p.type) {
    case 'int':
    case 'float':
      return `${names} ${p.min}–${p.max}${p.default !== undefined ? ` (${p.default})` : ''}`;
    case 'choice':
      return p.dynamic ? `${names} <name> (/models)` : `${names} ${p.choices.map((c) => c.value).join(' | ')}`;
    case 'seed':
      return `${names} <number>`;
    case 'text':
      return `${names} "…"`;
    default:
      return names;
  }
}

export function helpText(workflows: WorkflowRegistry, locale: Locale, prefix = '/'): string {
  const lines = [t(locale, 'bot.help_header')];
  for (const wf of workflows.values()) {
    const first = wf.manifest.params.find((p) => p.type === 'text' && p.required);
    lines.push(`${prefix}${wf.name}${first ? ` <${first.name}>` : ''} — ${wf.manifest.description[locale]}`);
    const opts = wf.manifest.params
      .filter((p) => p !== first && p.type !== 'image' && p.type !== 'audio')
      .map(optionUsage);
    if (opts.length) lines.push(`   ${opts.join(' · ')}`);
  }
  lines.push('', t(locale, 'bot.help_options'), t(locale, 'bot.help_builtin'));
  return lines.join('\n');
}

/** One line per param for /gallery's job view and result captions. */
export function paramsSummary(params: Record<string, unknown>, max = 600): string {
  const text = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
