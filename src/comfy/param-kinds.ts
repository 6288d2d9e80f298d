import { z } from 'zod';
import type { MessageKey } from '../i18n/index.js';
import type { Param } from './manifest.js';

/**
 * Every manifest parameter kind, defined once: its value schema, how typed text becomes a value, what a refused value
 * tells the user, its usage text and whether it is a file. The `satisfies` below makes the compiler list this file
 * (and every other exhaustive switch on `Param['type']`) when a kind is added, e.g. a LoRA list.
 */

/** Seeds stay below 2^48: exact in a JS number and accepted by every sampler node we know (comfyui-api.md §6.8). */
export const MAX_SEED = 2 ** 48 - 1;

/** A stored input's name under STORAGE_DIR/inputs (never a user-supplied path). */
const storedName = z.string().regex(/^[A-Za-z0-9_-]+\.[a-z0-9]{2,5}$/);

/** What is wrong with one value, as a catalog key and its parameters: users never read zod's own English. */
export interface Problem {
  key: MessageKey;
  params: Record<string, string | number>;
}

type Issue = z.core.$ZodIssue;

interface Kind<P extends Param> {
  /** A file the user sends (image, audio) rather than a value they type. */
  isMedia: boolean;
  /** The schema of the value, with the manifest's default and requiredness. */
  schema(p: P, maxPromptChars: number): z.ZodType;
  /** Typed text → the value handed to the schema (left as text when it does not look right, so the schema explains). */
  coerce(raw: string): unknown;
  /** Why the schema refused a value that was given (a missing required one is `issue.missing` for every kind). */
  problem(p: P, issue: Issue): Problem;
  /** What follows `--name` in usage lines. */
  usage(p: P): string;
}

type Kinds = { [K in Param['type']]: Kind<Extract<Param, { type: K }>> };

const withDefault = <T extends z.ZodType>(s: T, p: { required: boolean; default?: unknown }) =>
  p.default !== undefined ? s.default(p.default as never) : p.required ? s : s.optional();

const asNumber = (re: RegExp) => (raw: string) => (re.test(raw) ? Number(raw) : raw);
const BOOL_WORDS: Record<string, boolean> = { on: true, yes: true, true: true, off: false, no: false, false: false };
/** Typed words (and Discord string values) → a boolean; anything else is left for the schema to refuse. */
const asBool = (raw: unknown) => (typeof raw === 'string' ? (BOOL_WORDS[raw.trim().toLowerCase()] ?? raw) : raw);
const INT = /^-?\d+$/;
const FLOAT = /^-?(\d+\.?\d*|\.\d+)$/;

const outOfRange = (issue: Issue) => issue.code === 'too_big' || issue.code === 'too_small';
const range = (p: { name: string; min: number; max: number }) => ({ name: p.name, min: p.min, max: p.max });
/** Choices travel as one line each: each catalog lists them its own way (`, ` or `、`). */
export const CHOICE_SEPARATOR = '\n';

