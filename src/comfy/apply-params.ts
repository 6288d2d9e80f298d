import type { Manifest, Target } from './manifest.js';
import type { Params } from './params.js';

export type ApiGraph = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: unknown }>;

export class BindingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BindingError';
  }
}

/**
 * Pure: (graph, manifest, params) → a new graph with every parameter written into its node inputs.
 * The loaded graph is never mutated (structuredClone). Media params carry the name ComfyUI gave the upload.
 */
export function applyParams(graph: ApiGraph, manifest: Manifest, params: Params): ApiGraph {
  const out = structuredClone(graph);
  const set = (t: Target, value: unknown) => {
    const node = out[t.node];
    if (!node) throw new BindingError(`node "${t.node}" is not in the workflow`);
    if (!(t.input in node.inputs)) throw new BindingError(`node "${t.node}" has no input "${t.input}"`);
    node.inputs[t.input] = value;
  };
  for (const p of manifest.params) {
    const value = params[p.name];
    if (value === undefined && (p.type === 'image' || p.type === 'audio') && !p.required) {
      for (const t of p.targets) removeNode(out, t.node);
      continue;
    }
    if (value === undefined) continue;
    if (p.type === 'choice') {
      const choice = p.choices.find((c) => c.value === value);
      for (const s of choice?.set ?? []) set(s, s.value);
    }
    for (const t of p.targets) set(t, value);
  }
  return out;
}

/** Drops a node and every input that links to it (those inputs are optional ones, checked by the workflow tests). */
function removeNode(graph: ApiGraph, id: string) {
  delete graph[id];
  for (const node of Object.values(graph)) {
    for (const [name, v] of Object.entries(node.inputs))
      if (Array.isArray(v) && v.length === 2 && v[0] === id) delete node.inputs[name];
  }
}

/** Every binding in the manifest points at an existing node input; returns the problems found. */
export function checkBindings(graph: ApiGraph, manifest: Manifest): string[] {
  const problems: string[] = [];
  const check = (where: string, t: Target) => {
    const node = graph[t.node];
    if (!node) problems.push(`${where}: node "${t.node}" is not in the workflow`);
    else if (!(t.input in node.inputs))
      problems.push(`${where}: node "${t.node}" (${node.class_type}) has no input "${t.input}"`);
  };
  for (const p of manifest.params) {
    for (const t of p.targets) check(`param ${p.name}`, t);
    if (p.type === 'choice')
      for (const c of p.choices) for (const s of c.set) check(`param ${p.name} choice ${c.value}`, s);
  }
  for (const t of manifest.requires.models) check('requires.models', t);
  for (const id of manifest.outputs) if (!graph[id]) problems.push(`outputs: node "${id}" is not in the workflow`);
  if (manifest.poster && !graph[manifest.poster])
    problems.push(`poster: node "${manifest.poster}" is not in the workflow`);
  return problems;
}
