/**
 * GPU idle: jobs of 430 ms (10 steps × 43 ms) with 4 in flight through the product (one worker, one fake ComfyUI),
 * first submit → last result delivered; ÷ the same prompts (as the worker sent them) posted straight to a fresh
 * fake ComfyUI all at once, first POST → last execution end.
 */
import { startFakeComfy } from '../../tests/fakes/comfy/server.js';
import { fakeModels } from '../../tests/support/config.js';
import { r3, scaled, until, type Scenario } from '../lib.js';
import { pipelineWith } from './common.js';

const scenario: Scenario = {
  name: 'GPU idle',
  target: '≤ 1.02',
  async run(ctx) {
    const jobs = scaled(200, 8);
    const p = await pipelineWith(ctx, { stepMs: 43 });
    let wall: number;
    let prompts: unknown[];
    try {
      await p.job({ steps: 1 }); // warm-up
      const comfy = p.comfies[0]!;
      const before = comfy.requests.length;
      let next = 0;
      const t0 = Date.now();
      const lane = async () => {
        while (next < jobs) {
          next++;
          await p.job({ steps: 10 });
        }
      };
      await Promise.all([lane(), lane(), lane(), lane()]);
      wall = Date.now() - t0;
      prompts = comfy.requests
        .slice(before)
        .filter((r) => r.method === 'POST' && r.path === '/prompt')
        .map((r) => r.body);
    } finally {
      await p.close();
    }
    if (prompts.length !== jobs) throw new Error(`expected ${jobs} prompts, ComfyUI got ${prompts.length}`);
    const direct = await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 43 });
    let directMs: number;
    try {
      const t0 = Date.now();
      for (const body of prompts) {
        const res = await fetch(`${direct.url}/prompt`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...(body as object), client_id: 'bench-direct' }),
        });
        if (!res.ok) throw new Error(`direct /prompt: ${res.status}`);
      }
      await until(() => [...direct.runTimes.values()].filter((r) => r.end).length >= jobs, 'direct runs', 600_000);
      directMs = Math.max(...[...direct.runTimes.values()].map((r) => r.end as number)) - t0;
    } finally {
      await direct.close();
    }
    const ratio = wall / directMs;
    return {
      measured: `${jobs} jobs: ${r3(ratio)} (${wall} ms vs ${directMs} ms direct)`,
      met: ratio <= 1.02,
      details: { jobs, wallMs: wall, directMs },
    };
  },
};
export default scenario;
