import type { z } from 'zod';
import type { Manifest, Param } from '../comfy/manifest.js';
import { optionsSchemaOf, paramsSchemaOf, withSeeds } from '../comfy/params.js';
import { UserError } from '../errors.js';

/**
 * The one validation pass of a command's options. A value that passed is marked (branded), so the job tracker
 * trusts it instead of checking again; the worker re-checks in its own process against the same schema.
 */
declare const valid: unique symbol;
export type ValidParams = Readonly<Record<string, unknown>> & { readonly [valid]: true };

const checked = new WeakSet<object>();

export const isValidParams = (p: object): p is ValidParams => checked.has(p);

/** Typed options (no media) for a command or a workflow, before any file is downloaded. */
export function parseOptions(specs: readonly Param[], raw: Record<string, unknown>, maxPromptChars: number) {
  tooLong(specs, raw, maxPromptChars);
  return result(optionsSchemaOf(specs, maxPromptChars).safeParse(raw));
}

/** A workflow's full parameters (media as stored names), with a concrete seed: ready to enqueue. */
export function validParams(manifest: Manifest, raw: Record<string, unknown>, maxPromptChars: number): ValidParams {
  if (isValidParams(raw)) return raw;
  tooLong(manifest.params, raw, maxPromptChars);
  const params = withSeeds(manifest, result(paramsSchemaOf(manifest, maxPromptChars).safeParse(raw)));
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

function result(parsed: z.ZodSafeParseResult<Record<string, unknown>>): Record<string, unknown> {
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `• ${i.path.join('.') || '(options)'}: ${i.message}`).join('\n');
  throw new UserError('error.invalid_options', { issues });
}

/** Options that passed `parseOptions` plus the stored media names (ours): ready to enqueue without a second pass. */
export function assembleParams(manifest: Manifest, options: Record<string, unknown>): ValidParams {
  const params = withSeeds(manifest, options);
  checked.add(params);
  return params as ValidParams;
}
