import { describe, expect, it } from 'vitest';
import { type Param, paramSchema } from '../../src/comfy/manifest.js';
import { optionsSchemaOf, paramsSchemaOf } from '../../src/comfy/params.js';

const param = (spec: Record<string, unknown>): Param =>
  paramSchema.parse({ description: { en: 'x', 'zh-TW': 'x' }, ...spec });

const params = [
  param({ type: 'text', name: 'prompt', required: true, maxLength: 50 }),
  param({ type: 'image', name: 'image', required: true }),
];
const manifest = { params } as unknown as Parameters<typeof paramsSchemaOf>[0];

describe('parameter schemas', () => {
  it('are built once per parameter list and prompt limit, and reused for every job', () => {
    expect(paramsSchemaOf(manifest, 10)).toBe(paramsSchemaOf(manifest, 10));
    expect(optionsSchemaOf(params, 10)).toBe(optionsSchemaOf(params, 10));
    expect(paramsSchemaOf(manifest, 20)).not.toBe(paramsSchemaOf(manifest, 10));
  });

  it('keep each prompt limit and the media rule of the schema that was asked for', () => {
    const prompt = 'x'.repeat(15);
    expect(paramsSchemaOf(manifest, 10).safeParse({ prompt, image: 'a.png' }).success).toBe(false);
    expect(paramsSchemaOf(manifest, 20).safeParse({ prompt, image: 'a.png' }).success).toBe(true);
    // Options are what users type: the image arrives as a file and is no option.
    expect(optionsSchemaOf(params, 20).safeParse({ prompt }).success).toBe(true);
    expect(optionsSchemaOf(params, 20).safeParse({ prompt, image: 'a.png' }).success).toBe(false);
    expect(paramsSchemaOf(manifest, 20).safeParse({ prompt }).success).toBe(false);
  });
});
