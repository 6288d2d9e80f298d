import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWorkflowArgs, splitArgs } from '../../src/bots/parse-args.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import { UserError } from '../../src/errors.js';
import { t } from '../../src/i18n/index.js';

const workflows = loadWorkflows(path.resolve('workflows'));
const imagine = workflows.get('imagine')!.manifest;

/** The refusal `fn` throws, read in English and in Traditional Chinese. */
function refusalText(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return [t('en', err.key, err.params), t('zh-TW', err.key, err.params)];
  }
  throw new Error('expected a refusal');
}

describe('text arguments → workflow options', () => {
  it('splits on spaces but keeps quoted text together', () => {
    expect(splitArgs(`a fox --negative "blurry, dark" --ar 16:9 “smart quotes”`)).toEqual([
      'a',
      'fox',
      '--negative',
      'blurry, dark',
      '--ar',
      '16:9',
      'smart quotes',
    ]);
  });

  it('puts free text into the prompt and flags (or their aliases) into options, numbers as numbers', () => {
    expect(parseWorkflowArgs(imagine, splitArgs('a red fox in snow --ar 16:9 --n 2 --seed 7 --cfg 6.5'))).toEqual({
      prompt: 'a red fox in snow',
      aspect: '16:9',
      count: 2,
      seed: 7,
      cfg: 6.5,
    });
    expect(parseWorkflowArgs(imagine, ['--count=3', 'fox'])).toEqual({ count: 3, prompt: 'fox' });
  });

  it('leaves non-numbers as text so the schema explains the problem', () => {
    expect(parseWorkflowArgs(imagine, ['fox', '--count', 'two'])).toEqual({ prompt: 'fox', count: 'two' });
  });

  it('refuses media options typed as text in chats, and takes them as paths in the terminal', () => {
    const edit = loadWorkflows(path.resolve('workflows')).get('edit')!.manifest;
    expect(() => parseWorkflowArgs(edit, ['night', '--image', 'x.png'])).toThrow(
      expect.objectContaining({ key: 'error.unknown_option', params: { name: 'image' } }),
    );
    expect(parseWorkflowArgs(edit, ['night', '--image', './x.png'], { allowMedia: true })).toEqual({
      instruction: 'night',
      image: './x.png',
    });
  });

  it('refuses unknown flags and flags without a value', () => {
    expect(() => parseWorkflowArgs(imagine, ['fox', '--colour', 'red'])).toThrow(
      expect.objectContaining({ key: 'error.unknown_option', params: { name: 'colour' } }),
    );
    expect(() => parseWorkflowArgs(imagine, ['fox', '--seed'])).toThrow(
      expect.objectContaining({ key: 'error.invalid_options' }),
    );
  });

  it('suggests the closest option for an unknown one: known synonyms, then a typo or two, aliases included', () => {
    const suggestion = (typed: string, manifest = imagine) => {
      try {
        parseWorkflowArgs(manifest, ['fox', `--${typed}`, '1']);
      } catch (err) {
        return (err as UserError).params.suggestion;
      }
    };
    expect(suggestion('ratio')).toBe('aspect');
    expect(suggestion('size')).toBe('aspect');
    expect(suggestion('guidance')).toBe('cfg');
    expect(suggestion('checkpoint')).toBe('model');
    expect(suggestion('setps')).toBe('steps');
    expect(suggestion('step')).toBe('steps');
    expect(suggestion('Negativ')).toBe('negative');
    expect(suggestion('arr')).toBe('ar');
    expect(suggestion('cfg', workflows.get('edit')!.manifest)).toBe('guidance');
    expect(suggestion('scale', workflows.get('upscale')!.manifest)).toBe('factor');
    for (const far of ['colour', 'bogus', 'x', 'q', 'lora', 'style']) expect(suggestion(far)).toBeUndefined();
    // Files are not typed in chats, so they are not suggested there.
    expect(suggestion('imag', workflows.get('edit')!.manifest)).toBeUndefined();
  });

  it('words unknown options, missing values and stray text in the reader’s language', () => {
    expect(refusalText(() => parseWorkflowArgs(imagine, 'fox --ratio 16:9'))).toMatchInlineSnapshot(`
      [
        "Unknown option --ratio — did you mean --aspect?",
        "未知的選項 --ratio，你是不是要用 --aspect？",
      ]
    `);
    expect(refusalText(() => parseWorkflowArgs(imagine, 'fox --colour red'))).toMatchInlineSnapshot(`
      [
        "Unknown option --colour.",
        "未知的選項 --colour。",
      ]
    `);
    expect(refusalText(() => parseWorkflowArgs(imagine, 'fox --steps'))).toMatchInlineSnapshot(`
      [
        "Some options are not valid:
      • --steps needs a value after it",
        "部分選項無效：
      • --steps 後面需要一個值",
      ]
    `);
    expect(
      refusalText(() => parseWorkflowArgs(workflows.get('upscale')!.manifest, 'a red fox')),
    ).toMatchInlineSnapshot(`
      [
        "Some options are not valid:
      • this command takes no text: “a red fox”",
        "部分選項無效：
      • 這個指令不接受文字：「a red fox」",
      ]
    `);
  });
});

describe('flag=value', () => {
  it('drops quotes around a value written right after the equals sign', () => {
    expect(parseWorkflowArgs(imagine, 'a fox --model="" --negative=\'blurry\'')).toEqual({
      prompt: 'a fox',
      model: '',
      negative: 'blurry',
    });
  });
});
