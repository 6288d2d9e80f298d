import { describe, expect, it } from 'vitest';
import { type Param, paramSchema } from '../../src/comfy/manifest.js';
import { coerceParam, paramValueSchema } from '../../src/comfy/param-kinds.js';

const starred = paramSchema.parse({
  name: 'starred',
  type: 'bool',
  description: { en: 'x', 'zh-TW': 'x' },
}) as Param;
const parse = (v: unknown) => paramValueSchema(starred, 1000).safeParse(v);

describe('the bool parameter kind', () => {
  it('takes typed on/off, yes/no and true/false, whatever their case', () => {
    for (const w of ['on', 'YES', 'true']) expect(coerceParam(starred, w)).toBe(true);
    for (const w of ['off', 'No', 'false']) expect(coerceParam(starred, w)).toBe(false);
    expect(coerceParam(starred, 'maybe')).toBe('maybe');
  });

  it('accepts a Discord boolean and the same words as strings, and refuses anything else', () => {
    expect(parse(true)).toMatchObject({ success: true, data: true });
    expect(parse('off')).toMatchObject({ success: true, data: false });
    expect(parse(undefined)).toMatchObject({ success: true, data: undefined });
    expect(parse('maybe').success).toBe(false);
    expect(parse(1).success).toBe(false);
  });
});
