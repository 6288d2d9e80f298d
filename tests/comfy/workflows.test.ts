import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyParams } from '../../src/comfy/apply-params.js';
import type { ObjectInfo } from '../../src/comfy/client.js';
import { checkWorkflow, comboOptions, inputSpec } from '../../src/comfy/object-info.js';
import { paramsSchemaOf, withSeeds } from '../../src/comfy/params.js';
import { loadWorkflows, WorkflowLoadError } from '../../src/comfy/workflows.js';
import { loadCustomNodeInfo, loadFixtureObjectInfo } from '../fakes/comfy/server.js';

const info = { ...loadFixtureObjectInfo(), ...loadCustomNodeInfo() } as unknown as ObjectInfo;
const workflows = loadWorkflows(path.resolve('workflows'));

describe('shipped workflows against a real /object_info dump', () => {
  for (const wf of workflows.values()) {
    it(`${wf.name}: every class and input exists, with a value of the right type or a valid link`, () => {
      const problems: string[] = [];
      for (const [id, node] of Object.entries(wf.graph)) {
        const spec = info[node.class_type];
        if (!spec) {
          problems.push(`${id}: unknown class ${node.class_type}`);
          continue;
        }
        const required = Object.keys(spec.input?.required ?? {});
        for (const name of required) if (!(name in node.inputs)) problems.push(`${id}: missing required input ${name}`);
        for (const [name, value] of Object.entries(node.inputs)) {
          const s = inputSpec(info, node.class_type, name);
          if (!s) {
            problems.push(`${id}: ${node.class_type} has no input ${name}`);
            continue;
          }
          if (Array.isArray(value)) {
            const [src, slot] = value as [string, number];
            const from = wf.graph[src];
            const outType = from ? info[from.class_type]?.output : undefined;
            if (!from || !Array.isArray(outType) || typeof slot !== 'number')
              problems.push(`${id}.${name}: dangling link`);
            else if (outType[slot] !== s[0] && s[0] !== '*')
              problems.push(`${id}.${name}: links ${String(outType[slot])} into ${String(s[0])}`);
            continue;
          }
          const type = s[0];
          if ((type === 'INT' || type === 'FLOAT') && typeof value !== 'number')
            problems.push(`${id}.${name}: ${type} expected`);
          if (type === 'STRING' && typeof value !== 'string') problems.push(`${id}.${name}: STRING expected`);
          if (type === 'BOOLEAN' && typeof value !== 'boolean') problems.push(`${id}.${name}: BOOLEAN expected`);
          const combo = comboOptions(info, node.class_type, name);
          const isModelList = wf.manifest.requires.models.some((m) => m.node === id && m.input === name);
          const isMediaTarget = wf.manifest.params.some(
            (p) =>
              (p.type === 'image' || p.type === 'audio') && p.targets.some((t) => t.node === id && t.input === name),
          );
          if (combo && !isModelList && !isMediaTarget && !combo.includes(String(value)))
            problems.push(`${id}.${name}: "${String(value)}" not among ${combo.length} options`);
        }
      }
      expect(problems).toEqual([]);
    });

    it(`${wf.name}: every manifest target points at a real node input of the right type`, () => {
      for (const p of wf.manifest.params) {
        for (const t of p.targets) {
          const node = wf.graph[t.node];
          const s = inputSpec(info, node!.class_type, t.input);
          expect(s, `${p.name} → ${t.node}.${t.input}`).toBeDefined();
          const type = s![0];
          const expected = { text: 'STRING', int: 'INT', float: 'FLOAT', seed: 'INT' } as Record<string, string>;
          if (expected[p.type]) expect(type, `${p.name} → ${t.node}.${t.input}`).toBe(expected[p.type]);
        }
      }
    });

    it(`${wf.name}: optional media can be left out (links to them go to optional inputs) and rewiring choices link right`, () => {
      for (const p of wf.manifest.params) {
        if ((p.type === 'image' || p.type === 'audio') && !p.required) {
          for (const t of p.targets) {
            for (const [id, node] of Object.entries(wf.graph)) {
              for (const [name, v] of Object.entries(node.inputs)) {
                if (!Array.isArray(v) || v[0] !== t.node) continue;
                expect(
                  Object.keys(info[node.class_type]?.input?.optional ?? {}),
                  `${id}.${name} links the optional ${p.name}`,
                ).toContain(name);
              }
            }
          }
        }
        if (p.type !== 'choice') continue;
        for (const c of p.choices) {
          for (const set of c.set) {
            if (!Array.isArray(set.value)) continue;
            const [src, slot] = set.value;
            const from = wf.graph[src];
            expect(from, `${p.name}=${c.value} links a missing node`).toBeDefined();
            expect((info[from!.class_type]?.output as unknown[] | undefined)?.[slot]).toBe(
              inputSpec(info, wf.graph[set.node]!.class_type, set.input)?.[0],
            );
          }
        }
      }
    });

    it(`${wf.name}: defaults and limits produce a graph ComfyUI would accept`, () => {
      const required = Object.fromEntries(
        wf.manifest.params
          .filter((p) => p.required)
          .map((p) => [p.name, p.type === 'image' ? 'x.png' : p.type === 'audio' ? 'x.wav' : 'x']),
      );
      const params = withSeeds(
        wf.manifest,
        paramsSchemaOf(wf.manifest).parse(required) as Record<string, unknown>,
        () => 0.5,
      );
      const graph = applyParams(wf.graph, wf.manifest, params);
      for (const p of wf.manifest.params) {
        if (p.type !== 'int' && p.type !== 'float') continue;
        for (const t of p.targets) {
          const s = inputSpec(info, graph[t.node]!.class_type, t.input)!;
          const o = s[1] as { min?: number; max?: number };
          if (o.min !== undefined) expect(p.min).toBeGreaterThanOrEqual(o.min);
          if (o.max !== undefined) expect(p.max).toBeLessThanOrEqual(o.max);
        }
      }
      expect(checkWorkflow(info, { ...wf, graph }).missingClasses).toEqual([]);
      // Optional media left out: their loader nodes are gone, nothing links to a missing node.
      for (const node of Object.values(graph)) {
        for (const v of Object.values(node.inputs))
          if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string')
            expect(graph[v[0]], `link to ${v[0]}`).toBeDefined();
      }
    });
  }
});

