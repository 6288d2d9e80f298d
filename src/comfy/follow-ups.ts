import { en } from '../i18n/en.js';
import type { FollowUp, Manifest, Param } from './manifest.js';
import { isMediaParam, paramValueSchema } from './param-kinds.js';

/**
 * Checks a manifest's follow-ups against the manifests they name, once every manifest is loaded: the target exists,
 * the result goes into one of its image parameters, carried and preset values fit the target's parameters, and
 * nothing the target requires is left without a value. Returns the problems found ("followUps[1]: …").
 */
export function checkFollowUps(source: Manifest, manifests: ReadonlyMap<string, Manifest>): string[] {
  return source.followUps.flatMap((f, i) =>
    checkOne(source, f, manifests.get(f.workflow)).map((p) => `followUps[${i}]: ${p}`),
  );
}

function checkOne(source: Manifest, f: FollowUp, target: Manifest | undefined): string[] {
  if (typeof f.label === 'string' && !(f.label in en)) return [`label "${f.label}" is not a message key`];
  if (!target) return [`workflow "${f.workflow}" is not loaded (no ${f.workflow}.manifest.json)`];
  const problems: string[] = [];
  const param = (name: string) => target.params.find((p) => p.name === name);
  const input = param(f.input);
  if (input?.type !== 'image') problems.push(`${f.workflow} has no image parameter "${f.input}"`);
  for (const [to, from] of Object.entries(f.carry)) {
    const t = param(to);
    const s = source.params.find((p) => p.name === from);
    if (!t || isMediaParam(t)) problems.push(`carry.${to}: ${f.workflow} has no option "${to}"`);
    else if (!s || isMediaParam(s)) problems.push(`carry.${to}: ${source.command} has no option "${from}"`);
    else {
      const why = incompatible(s, t);
      if (why) problems.push(`carry.${to}: ${source.command}'s ${from} ${why}`);
    }
  }
  for (const [name, value] of Object.entries(f.preset)) {
    const t = param(name);
    if (!t || isMediaParam(t)) problems.push(`preset.${name}: ${f.workflow} has no option "${name}"`);
    else if (name in f.carry) problems.push(`preset.${name}: also carried`);
    else if (!paramValueSchema(t, Number.MAX_SAFE_INTEGER).safeParse(value).success)
      problems.push(`preset.${name}: ${JSON.stringify(value)} is not a valid ${t.type} for ${f.workflow}`);
  }
  for (const p of target.params) {
    if (!p.required || p.name === f.input || (p as { default?: unknown }).default !== undefined) continue;
    if (isMediaParam(p))
      problems.push(`${f.workflow} also needs the ${p.type} "${p.name}", which a follow-up cannot give`);
    else if (!(p.name in f.carry) && !(p.name in f.preset))
      problems.push(`${f.workflow}'s required option "${p.name}" is neither carried nor preset`);
  }
  return problems;
}

/** Why a value of `s` may not fit `t` (undefined when every value of `s` fits). */
function incompatible(s: Param, t: Param): string | undefined {
  const numeric = (p: Param) => p.type === 'int' || p.type === 'float';
  if (numeric(s) && numeric(t) && 'min' in s && 'min' in t) {
    if (s.type === 'float' && t.type === 'int') return 'is a float, the target an int';
    if (s.min < t.min || s.max > t.max) return `(${s.min}–${s.max}) does not fit ${t.min}–${t.max}`;
    return undefined;
  }
  if (s.type !== t.type) return `is ${s.type}, the target ${t.type}`;
  if (s.type === 'choice' && t.type === 'choice' && !t.dynamic) {
    const allowed = new Set(t.choices.map((c) => c.value));
    const missing = s.dynamic ? ['(any model)'] : s.choices.map((c) => c.value).filter((v) => !allowed.has(v));
    if (missing.length) return `has choices the target lacks: ${missing.join(', ')}`;
  }
  return undefined;
}
