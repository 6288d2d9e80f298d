import { describe, expect, it } from 'vitest';
import { modelChoices } from '../../../src/bots/commands/models.js';
import type { ObjectInfo } from '../../../src/comfy/client.js';
import { strictCommandDeps } from '../../support/command-deps.js';
import { dispatcherFor, recordingContext } from '../../support/doubles.js';

const legacy = (names: string[]): ObjectInfo => ({
  CheckpointLoaderSimple: { input: { required: { ckpt_name: [names, {}] } } },
});

function run(info: ObjectInfo | undefined, ctxOpts: Parameters<typeof recordingContext>[0] = {}) {
  let asked = 0;
  const deps = strictCommandDeps({
    objectInfo: async () => {
      asked += 1;
      return info;
    },
  });
  const c = recordingContext(ctxOpts);
  return dispatcherFor(deps)
    .command('models', { text: '' }, c.ctx)
    .then(() => ({ ...c, asked }));
}

describe('/models', () => {
  it('lists the models each workflow option offers, privately', async () => {
    const c = await run(legacy(['dreamshaper_8.safetensors', 'v1-5-pruned-emaonly.safetensors']));
    expect(c.asked).toBe(1);
    expect(c.calls).toMatchInlineSnapshot(`
      [
        {
          "op": "defer",
          "opts": {
            "private": true,
          },
        },
        {
          "op": "reply",
          "reply": {
            "private": true,
            "text": "Models you can pick:
      /imagine --model:
      • dreamshaper_8.safetensors
      • v1-5-pruned-emaonly.safetensors

      /vary --model:
      • dreamshaper_8.safetensors
      • v1-5-pruned-emaonly.safetensors",
          },
        },
      ]
    `);
  });

  it('reads ComfyUI’s newer COMBO encoding too', async () => {
    const deps = strictCommandDeps({
      objectInfo: async () => ({
        CheckpointLoaderSimple: { input: { required: { ckpt_name: ['COMBO', { options: ['a.safetensors'] }] } } },
      }),
    });
    expect(await modelChoices(deps)).toEqual([
      { workflow: 'imagine', option: 'model', choices: ['a.safetensors'] },
      { workflow: 'vary', option: 'model', choices: ['a.safetensors'] },
    ]);
  });

  it('says so when ComfyUI offers none or was not asked yet, in the user’s language', async () => {
    const none = await run(legacy([]));
    const unknown = await run(undefined, { user: { locale: 'zh-TW' } });
    expect([...none.replies, ...unknown.replies].map((r) => r.text)).toEqual([
      'ComfyUI reports no selectable models right now.',
      'ComfyUI 目前沒有可選擇的模型。',
    ]);
  });

  it('shows at most 30 per option and stays within one message', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `model-${String(i).padStart(2, '0')}.safetensors`);
    const roomy = await run(legacy(many));
    expect(roomy.replies[0]?.text).toContain('• model-29.safetensors');
    expect(roomy.replies[0]?.text).not.toContain('model-30');
    const tight = await run(legacy(many), { maxText: 100 });
    expect(tight.replies[0]?.text).toHaveLength(90);
  });
});