describe('imagine parameters', () => {
  const wf = workflows.get('imagine')!;
  const schema = paramsSchemaOf(wf.manifest, 1000);

  it('fills defaults and picks a recorded random seed', () => {
    const params = withSeeds(wf.manifest, schema.parse({ prompt: ' a fox ' }) as Record<string, unknown>, () => 0.25);
    expect(params).toEqual({
      prompt: 'a fox',
      negative: 'blurry, low quality, watermark, text',
      aspect: '1:1',
      count: 1,
      seed: 2 ** 30,
      steps: 25,
      cfg: 7,
    });
  });

  it('maps an aspect ratio to width and height without touching the loaded graph', () => {
    const before = JSON.stringify(wf.graph);
    const g = applyParams(wf.graph, wf.manifest, {
      prompt: 'x',
      aspect: '9:16',
      count: 4,
      model: 'dreamshaper_8.safetensors',
    });
    expect(g.latent?.inputs).toMatchObject({ width: 432, height: 768, batch_size: 4 });
    expect(g.ckpt?.inputs.ckpt_name).toBe('dreamshaper_8.safetensors');
    expect(JSON.stringify(wf.graph)).toBe(before);
  });

  it('refuses out-of-range and unknown options', () => {
    expect(schema.safeParse({ prompt: 'x', count: 5 }).success).toBe(false);
    expect(schema.safeParse({ prompt: 'x', aspect: '5:1' }).success).toBe(false);
    expect(schema.safeParse({ prompt: 'x', colour: 'red' }).success).toBe(false);
    expect(schema.safeParse({ prompt: 'x'.repeat(1001) }).success).toBe(false);
    expect(schema.safeParse({ prompt: '' }).success).toBe(false);
  });
});

describe('object_info reading', () => {
  it('reads model lists in both combo encodings', () => {
    const legacy = {
      A: { input: { required: { m: [['x.safetensors', 'y.safetensors'], {}] } } },
    } as unknown as ObjectInfo;
    const v3 = {
      B: { input: { required: { m: ['COMBO', { options: ['z.pth'], multiselect: false }] } } },
    } as unknown as ObjectInfo;
    expect(comboOptions(legacy, 'A', 'm')).toEqual(['x.safetensors', 'y.safetensors']);
    expect(comboOptions(v3, 'B', 'm')).toEqual(['z.pth']);
    expect(comboOptions(v3, 'B', 'nope')).toBeUndefined();
  });
});

describe('loading workflow files', () => {
  const dir = () => mkdtempSync(path.join(tmpdir(), 'wf-'));
  const manifest = {
    command: 'x',
    description: { en: 'X', 'zh-TW': 'X' },
    params: [
      { name: 'prompt', type: 'text', description: { en: 'p', 'zh-TW': 'p' }, targets: [{ node: '1', input: 'text' }] },
    ],
    outputs: ['2'],
  };

  it('names the file and the broken binding', () => {
    const d = dir();
    writeFileSync(path.join(d, 'x.manifest.json'), JSON.stringify(manifest));
    writeFileSync(
      path.join(d, 'x.json'),
      JSON.stringify({
        '1': { class_type: 'CLIPTextEncode', inputs: { txt: '' } },
        '2': { class_type: 'SaveImage', inputs: {} },
      }),
    );
    expect(() => loadWorkflows(d)).toThrow(WorkflowLoadError);
    expect(() => loadWorkflows(d)).toThrow(
      /x\.manifest\.json: param prompt: node "1" \(CLIPTextEncode\) has no input "text"/,
    );
  });

  it('explains a UI-format export', () => {
    const d = dir();
    writeFileSync(path.join(d, 'x.manifest.json'), JSON.stringify(manifest));
    writeFileSync(path.join(d, 'x.json'), JSON.stringify({ nodes: [], links: [], version: 0.4 }));
    expect(() => loadWorkflows(d)).toThrow(/UI-format export.*Save \(API\)/);
  });
});
