import { z } from 'zod';
import type { Manifest, Param } from './manifest.js';
import { isMediaParam, paramValueSchema } from './param-kinds.js';

export { MAX_SEED } from './param-kinds.js';

export const randomSeed = (random: () => number = Math.random) => Math.floor(random() * 2 ** 32);

type ParamsSchema = z.ZodObject<Record<string, z.ZodType>, z.core.$strict>;

/**
 * Schemas are immutable, so each is built once per parameter list (a manifest's, a command's) and prompt limit.
 * Building one per job cost more than the job's own checks: zod v4 compiles a schema on its first parse, and the
 * frontend and the worker both built a fresh one for every job (a fifth of all the memory a job allocated).
 */
const built = {
  all: new WeakMap<readonly Param[], Map<number, ParamsSchema>>(),
  options: new WeakMap<readonly Param[], Map<number, ParamsSchema>>(),
};

function schemaOf(params: readonly Param[], maxPromptChars: number, which: keyof typeof built): ParamsSchema {
  let byLimit = built[which].get(params);
  if (!byLimit) built[which].set(params, (byLimit = new Map()));
  let schema = byLimit.get(maxPromptChars);
  if (!schema) {
    const shape: Record<string, z.ZodType> = {};
    for (const p of params)
      if (which === 'all' || !isMediaParam(p)) shape[p.name] = paramValueSchema(p, maxPromptChars);
    byLimit.set(maxPromptChars, (schema = z.strictObject(shape)));
  }
  return schema;
}

/** The zod schema of a workflow's parameters, media as stored input names; re-checked by the worker. */
export function paramsSchemaOf(manifest: Manifest, maxPromptChars = 1000) {
  return schemaOf(manifest.params, maxPromptChars, 'all');
}

/** What a user types: every parameter but the media, which arrive as files. */
export function optionsSchemaOf(params: readonly Param[], maxPromptChars = 1000) {
  return schemaOf(params, maxPromptChars, 'options');
}

export type Params = Record<string, unknown>;

/** Fills in what the worker must not choose on its own: a concrete seed for every seed param. */
export function withSeeds(manifest: Manifest, params: Params, random?: () => number): Params {
  const out = { ...params };
  for (const p of manifest.params) if (p.type === 'seed' && out[p.name] === undefined) out[p.name] = randomSeed(random);
  return out;
}
