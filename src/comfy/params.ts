import { z } from 'zod';
import type { Manifest, Param } from './manifest.js';
import { isMediaParam, paramValueSchema } from './param-kinds.js';

export { MAX_SEED } from './param-kinds.js';

export const randomSeed = (random: () => number = Math.random) => Math.floor(random() * 2 ** 32);

function schemaOf(params: readonly Param[], maxPromptChars: number) {
  const shape: Record<string, z.ZodType> = {};
  for (const p of params) shape[p.name] = paramValueSchema(p, maxPromptChars);
  return z.strictObject(shape);
}

/** The zod schema of a workflow's parameters, media as stored input names; re-checked by the worker. */
export function paramsSchemaOf(manifest: Manifest, maxPromptChars = 1000) {
  return schemaOf(manifest.params, maxPromptChars);
}

/** What a user types: every parameter but the media, which arrive as files. */
export function optionsSchemaOf(params: readonly Param[], maxPromptChars = 1000) {
  return schemaOf(
    params.filter((p) => !isMediaParam(p)),
    maxPromptChars,
  );
}

export type Params = Record<string, unknown>;

/** Fills in what the worker must not choose on its own: a concrete seed for every seed param. */
export function withSeeds(manifest: Manifest, params: Params, random?: () => number): Params {
  const out = { ...params };
  for (const p of manifest.params) if (p.type === 'seed' && out[p.name] === undefined) out[p.name] = randomSeed(random);
  return out;
}
