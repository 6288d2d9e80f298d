import { describe, expect, it } from 'vitest';
import { paramSchema } from '../../src/comfy/manifest.js';
import { parseArgs } from '../../src/bots/parse-args.js';

const opt = (spec: Record<string, unknown>) => paramSchema.parse({ description: { en: 'x', 'zh-TW': 'x' }, ...spec });
const gallery = {
  options: [opt({ name: 'page', type: 'int', min: 1, max: 9 }), opt({ name: 'starred', type: 'bool' })],
  positional: ['page'],
};

describe('typed on/off options', () => {
  it('switch on when a built-in command names them as a word, wherever it stands', () => {
    expect(parseArgs(gallery, 'starred')).toEqual({ starred: true });
    expect(parseArgs(gallery, 'starred 2')).toEqual({ starred: true, page: 2 });
    expect(parseArgs(gallery, '2 STARRED')).toEqual({ page: 2, starred: true });
    expect(parseArgs(gallery, '2')).toEqual({ page: 2 });
  });

  it('take --name alone as on, or the on/off word after it', () => {
    expect(parseArgs(gallery, '--starred')).toEqual({ starred: true });
    expect(parseArgs(gallery, '--starred 2')).toEqual({ starred: true, page: 2 });
    expect(parseArgs(gallery, '--starred off')).toEqual({ starred: false });
  });

  it('leave a workflow’s free words to its prompt, even when one names an option', () => {
    const wf = {
      options: [opt({ name: 'prompt', type: 'text', required: true }), opt({ name: 'hires', type: 'bool' })],
    };
    expect(parseArgs(wf, 'hires photo of a fox')).toEqual({ prompt: 'hires photo of a fox' });
  });
});
