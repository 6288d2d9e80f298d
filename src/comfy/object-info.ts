import type { ObjectInfo } from './client.js';
import type { Workflow } from './workflows.js';

/**
 * Reading /object_info. Model lists come in two encodings (comfyui-api.md §2.10):
 * legacy `[["a.safetensors", …], {…}]` and V3 `["COMBO", {"options": […]}]`; both are handled.
 */
export function inputSpec(info: ObjectInfo, classType: string, input: string): unknown[] | undefined {
  const node = info[classType];
  const spec = node?.input?.required?.[input] ?? node?.input?.optional?.[input];
  return Array.isArray(spec) ? spec : undefined;
}

export function comboOptions(info: ObjectInfo, classType: string, input: string): string[] | undefined {
  const spec = inputSpec(info, classType, input);
  if (!spec) return undefined;
  if (Array.isArray(spec[0])) return spec[0].map(String);
  if (spec[0] === 'COMBO') {
    const opts = (spec[1] as { options?: unknown } | undefined)?.options;
    return Array.isArray(opts) ? opts.map(String) : [];
  }
  return undefined;
}

export interface WorkflowCheck {
  workflow: string;
  missingClasses: string[];
  missingModels: Array<{ node: string; input: string; value: string }>;
}

/** What a workflow needs that this ComfyUI lacks: node classes (custom packs) and named models. */
export function checkWorkflow(info: ObjectInfo, wf: Workflow): WorkflowCheck {
  const missingClasses = wf.classTypes.filter((c) => !(c in info));
  const missingModels: WorkflowCheck['missingModels'] = [];
  for (const t of wf.manifest.requires.models) {
    const node = wf.graph[t.node];
    if (!node || missingClasses.includes(node.class_type)) continue;
    const value = String(node.inputs[t.input]);
    const options = comboOptions(info, node.class_type, t.input);
    if (options && !options.includes(value)) missingModels.push({ node: t.node, input: t.input, value });
  }
  return { workflow: wf.name, missingClasses, missingModels };
}
