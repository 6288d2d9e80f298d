/**
 * warm models: jobs alternating two checkpoints, all queued at once, over two workers (each its own fake
 * ComfyUI, which counts a load whenever a prompt needs a checkpoint it does not hold). Measures total loads.
 */
import { scaled, type Scenario } from '../lib.js';
import { pipelineWith } from './common.js';

const MODELS = ['v1-5-pruned-emaonly.safetensors', 'dreamshaper_8.safetensors'];

const scenario: Scenario = {
  name: 'warm models',
  target: 'model loads ≈ 2, not ≈ jobs',
  async run(ctx) {
    const jobs = scaled(40, 8);
    const p = await pipelineWith(ctx, { workers: 2, stepMs: 20 });
    let loads: Record<string, number>[];
    try {
      await Promise.all(Array.from({ length: jobs }, (_, i) => p.job({ steps: 5, model: MODELS[i % 2] })));
      loads = p.comfies.map((c) => c.modelLoads());
    } finally {
      await p.close();
    }
    const total = loads.reduce((a, l) => a + Object.values(l).reduce((x, y) => x + y, 0), 0);
    return {
      measured: `${jobs} jobs: ${total} model loads (${loads
        .map(
          (l, i) =>
            `gpu${i + 1} ${JSON.stringify(l)
              .replace(/"/g, '')
              .replace(/\.safetensors/g, '')}`,
        )
        .join(', ')})`,
      met: total <= 4,
      details: { jobs, loads },
    };
  },
};
export default scenario;