export const paramKinds = {
  text: {
    isMedia: false,
    schema(p, maxPromptChars) {
      const max = Math.min(p.maxLength, maxPromptChars);
      const s = z.string().trim().max(max);
      const text = (required: boolean) =>
        z
          .string()
          .transform(visibleText)
          .pipe(required ? s.min(1) : s);
      return p.required ? text(true) : text(false).default(p.default ?? '');
    },
    coerce: (raw) => raw,
    problem: (p, issue): Problem =>
      issue.code === 'too_big'
        ? { key: 'issue.too_long', params: { name: p.name, max: Number(issue.maximum) } }
        : { key: 'issue.not_text', params: { name: p.name } },
    usage: () => '"…"',
  },
  int: {
    isMedia: false,
    schema: (p) => withDefault(z.number().int().min(p.min).max(p.max), p),
    coerce: asNumber(INT),
    problem: (p, issue) => ({ key: outOfRange(issue) ? 'issue.range' : 'issue.whole_number', params: range(p) }),
    usage: (p) => `${p.min}–${p.max}${p.default !== undefined ? ` (${p.default})` : ''}`,
  },
  float: {
    isMedia: false,
    schema: (p) => withDefault(z.number().min(p.min).max(p.max), p),
    coerce: asNumber(FLOAT),
    problem: (p, issue) => ({ key: outOfRange(issue) ? 'issue.range' : 'issue.number', params: range(p) }),
    usage: (p) => `${p.min}–${p.max}${p.default !== undefined ? ` (${p.default})` : ''}`,
  },
  choice: {
    isMedia: false,
    schema: (p) =>
      withDefault(
        p.dynamic ? z.string().min(1).max(256) : z.enum(p.choices.map((c) => c.value) as [string, ...string[]]),
        p,
      ),
    coerce: (raw) => raw,
    problem: (p): Problem =>
      p.dynamic
        ? { key: 'issue.model', params: { name: p.name } }
        : {
            key: 'issue.one_of',
            params: { name: p.name, choices: p.choices.map((c) => c.value).join(CHOICE_SEPARATOR) },
          },
    usage: (p) => (p.dynamic ? '<name> (/models)' : p.choices.map((c) => c.value).join(' | ')),
  },
  seed: {
    isMedia: false,
    schema: () => z.number().int().min(0).max(MAX_SEED).optional(),
    coerce: asNumber(INT),
    problem: (p, issue): Problem =>
      outOfRange(issue)
        ? { key: 'issue.range', params: { name: p.name, min: 0, max: MAX_SEED } }
        : { key: 'issue.whole_number', params: { name: p.name } },
    usage: () => '<number>',
  },
  bool: {
    isMedia: false,
    schema: (p) => withDefault(z.preprocess(asBool, z.boolean()), p),
    coerce: asBool,
    problem: (p) => ({ key: 'issue.one_of', params: { name: p.name, choices: ['on', 'off'].join(CHOICE_SEPARATOR) } }),
    usage: (p) => `on | off${p.default !== undefined ? ` (${p.default ? 'on' : 'off'})` : ''}`,
  },
  image: {
    isMedia: true,
    schema: (p) => (p.required ? storedName : storedName.optional()),
    coerce: (raw) => raw,
    problem: (p) => ({ key: 'issue.file', params: { name: p.name } }),
    usage: () => '<file>',
  },
  audio: {
    isMedia: true,
    schema: (p) => (p.required ? storedName : storedName.optional()),
    coerce: (raw) => raw,
    problem: (p) => ({ key: 'issue.file', params: { name: p.name } }),
    usage: () => '<file>',
  },
} satisfies Kinds;

/** Control characters (NUL, escapes, C1) never reach ComfyUI; tabs and line breaks stay. */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** What shows nothing on screen: spaces, zero-width and bidi marks, other format characters, Hangul fillers. */
const INVISIBLE = /[\p{Z}\p{Cc}\p{Cf}\u115F\u1160\u3164\uFFA0\u2800]/gu;

/** Typed text without control characters; '' when nothing visible is left (refused like an empty prompt). */
export function visibleText(raw: string): string {
  const text = raw.replace(CONTROL, '');
  return text.replace(INVISIBLE, '') === '' ? '' : text;
}

const kindOf = <P extends Param>(p: P) => paramKinds[p.type] as unknown as Kind<P>;

export const isMediaParam = (p: Param): p is Extract<Param, { type: 'image' | 'audio' }> => kindOf(p).isMedia;

/** The value schema of one parameter. */
export const paramValueSchema = (p: Param, maxPromptChars: number): z.ZodType => kindOf(p).schema(p, maxPromptChars);

/** Typed text for one parameter → its raw value. */
export const coerceParam = (p: Param, raw: string): unknown => kindOf(p).coerce(raw);

/**
 * What the user reads about a value the schema refused. A required value left out (or a text with nothing visible
 * in it) is `issue.missing` whatever the kind: the caller answers a missing text with the command's usage.
 */
export function paramProblem(p: Param, issue: Issue, value: unknown): Problem {
  const empty = value === undefined || (p.type === 'text' && typeof value === 'string' && !visibleText(value).trim());
  if (p.required && empty) return { key: 'issue.missing', params: { name: p.name } };
  return kindOf(p).problem(p, issue);
}

/** `--aspect/--ar 1:1 | 16:9`, `--image <file>` — the names and what to type after them. */
export function paramUsage(p: Param): string {
  const names = [`--${p.name}`, ...p.aliases.map((a) => `--${a}`)].join('/');
  return `${names} ${kindOf(p).usage(p)}`;
}

/**
 * The text a workflow is about (prompt, instruction, …): the first required text parameter, else the first text one.
 * Captions, gallery labels and the remix prefill use it, whatever the manifest calls it.
 */
export function primaryTextParam(params: readonly Param[]): Extract<Param, { type: 'text' }> | undefined {
  const texts = params.filter((p): p is Extract<Param, { type: 'text' }> => p.type === 'text');
  return texts.find((p) => p.required) ?? texts[0];
}
