import type { z } from 'zod';
import type { Manifest, Param } from '../comfy/manifest.js';
import { type Problem, paramProblem } from '../comfy/param-kinds.js';
import { optionsSchemaOf, paramsSchemaOf, withSeeds } from '../comfy/params.js';
import { UserError } from '../errors.js';
import { type Locale, t } from '../i18n/index.js';

/**
 * The one validation pass of a command's options. A value that passed is marked (branded), so the job tracker
 * trusts it instead of checking again; the worker re-checks in its own process against the same schema.
 * What the user reads about a refused value comes from our catalogs (one problem per kind, `param-kinds.ts`),
 * never from zod's English.
 */
declare const valid: unique symbol;
export type ValidParams = Readonly<Record<string, unknown>> & { readonly [valid]: true };

const checked = new WeakSet<object>();

export const isValidParams = (p: object): p is ValidParams => checked.has(p);

/**
 * A required text (a prompt, a job id) that was left out or holds nothing visible: answered with the command's
 * usage and an example (`error-text.ts`), plus whatever else was wrong.
 */
export class MissingTextError extends UserError {
  constructor(
    readonly param: Param,
    readonly others: readonly Problem[],
  ) {
    super('error.invalid_options', { issues: (locale) => problemLines([missing(param), ...others], locale) });
  }
}

const missing = (p: Param): Problem => ({ key: 'issue.missing', params: { name: p.name } });

/** `• count must be 1–4`, one line per problem, in the reader's language. */
export const problemLines = (problems: readonly Problem[], locale: Locale) =>
  problems.map((p) => `• ${t(locale, p.key, p.params)}`).join('\n');

/** The refusal of options that parsed but are not valid. */
export const invalidOptions = (problems: readonly Problem[], cause?: unknown) =>
  new UserError('error.invalid_options', { issues: (locale) => problemLines(problems, locale) }, { cause });

/** Typed options (no media) for a command or a workflow, before any file is downloaded. */
export function parseOptions(specs: readonly Param[], raw: Record<string, unknown>, maxPromptChars: number) {
  tooLong(specs, raw, maxPromptChars);
  return result(specs, raw, optionsSchemaOf(specs, maxPromptChars).safeParse(raw));
}

/** A workflow's full parameters (media as stored names), with a concrete seed: ready to enqueue. */
export function validParams(manifest: Manifest, raw: Record<string, unknown>, maxPromptChars: number): ValidParams {
  if (isValidParams(raw)) return raw;
  tooLong(manifest.params, raw, maxPromptChars);
  const params = withSeeds(
    manifest,
    result(manifest.params, raw, paramsSchemaOf(manifest, maxPromptChars).safeParse(raw)),
  );
  checked.add(params);
  return params as ValidParams;
}

function tooLong(specs: readonly Param[], raw: Record<string, unknown>, maxPromptChars: number) {
  for (const p of specs) {
    const v = raw[p.name];
    if (p.type !== 'text' || typeof v !== 'string') continue;
    const max = Math.min(p.maxLength, maxPromptChars);
    if (v.trim().length > max) throw new UserError('error.prompt_too_long', { length: v.trim().length, max });
  }
}

function result(
  specs: readonly Param[],
  raw: Record<string, unknown>,
  parsed: z.ZodSafeParseResult<Record<string, unknown>>,
): Record<string, unknown> {
  if (parsed.success) return parsed.data;
  const byName = new Map(specs.map((p) => [p.name, p]));
  const problems: Problem[] = [];
  let missingText: Param | undefined;
  for (const issue of parsed.error.issues) {
    const p = byName.get(String(issue.path[0] ?? ''));
    if (!p) {
      // Keys the schema does not know (a file typed as an option, say).
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [issue.path.join('.')];
      for (const name of keys) problems.push({ key: 'issue.unknown_option', params: { name } });
      continue;
    }
    const problem = paramProblem(p, issue, raw[p.name]);
    if (problem.key === 'issue.missing' && p.type === 'text' && !missingText) missingText = p;
    else problems.push(problem);
  }
  if (missingText) throw new MissingTextError(missingText, problems);
  throw invalidOptions(problems, parsed.error);
}

/** Options that passed `parseOptions` plus the stored media names (ours): ready to enqueue without a second pass. */
export function assembleParams(manifest: Manifest, options: Record<string, unknown>): ValidParams {
  const params = withSeeds(manifest, options);
  checked.add(params);
  return params as ValidParams;
}
