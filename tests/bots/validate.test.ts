import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleParams, isValidParams, parseOptions, validParams } from '../../src/bots/validate.js';
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

  it('lists every bad option in one readable refusal', () => {
    const err = refusal(() => parseOptions(imagine.params, { prompt: 'x', steps: 0, aspect: '2:1', bogus: 1 }, 1000));
    expect(t('en', err.key, err.params)).toMatchInlineSnapshot(`
      "Some options are not valid:
      • aspect: Invalid option: expected one of "1:1"|"16:9"|"9:16"|"4:3"|"3:4"|"3:2"|"2:3"
      • steps: Too small: expected number to be >=1
      • (options): Unrecognized key: "bogus""
    `);
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
