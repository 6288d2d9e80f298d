import type { Manifest, Param } from '../comfy/manifest.js';
import { UserError } from '../errors.js';

/**
 * Text frontends (terminal, Telegram): `a red fox --aspect 16:9 --n 2` → typed raw values for the
 * workflow's zod schema. Free text fills the first required text option; `--name value` (or an alias)
 * fills the rest. Numbers are converted only when they look like numbers, so the schema reports the rest.
 */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|“([^”]*)”|(\S+)/g;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4] ?? '');
  return out;
}

/**
 * Media options (images, audio) are files, not text: in chats they come as attachments, so typing `--image x`
 * is refused as unknown there. The terminal passes `allowMedia` and treats their values as file paths.
 */
export function parseWorkflowArgs(
  manifest: Manifest,
  tokens: string[],
  opts: { allowMedia?: boolean } = {},
): Record<string, unknown> {
  const byName = new Map<string, Param>();
  for (const p of manifest.params) for (const n of [p.name, ...p.aliases]) byName.set(n, p);
  const free: string[] = [];
  const values: Record<string, unknown> = {};
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as string;
    const flag = /^(?:--|—)([a-z][a-z0-9_-]*)(?:=(.*))?$/i.exec(tok);
    if (!flag) {
      free.push(tok);
      continue;
    }
    const name = (flag[1] as string).toLowerCase().replace(/-/g, '_');
    const param = byName.get(name);
    if (!param || (!opts.allowMedia && (param.type === 'image' || param.type === 'audio')))
      throw new UserError('error.unknown_option', { name });
    let raw = flag[2];
    if (raw === undefined) {
      const next = tokens[i + 1];
      if (next === undefined || /^--[a-z]/i.test(next))
        throw new UserError('error.invalid_options', { issues: `• ${param.name}: a value is needed` });
      raw = next;
      i += 1;
    }
    values[param.name] = coerce(param, raw);
  }
  if (free.length) {
    const target =
      manifest.params.find((p) => p.type === 'text' && p.required && values[p.name] === undefined) ??
      manifest.params.find((p) => p.type === 'text' && values[p.name] === undefined);
    if (!target)
      throw new UserError('error.invalid_options', { issues: `• unexpected text: ${free.join(' ').slice(0, 50)}` });
    values[target.name] = free.join(' ');
  }
  return values;
}

function coerce(p: Param, raw: string): unknown {
  switch (p.type) {
    case 'int':
    case 'seed':
      return /^-?\d+$/.test(raw) ? Number(raw) : raw;
    case 'float':
      return /^-?(\d+\.?\d*|\.\d+)$/.test(raw) ? Number(raw) : raw;
    default:
      return raw;
  }
}
