import { describe, expect, it } from 'vitest';
import { type Param, paramSchema } from '../../src/comfy/manifest.js';
import {
  coerceParam,
  isMediaParam,
  MAX_SEED,
  paramKinds,
  paramProblem,
  paramUsage,
  paramValueSchema,
  primaryTextParam,
} from '../../src/comfy/param-kinds.js';

const param = (spec: Record<string, unknown>): Param =>
  paramSchema.parse({ name: 'x', description: { en: 'x', 'zh-TW': 'x' }, ...spec });

const one = {
  text: param({ type: 'text', name: 'prompt', required: true, maxLength: 20 }),
  int: param({ type: 'int', name: 'steps', min: 1, max: 60, default: 25 }),
  float: param({ type: 'float', name: 'cfg', min: 1, max: 20, default: 7 }),
  choice: param({ type: 'choice', name: 'aspect', aliases: ['ar'], choices: [{ value: '1:1' }, { value: '16:9' }] }),
  seed: param({ type: 'seed', name: 'seed' }),
  bool: param({ type: 'bool', name: 'starred', default: false }),
  image: param({ type: 'image', name: 'image', required: true }),
  audio: param({ type: 'audio', name: 'audio' }),
} satisfies Record<Param['type'], Param>;

const parse = (p: Param, v: unknown) => paramValueSchema(p, 1000).safeParse(v);

