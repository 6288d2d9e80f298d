import { z } from 'zod';
import type { Manifest, Param } from './manifest.js';

/** Seeds stay below 2^48: exact in a JS number and accepted by every sampler node we know (comfyui-api.md §6.8). */
export const MAX_SEED = 2 ** 48 - 1;

export const randomSeed = (random: () => number = Math.random) => Math.floor(random() * 2 ** 32);

function paramValueSchema(p: Param, maxPromptChars: number): z.ZodType {
  switch (p.type) {
    case 'text': {
      const max = Math.min(p.maxLength, maxPromptChars);
      const s = z
        .string()
        .trim()
        .max(max, { error: `at most ${max} characters` });
      return p.required ? s.min(1) : s.default(p.default ?? '');
    }
    case 'int': {
      const n = z.number().int().min(p.min).max(p.max);
      return p.default !== undefined ? n.default(p.default) : p.required ? n : n.optional();
    }
    case 'float': {
      const n = z.number().min(p.min).max(p.max);
      return p.default !== undefined ? n.default(p.default) : p.required ? n : n.optional();
    }
    case 'choice': {
      const s = p.dynamic ? z.string().min(1).max(256) : z.enum(p.choices.map((c) => c.value) as [string, ...string[]]);
      return p.default !== undefined ? s.default(p.default) : p.required ? s : s.optional();
    }
    case 'seed':
      return z.number().int().min(0).max(MAX_SEED).optional();
    case 'image':
    case 'audio': {
      // A stored input's name under STORAGE_DIR/inputs (never a user-supplied path).
      const s = z.string().regex(/^[A-Za-z0-9_-]+\.[a-z0-9]{2,5}$/);
      return p.required ? s : s.optional();
    }
  }
}

/** The zod schema of a workflow command's parameters; used by commands and re-checked by the worker. */
export function paramsSchemaOf(manifest: Manifest, maxPromptChars = 1000) {
  const shape: Record<string, z.ZodType> = {};
  for (const p of manifest.params) shape[p.name] = paramValueSchema(p, maxPromptChars);
  return z.strictObject(shape);
}

export type Params = Record<string, unknown>;

/** Fills in what the worker must not choose on its own: a concrete seed for every seed param. */
export function withSeeds(manifest: Manifest, params: Params, random?: () => number): Params {
  const out = { ...params };
  for (const p of manifest.params) if (p.type === 'seed' && out[p.name] === undefined) out[p.name] = randomSeed(random);
  return out;
}
