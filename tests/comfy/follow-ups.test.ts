import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeAction } from '../../src/bots/actions.js';
import { resultRows } from '../../src/bots/result-actions.js';
import { applyParams } from '../../src/comfy/apply-params.js';
import { paramsSchemaOf } from '../../src/comfy/params.js';
import { loadWorkflows, WorkflowLoadError } from '../../src/comfy/workflows.js';

const text = (en: string) => ({ en, 'zh-TW': en });

/** A target workflow `v` (image in, prompt required, denoise 0.05–1) and a source `x` with the given follow-ups. */
function dirWith(followUps: unknown[], target: Record<string, unknown> = {}) {
  const d = mkdtempSync(path.join(tmpdir(), 'fu-'));
  const graph = {
    load: { class_type: 'LoadImage', inputs: { image: 'in.png' } },
    pos: { class_type: 'CLIPTextEncode', inputs: { text: '' } },
    sampler: { class_type: 'KSampler', inputs: { denoise: 1, steps: 20 } },
    save: { class_type: 'SaveImage', inputs: {} },
  };
  const v = {
    command: 'v',
    description: text('V'),
    params: [
      {
        name: 'prompt',
        type: 'text',
        required: true,
        description: text('p'),
        targets: [{ node: 'pos', input: 'text' }],
      },
      {
        name: 'image',
        type: 'image',
        required: true,
        description: text('i'),
        targets: [{ node: 'load', input: 'image' }],
      },
      {
        name: 'denoise',
        type: 'float',
        min: 0.05,
        max: 1,
        default: 0.5,
        description: text('d'),
        targets: [{ node: 'sampler', input: 'denoise' }],
      },
      ...((target.extraParams as unknown[]) ?? []),
    ],
    outputs: ['save'],
  };
  const x = {
    command: 'x',
    description: text('X'),
    params: [
      {
        name: 'prompt',
        type: 'text',
        required: true,
        description: text('p'),
        targets: [{ node: 'pos', input: 'text' }],
      },
      {
        name: 'steps',
        type: 'int',
        min: 1,
        max: 100,
        default: 20,
        description: text('s'),
        targets: [{ node: 'sampler', input: 'steps' }],
      },
    ],
    outputs: ['save'],
    followUps,
  };
  for (const m of [v, x]) {
    writeFileSync(path.join(d, `${m.command}.manifest.json`), JSON.stringify(m));
    writeFileSync(path.join(d, `${m.command}.json`), JSON.stringify(graph));
  }
  return d;
}

const good = { label: 'bot.button_vary_subtle', workflow: 'v', input: 'image', carry: { prompt: 'prompt' } };

describe('follow-up declarations, checked at load', () => {
  it('accepts a follow-up whose target, input, carried and preset values all fit', () => {
    const wf = loadWorkflows(dirWith([{ ...good, preset: { denoise: 0.35 } }]));
    expect(wf.get('x')?.manifest.followUps).toEqual([{ ...good, preset: { denoise: 0.35 } }]);
  });

  const refusals: Array<[string, unknown[], RegExp, Record<string, unknown>?]> = [
    ['a target that is not loaded', [{ ...good, workflow: 'nope' }], /followUps\[0\]: workflow "nope" is not loaded/],
    ['an input that is no image parameter', [{ ...good, input: 'prompt' }], /v has no image parameter "prompt"/],
    [
      'a carried option the target lacks',
      [{ ...good, carry: { prompt: 'prompt', colour: 'prompt' } }],
      /carry\.colour: v has no option "colour"/,
    ],
    [
      'a carried option the source lacks',
      [{ ...good, carry: { prompt: 'text' } }],
      /carry\.prompt: x has no option "text"/,
    ],
    [
      'a carried value that may not fit',
      [{ ...good, carry: { prompt: 'prompt', denoise: 'steps' } }],
      /carry\.denoise: x's steps \(1–100\) does not fit 0\.05–1/,
    ],
    ['a preset out of range', [{ ...good, preset: { denoise: 2 } }], /preset\.denoise: 2 is not a valid float for v/],
    ['a preset for the image', [{ ...good, preset: { image: 'a.png' } }], /preset\.image: v has no option "image"/],
    [
      'a required option left without a value',
      [{ ...good, carry: {} }],
      /v's required option "prompt" is neither carried nor preset/,
    ],
    [
      'a label that is no message key',
      [{ ...good, label: 'bot.button_nope' }],
      /label "bot\.button_nope" is not a message key/,
    ],
    [
      'a second required image',
      [good],
      /v also needs the image "mask", which a follow-up cannot give/,
      {
        extraParams: [
          {
            name: 'mask',
            type: 'image',
            required: true,
            description: text('m'),
            targets: [{ node: 'load', input: 'image' }],
          },
        ],
      },
    ],
    ['more follow-ups than a row holds', [good, good, good, good, good], /followUps/],
    ['an unknown field (a typo)', [{ ...good, presets: { denoise: 0.3 } }], /presets/],
  ];
  for (const [what, followUps, message, target] of refusals)
    it(`refuses ${what}, naming the manifest file`, () => {
      const d = dirWith(followUps, target);
      expect(() => loadWorkflows(d)).toThrow(WorkflowLoadError);
      expect(() => loadWorkflows(d)).toThrow(path.join(d, 'x.manifest.json'));
      expect(() => loadWorkflows(d)).toThrow(message);
    });
});

