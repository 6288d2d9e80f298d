import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWorkflowArgs, splitArgs } from '../../src/bots/parse-args.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';

const imagine = loadWorkflows(path.resolve('workflows')).get('imagine')!.manifest;

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
});
