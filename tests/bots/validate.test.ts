import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleParams, isValidParams, MissingTextError, parseOptions, validParams } from '../../src/bots/validate.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import { UserError } from '../../src/errors.js';
import { t } from '../../src/i18n/index.js';

const workflows = loadWorkflows(path.resolve('workflows'));
const imagine = workflows.get('imagine')!.manifest;
const edit = workflows.get('edit')!.manifest;

function refusal(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('parseOptions', () => {
  it('fills defaults and leaves the seed open', () => {
    expect(parseOptions(imagine.params, { prompt: ' a fox ' }, 1000)).toEqual({
      prompt: 'a fox',
      negative: 'blurry, low quality, watermark, text',
      aspect: '1:1',
      count: 1,
      steps: 25,
      cfg: 7,
    });
  });

  it('does not take files as typed options', () => {
    const err = refusal(() => parseOptions(edit.params, { instruction: 'x', image: 'a.png' }, 1000));
    expect(err.key).toBe('error.invalid_options');
  });

  it('lists every bad option in one refusal, in the reader’s language', () => {
    const err = refusal(() => parseOptions(imagine.params, { prompt: 'x', steps: 0, aspect: '2:1', bogus: 1 }, 1000));
    expect(err.key).toBe('error.invalid_options');
    expect(t('en', err.key, err.params)).toMatchInlineSnapshot(`
      "Some options are not valid:
      • aspect must be one of 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3
      • steps must be 1–60
      • --bogus is not an option of this command"
    `);
    expect(t('zh-TW', err.key, err.params)).toMatchInlineSnapshot(`
      "部分選項無效：
      • aspect 必須是下列其中之一：1:1、16:9、9:16、4:3、3:4、3:2、2:3
      • steps 必須介於 1–60
      • --bogus 不是這個指令的選項"
    `);
  });

  it('words each kind of problem from the catalogs, never zod’s English', () => {
    const bad = {
      prompt: 'x',
      count: 9,
      steps: 2.5,
      cfg: 'strong',
      aspect: 'wide',
      seed: -3,
      model: '',
      negative: 7,
    };
    const err = refusal(() => parseOptions(imagine.params, bad, 1000));
    const [en, zh] = (['en', 'zh-TW'] as const).map((l) => t(l, err.key, err.params));
    expect(en).toMatchInlineSnapshot(`
      "Some options are not valid:
      • negative must be text
      • aspect must be one of 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3
      • count must be 1–4
      • seed must be 0–281474976710655
      • model must be the name of a model (see /models)
      • steps must be a whole number, 1–60
      • cfg must be a number, 1–20"
    `);
    expect(zh).toMatchInlineSnapshot(`
      "部分選項無效：
      • negative 必須是文字
      • aspect 必須是下列其中之一：1:1、16:9、9:16、4:3、3:4、3:2、2:3
      • count 必須介於 1–4
      • seed 必須介於 0–281474976710655
      • model 必須是模型名稱（見 /models）
      • steps 必須是整數（1–60）
      • cfg 必須是數字（1–20）"
    `);
    expect(`${en}\n${zh}`).not.toMatch(/expected|Invalid|Too (big|small)|received/);
  });

  it('tells a missing or invisible required text apart from the other problems', () => {
    for (const prompt of [undefined, '', '  ', '\u200b\u2800']) {
      const err = refusal(() => parseOptions(imagine.params, { prompt, count: 9 }, 1000));
      expect(err).toBeInstanceOf(MissingTextError);
      expect((err as MissingTextError).param.name).toBe('prompt');
      expect((err as MissingTextError).others).toEqual([
        { key: 'issue.range', params: { name: 'count', min: 1, max: 4 } },
      ]);
    }
    // Read without the usage (no command known), it is still a plain list.
    const err = refusal(() => parseOptions(imagine.params, {}, 1000));
    expect(t('zh-TW', err.key, err.params)).toBe('部分選項無效：\n• 缺少 prompt');
  });

  it('refuses a prompt over the operator’s limit with its length, before the schema', () => {
    const err = refusal(() => parseOptions(imagine.params, { prompt: `  ${'x'.repeat(51)}  ` }, 50));
    expect(err.key).toBe('error.prompt_too_long');
    expect(err.params).toEqual({ length: 51, max: 50 });
  });
});

describe('validParams', () => {
  it('checks everything (files as stored names), picks a seed and marks the result', () => {
    const p = validParams(edit, { instruction: 'make it blue', image: 'abc-1.png' }, 1000);
    expect(p).toMatchObject({ instruction: 'make it blue', image: 'abc-1.png', steps: 20, guidance: 2.5 });
    expect(Number.isInteger(p.seed)).toBe(true);
    expect(isValidParams(p)).toBe(true);
  });

  it('does not check twice what already passed', () => {
    const once = validParams(imagine, { prompt: 'x' }, 1000);
    expect(validParams(imagine, once, 1000)).toBe(once);
  });

  it('refuses a missing file and a path in place of a stored name', () => {
    expect(refusal(() => validParams(edit, { instruction: 'x' }, 1000)).key).toBe('error.invalid_options');
    expect(refusal(() => validParams(edit, { instruction: 'x', image: '../../x.png' }, 1000)).key).toBe(
      'error.invalid_options',
    );
  });
});

describe('assembleParams', () => {
  it('marks parsed options plus stored names as valid, keeping a given seed', () => {
    const p = assembleParams(imagine, { prompt: 'x', seed: 7 });
    expect(p).toEqual({ prompt: 'x', seed: 7 });
    expect(isValidParams(p)).toBe(true);
  });

  it('gives a fresh seed when none was given', () => {
    const p = assembleParams(imagine, { prompt: 'x' });
    expect(typeof p.seed).toBe('number');
    expect(isValidParams({ prompt: 'x' })).toBe(false);
  });
});
