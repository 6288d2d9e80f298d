import { describe, expect, it } from 'vitest';
import { createSuggester } from '../../../src/bots/commands/suggest.js';
import type { ObjectInfo } from '../../../src/comfy/client.js';
import { strictCommandDeps } from '../../support/command-deps.js';
import { memoryRepo, seedJob, user } from '../../support/doubles.js';

const ask = (command: string, option: string, query: string) => ({ command, option, query, user: user() });

describe('suggestions: jobs', () => {
  it('offer the caller’s recent jobs matching the short id or the text, newest first', async () => {
    const repo = memoryRepo();
    const fox = seedJob(repo, { id: 'aaaa1111-0000-4000-8000-000000000001', params: { prompt: 'A Red Fox' }, at: 1 });
    const owl = seedJob(repo, { id: 'bbbb2222-0000-4000-8000-000000000002', params: { prompt: 'an owl' }, at: 2 });
    const swap = seedJob(repo, {
      id: 'cccc3333-0000-4000-8000-000000000003',
      workflow: 'faceswap',
      params: {},
      status: 'failed',
      at: 3,
    });
    seedJob(repo, { userId: '2', params: { prompt: 'a fox of someone else' } });
    const suggest = createSuggester(strictCommandDeps({ repo }));
    expect(await suggest('jobs', ask('remix', 'job', ''))).toMatchInlineSnapshot(`
      [
        {
          "name": "cccc3333 · faceswap · failed",
          "value": "cccc3333",
        },
        {
          "name": "bbbb2222 · imagine · an owl",
          "value": "bbbb2222",
        },
        {
          "name": "aaaa1111 · imagine · A Red Fox",
          "value": "aaaa1111",
        },
      ]
    `);
    expect((await suggest('jobs', ask('remix', 'job', 'FOX'))).map((s) => s.value)).toEqual([fox.shortId]);
    expect((await suggest('jobs', ask('cancel', 'job', 'bbbb'))).map((s) => s.value)).toEqual([owl.shortId]);
    expect((await suggest('jobs', ask('cancel', 'job', 'cccc3'))).map((s) => s.value)).toEqual([swap.shortId]);
  });

  it('keep each name within Discord’s 100 characters', async () => {
    const repo = memoryRepo();
    seedJob(repo, { params: { prompt: 'x'.repeat(300) } });
    const [only] = await createSuggester(strictCommandDeps({ repo }))('jobs', ask('remix', 'job', ''));
    expect(only?.name).toHaveLength(100);
  });

  it('offer at most 25', async () => {
    const repo = memoryRepo();
    for (let i = 0; i < 30; i++) seedJob(repo, { at: i });
    expect(await createSuggester(strictCommandDeps({ repo }))('jobs', ask('remix', 'job', ''))).toHaveLength(25);
  });
});

describe('suggestions: models', () => {
  const info = (names: string[]): ObjectInfo => ({
    CheckpointLoaderSimple: { input: { required: { ckpt_name: [names, {}] } } },
  });

  it('offer the models of that command’s option that contain what was typed', async () => {
    const suggest = createSuggester(
      strictCommandDeps({ objectInfo: async () => info(['DreamShaper_8.safetensors', 'v1-5.safetensors']) }),
    );
    expect(await suggest('models', ask('imagine', 'model', 'dream'))).toEqual([
      { name: 'DreamShaper_8.safetensors', value: 'DreamShaper_8.safetensors' },
    ]);
    expect(await suggest('models', ask('imagine', 'model', ''))).toHaveLength(2);
    expect(await suggest('models', ask('edit', 'model', ''))).toEqual([]);
  });

  it('offer at most 25, none before ComfyUI was asked', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `m${i}.safetensors`);
    expect(
      await createSuggester(strictCommandDeps({ objectInfo: async () => info(many) }))(
        'models',
        ask('imagine', 'model', 'm'),
      ),
    ).toHaveLength(25);
    expect(
      await createSuggester(strictCommandDeps({ objectInfo: async () => undefined }))(
        'models',
        ask('imagine', 'model', ''),
      ),
    ).toEqual([]);
  });
});
