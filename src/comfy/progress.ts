import type { ApiGraph } from './apply-params.js';
import type { RunEvent } from './run.js';

/**
 * Turns ComfyUI's node-by-node events into one overall percent. Nodes that do the heavy lifting
 * (samplers, model upscalers, face swappers) weigh more than loaders and encoders, so the bar does not
 * race to 80 % while the sampler has not started. Pure; fed by run events.
 */
const HEAVY = /sampler|upscalewithmodel|faceswap|reactor/i;
const HEAVY_WEIGHT = 12;

export interface ProgressSnapshot {
  percent: number;
  node?: string;
  nodeClass?: string;
  step?: { value: number; max: number };
}

export function createProgressTracker(graph: ApiGraph) {
  const weightOf = (id: string) => (HEAVY.test(graph[id]?.class_type ?? '') ? HEAVY_WEIGHT : 1);
  const ids = Object.keys(graph);
  const total = ids.reduce((s, id) => s + weightOf(id), 0) || 1;
  const done = new Set<string>();
  let current: string | undefined;
  let step: { value: number; max: number } | undefined;

  const finishCurrent = () => {
    if (current) done.add(current);
    current = undefined;
    step = undefined;
  };

  return {
    apply(e: RunEvent): void {
      switch (e.kind) {
        case 'cached':
          for (const n of e.nodes) done.add(n);
          break;
        case 'executing':
          if (e.node !== current) finishCurrent();
          current = e.node;
          break;
        case 'progress':
          if (e.node && e.node !== current) {
            finishCurrent();
            current = e.node;
          }
          step = { value: e.value, max: e.max };
          break;
        case 'executed':
          done.add(e.node);
          break;
        default:
          break;
      }
    },
    snapshot(): ProgressSnapshot {
      let sum = 0;
      for (const id of done) sum += graph[id] ? weightOf(id) : 0;
      if (current && !done.has(current) && step && step.max > 0)
        sum += weightOf(current) * Math.min(1, step.value / step.max);
      // Never claim 100 % before the files are saved: that is the "done" state's job.
      const percent = Math.min(99, Math.floor((sum / total) * 100));
      return { percent, node: current, nodeClass: current ? graph[current]?.class_type : undefined, step };
    },
  };
}