describe('the shipped follow-ups', () => {
  const workflows = loadWorkflows(path.resolve('workflows'));
  const imagine = workflows.get('imagine')!.manifest.followUps;

  it('imagine offers Upscale, Vary (subtle), Vary (strong) and Animate on every image', () => {
    expect(imagine.map((f) => [f.label, f.workflow, f.input, f.preset])).toEqual([
      ['bot.button_upscale', 'upscale', 'image', {}],
      ['bot.button_vary_subtle', 'vary', 'image', { denoise: 0.35 }],
      ['bot.button_vary_strong', 'vary', 'image', { denoise: 0.7 }],
      ['bot.button_animate', 'video', 'image', {}],
    ]);
  });

  it('the Vary presets reach the sampler’s denoise, the result the LoadImage, the prompt the text encoder', () => {
    const vary = workflows.get('vary')!;
    for (const [f, denoise] of [
      [imagine[1]!, 0.35],
      [imagine[2]!, 0.7],
    ] as const) {
      const params = paramsSchemaOf(vary.manifest).parse({ prompt: 'a fox', image: 'r.png', ...f.preset }) as Record<
        string,
        unknown
      >;
      const g = applyParams(vary.graph, vary.manifest, params);
      expect(g.sampler?.inputs.denoise).toBe(denoise);
      expect(g.image?.inputs.image).toBe('r.png');
      expect(g.positive?.inputs.text).toBe('a fox');
    }
  });

  it('Animate keeps the video’s start image (an optional input otherwise left out)', () => {
    const video = workflows.get('video')!;
    const params = paramsSchemaOf(video.manifest).parse({ prompt: 'a fox', image: 'r.png' }) as Record<string, unknown>;
    const g = applyParams(video.graph, video.manifest, params);
    expect(g.start?.inputs.image).toBe('r.png');
    expect(g.i2v?.inputs.start_image).toEqual(['start', 0]);
  });

  it('a 4-image batch fits Discord’s 5 rows of 5 buttons and Telegram’s 64-byte callbacks, one row per image', () => {
    const jobId = crypto.randomUUID();
    for (const wf of workflows.values()) {
      const rows = resultRows('zh-TW', jobId, 10, wf.manifest.followUps, { originals: [1, 2, 3, 4] });
      expect(rows.length, wf.name).toBeLessThanOrEqual(5);
      for (const row of rows) {
        if (row.kind !== 'buttons') continue;
        expect(row.buttons.length, wf.name).toBeLessThanOrEqual(5);
        for (const b of row.buttons) {
          expect(Buffer.byteLength(encodeAction(b.action))).toBeLessThanOrEqual(64);
          expect(b.label.length).toBeLessThanOrEqual(80);
        }
      }
    }
    const rows = resultRows('en', jobId, 4, imagine);
    const labels = rows.map((r) => (r.kind === 'buttons' ? r.buttons.map((b) => b.label) : []));
    expect(labels[0]?.slice(0, 2)).toEqual(['🎲 Reroll', '✏️ Remix']);
    expect(labels.slice(1)).toEqual([
      ...[1, 2, 3, 4].map((n) => [
        `⬆️ Upscale ${n}`,
        `🔅 Vary (subtle) ${n}`,
        `🔆 Vary (strong) ${n}`,
        `🎬 Animate ${n}`,
      ]),
    ]);
    expect(rows[2]?.kind === 'buttons' && rows[2].buttons.map((b) => encodeAction(b.action))).toEqual(
      [1, 2, 3, 4].map((n) => `v1:f2${n}:${jobId}`),
    );
  });
});