describe('parameter kinds', () => {
  it('define every kind the manifest schema accepts, and no other', () => {
    const manifestKinds = paramSchema.options.map((o) => o.shape.type.value).sort();
    expect(Object.keys(paramKinds).sort()).toEqual(manifestKinds);
  });

  it('treat exactly images and audio as files', () => {
    const media = Object.values(one)
      .filter(isMediaParam)
      .map((p) => p.type);
    expect(media).toEqual(['image', 'audio']);
  });

  it('turn typed numbers into numbers only when they look like numbers', () => {
    expect(coerceParam(one.int, '42')).toBe(42);
    expect(coerceParam(one.int, '-3')).toBe(-3);
    expect(coerceParam(one.int, '4.5')).toBe('4.5');
    expect(coerceParam(one.int, 'ten')).toBe('ten');
    expect(coerceParam(one.float, '2.5')).toBe(2.5);
    expect(coerceParam(one.float, '.5')).toBe(0.5);
    expect(coerceParam(one.float, '7')).toBe(7);
    expect(coerceParam(one.float, '1e3')).toBe('1e3');
    expect(coerceParam(one.seed, '123')).toBe(123);
    expect(coerceParam(one.seed, '0x10')).toBe('0x10');
  });

  it('keep text, choices and file names as typed', () => {
    expect(coerceParam(one.text, ' 42 ')).toBe(' 42 ');
    expect(coerceParam(one.choice, '16:9')).toBe('16:9');
    expect(coerceParam(one.image, 'a.png')).toBe('a.png');
    expect(coerceParam(one.audio, 'b.wav')).toBe('b.wav');
  });

  it('write usage lines with aliases, ranges and defaults; files as <file>', () => {
    expect(Object.values(one).map(paramUsage)).toMatchInlineSnapshot(`
      [
        "--prompt "…"",
        "--steps 1–60 (25)",
        "--cfg 1–20 (7)",
        "--aspect/--ar 1:1 | 16:9",
        "--seed <number>",
        "--starred on | off (off)",
        "--image <file>",
        "--audio <file>",
      ]
    `);
    expect(paramUsage(param({ type: 'int', name: 'n', min: 1, max: 4 }))).toBe('--n 1–4');
    expect(
      paramUsage(param({ type: 'choice', name: 'model', dynamic: true, targets: [{ node: 'a', input: 'b' }] })),
    ).toBe('--model <name> (/models)');
  });

  it('trim text, refuse an empty required text and anything over the shorter of both limits', () => {
    expect(parse(one.text, '  a fox  ')).toMatchObject({ success: true, data: 'a fox' });
    expect(parse(one.text, '   ').success).toBe(false);
    expect(parse(one.text, 'x'.repeat(21)).success).toBe(false);
    expect(paramValueSchema(one.text, 5).safeParse('abcdef').success).toBe(false);
    const optional = param({ type: 'text', name: 'negative', default: 'blurry' });
    expect(parse(optional, undefined)).toMatchObject({ success: true, data: 'blurry' });
  });

  it('fill numeric defaults and enforce ranges and integers', () => {
    expect(parse(one.int, undefined)).toMatchObject({ success: true, data: 25 });
    expect(parse(one.int, 61).success).toBe(false);
    expect(parse(one.int, 2.5).success).toBe(false);
    expect(parse(one.float, 2.5)).toMatchObject({ success: true, data: 2.5 });
    expect(parse(one.float, 0.5).success).toBe(false);
    const required = param({ type: 'int', name: 'n', min: 1, max: 4, required: true });
    expect(parse(required, undefined).success).toBe(false);
  });

  it('accept only listed choices, and any model name for a dynamic choice', () => {
    expect(parse(one.choice, '16:9').success).toBe(true);
    expect(parse(one.choice, '2:1').success).toBe(false);
    const dynamic = param({ type: 'choice', name: 'model', dynamic: true, targets: [{ node: 'a', input: 'b' }] });
    expect(parse(dynamic, 'anything.safetensors').success).toBe(true);
    expect(parse(dynamic, '').success).toBe(false);
  });

  it('keep seeds optional, whole and below 2^48', () => {
    expect(parse(one.seed, undefined)).toMatchObject({ success: true, data: undefined });
    expect(parse(one.seed, MAX_SEED).success).toBe(true);
    expect(parse(one.seed, MAX_SEED + 1).success).toBe(false);
    expect(parse(one.seed, -1).success).toBe(false);
  });

  it('accept only stored input names for files, never paths', () => {
    expect(parse(one.image, 'f3a1-9c.png').success).toBe(true);
    expect(parse(one.image, '../etc/passwd').success).toBe(false);
    expect(parse(one.image, 'photo').success).toBe(false);
    expect(parse(one.image, undefined).success).toBe(false);
    expect(parse(one.audio, undefined).success).toBe(true);
  });

  it('say what is wrong with a refused value as a catalog key, per kind, never in zod’s words', () => {
    const problem = (p: Param, v: unknown) => {
      const r = parse(p, v);
      if (r.success || !r.error.issues[0]) throw new Error(`expected ${JSON.stringify(v)} to be refused`);
      return paramProblem(p, r.error.issues[0], v);
    };
    expect([
      problem(one.text, undefined),
      problem(one.text, ' \u200b '),
      problem(one.text, 'x'.repeat(21)),
      problem(one.text, 42),
      problem(one.int, 61),
      problem(one.int, 2.5),
      problem(one.int, 'two'),
      problem(one.float, 0.5),
      problem(one.float, '1e3'),
      problem(one.choice, '2:1'),
      problem(one.seed, -1),
      problem(one.seed, '0x10'),
      problem(one.image, '../etc/passwd'),
      problem(one.image, undefined),
    ]).toMatchInlineSnapshot(`
      [
        {
          "key": "issue.missing",
          "params": {
            "name": "prompt",
          },
        },
        {
          "key": "issue.missing",
          "params": {
            "name": "prompt",
          },
        },
        {
          "key": "issue.too_long",
          "params": {
            "max": 20,
            "name": "prompt",
          },
        },
        {
          "key": "issue.not_text",
          "params": {
            "name": "prompt",
          },
        },
        {
          "key": "issue.range",
          "params": {
            "max": 60,
            "min": 1,
            "name": "steps",
          },
        },
        {
          "key": "issue.whole_number",
          "params": {
            "max": 60,
            "min": 1,
            "name": "steps",
          },
        },
        {
          "key": "issue.whole_number",
          "params": {
            "max": 60,
            "min": 1,
            "name": "steps",
          },
        },
        {
          "key": "issue.range",
          "params": {
            "max": 20,
            "min": 1,
            "name": "cfg",
          },
        },
        {
          "key": "issue.number",
          "params": {
            "max": 20,
            "min": 1,
            "name": "cfg",
          },
        },
        {
          "key": "issue.one_of",
          "params": {
            "choices": "1:1
      16:9",
            "name": "aspect",
          },
        },
        {
          "key": "issue.range",
          "params": {
            "max": 281474976710655,
            "min": 0,
            "name": "seed",
          },
        },
        {
          "key": "issue.whole_number",
          "params": {
            "name": "seed",
          },
        },
        {
          "key": "issue.file",
          "params": {
            "name": "image",
          },
        },
        {
          "key": "issue.missing",
          "params": {
            "name": "image",
          },
        },
      ]
    `);
    const dynamic = param({ type: 'choice', name: 'model', dynamic: true, targets: [{ node: 'a', input: 'b' }] });
    expect(problem(dynamic, '')).toEqual({ key: 'issue.model', params: { name: 'model' } });
  });

  it('find what a workflow is about: the first required text, else the first text', () => {
    const negative = param({ type: 'text', name: 'negative' });
    const instruction = param({ type: 'text', name: 'instruction', required: true });
    expect(primaryTextParam([negative, one.int, instruction])?.name).toBe('instruction');
    expect(primaryTextParam([one.int, negative])?.name).toBe('negative');
    expect(primaryTextParam([one.int, one.image])).toBeUndefined();
  });
});
