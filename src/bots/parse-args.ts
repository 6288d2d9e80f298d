import type { Manifest, Param } from '../comfy/manifest.js';
import { coerceParam, isMediaParam } from '../comfy/param-kinds.js';
import { UserError } from '../errors.js';
import { closestOption } from './closest-option.js';
import { invalidOptions } from './validate.js';

/**
 * Text frontends (terminal, Telegram): `a red fox --aspect 16:9 --n 2` → raw values for a command's schema.
 * Free words fill the command's positional options (a workflow's: its first text option); `--name value` (or an
 * alias) fills the rest. Numbers are converted only when they look like numbers, so the schema reports the rest.
 */
interface Token {
  value: string;
  /** Where the token starts in the typed text. */
  at: number;
}

function tokenize(text: string): Token[] {
  const re = /"([^"]*)"|'([^']*)'|“([^”]*)”|(\S+)/g;
  return [...text.matchAll(re)].map((m) => ({ value: m[1] ?? m[2] ?? m[3] ?? m[4] ?? '', at: m.index }));
}

export const splitArgs = (text: string): string[] => tokenize(text).map((t) => t.value);

export interface ArgSpec {
  options: readonly Param[];
  /** Free words fill these in order; the last takes every remaining free word. */
  positional?: readonly string[];
  /** Takes the rest of the text as typed (flags included) once the positional options are filled. */
  rest?: string;
}

const FLAG = /^(?:--|—)([a-z][a-z0-9_-]*)(?:=(.*))?$/i;

/**
 * Media options (images, audio) are files, not text: in chats they come as attachments, so typing `--image x`
 * is refused as unknown there. The terminal takes them out first (`takeMediaPaths`).
 */
export function parseArgs(
  spec: ArgSpec,
  text: string | string[],
  opts: { allowMedia?: boolean } = {},
): Record<string, unknown> {
  const tokens = typeof text === 'string' ? tokenize(text) : text.map((value) => ({ value, at: -1 }));
  const byName = new Map<string, Param>();
  for (const p of spec.options) for (const n of [p.name, ...p.aliases]) byName.set(n, p);
  const free: string[] = [];
  const values: Record<string, unknown> = {};
  const positional = spec.positional ?? [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as Token;
    if (spec.rest && free.length >= positional.length && typeof text === 'string') {
      values[spec.rest] = text.slice(tok.at).trim();
      break;
    }
    const flag = FLAG.exec(tok.value);
    if (!flag) {
      // A built-in's word naming one of its on/off options switches it on: `/gallery starred`.
      const named = positional.length ? byName.get(tok.value.toLowerCase()) : undefined;
      if (named?.type === 'bool' && !positional.includes(named.name)) values[named.name] = true;
      else free.push(tok.value);
      continue;
    }
    const name = (flag[1] as string).toLowerCase().replace(/-/g, '_');
    const param = byName.get(name);
    if (!param || (isMediaParam(param) && !opts.allowMedia)) throw unknownOption(name, spec.options, opts);
    // `--model="a b"` keeps its quotes through the tokenizer (it splits on the flag, not inside it): drop them.
    let raw = flag[2]?.replace(/^(["'“])([\s\S]*)(["'”])$/, '$2');
    if (raw === undefined) {
      const next = tokens[i + 1]?.value;
      // `--starred` alone is on; `--starred off` says which.
      if (param.type === 'bool' && typeof coerceParam(param, next ?? '') !== 'boolean') {
        values[param.name] = true;
        continue;
      }
      if (next === undefined || /^--[a-z]/i.test(next)) throw needsValue(param.name);
      raw = next;
      i += 1;
    }
    values[param.name] = coerceParam(param, raw);
  }
  if (free.length) fillFree(spec, free, values);
  return values;
}

function fillFree(spec: ArgSpec, free: string[], values: Record<string, unknown>) {
  const byName = new Map(spec.options.map((p) => [p.name, p]));
  const positional = spec.positional?.map((n) => byName.get(n)).filter((p): p is Param => Boolean(p));
  if (positional?.length) {
    positional.forEach((p, i) => {
      const words = i === positional.length - 1 ? free.slice(i) : free.slice(i, i + 1);
      if (words.length && values[p.name] === undefined) values[p.name] = coerceParam(p, words.join(' '));
    });
    return;
  }
  const texts = spec.options.filter((p) => p.type === 'text' && values[p.name] === undefined);
  const target = texts.find((p) => p.required) ?? texts[0];
  if (!target) throw invalidOptions([{ key: 'issue.unexpected_text', params: { text: free.join(' ').slice(0, 50) } }]);
  values[target.name] = free.join(' ');
}

const needsValue = (name: string) => invalidOptions([{ key: 'issue.needs_value', params: { name } }]);

/** `--ratio` → "did you mean --aspect?", among the options that may be typed here. */
function unknownOption(name: string, options: readonly Param[], opts: { allowMedia?: boolean }) {
  const typable = options.filter((p) => opts.allowMedia || !isMediaParam(p));
  const suggestion = closestOption(name, typable);
  return new UserError('error.unknown_option', suggestion ? { name, suggestion } : { name });
}

/** A workflow's options from typed text (chats and terminal alike). */
export const parseWorkflowArgs = (manifest: Manifest, text: string | string[], opts: { allowMedia?: boolean } = {}) =>
  parseArgs({ options: manifest.params }, text, opts);

/** The terminal's `--image ./photo.png`: media paths taken out of the tokens before the options are parsed. */
export function takeMediaPaths(params: readonly Param[], tokens: string[]) {
  const media = new Map<string, Param>();
  for (const p of params.filter(isMediaParam)) for (const n of [p.name, ...p.aliases]) media.set(n, p);
  const paths: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const flag = FLAG.exec(tokens[i] as string);
    const p = flag && media.get((flag[1] as string).toLowerCase().replace(/-/g, '_'));
    if (!flag || !p) {
      rest.push(tokens[i] as string);
      continue;
    }
    const value = flag[2] ?? tokens[++i];
    if (value === undefined) throw needsValue(p.name);
    paths[p.name] = value;
  }
  return { paths, rest };
}
