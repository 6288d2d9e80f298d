/**
 * overhead: sequential jobs on one worker, the fake ComfyUI taking 2.0 s each (20 steps × 100 ms). Per job:
 * command-in (tracker.submit) → result delivered to the sink, ÷ 2.0 s. Legs: submit → ComfyUI starts running
 * the prompt, and ComfyUI finished → result delivered. The fake's own run is a little over 2.0 s (its nodes besides
 * the sampler draw and encode a real PNG), so the row also gives the ratio to ComfyUI's measured run: our share.
 */
import { pct, r3, scaled, type Scenario } from '../lib.js';
import { pipelineWith } from './common.js';

const scenario: Scenario = {
  name: 'overhead',
  target: 'median ≤ 1.02, p99 ≤ 1.05',
  async run(ctx) {
    const jobs = scaled(50, 3);
    const p = await pipelineWith(ctx, { stepMs: 100 });
    const ratio: number[] = [];
    const leg1: number[] = [];
    const leg2: number[] = [];
    const ofRun: number[] = [];
    try {
      await p.job({ steps: 1 }); // warm-up (connections, JIT), not counted
      for (let i = 0; i < jobs; i++) {
        const j = await p.job({ steps: 20 });
        if (!j.start || !j.end) throw new Error('no ComfyUI run times');
        ratio.push((j.t1 - j.t0) / 2000);
        leg1.push(j.start - j.t0);
        leg2.push(j.t1 - j.end);
        ofRun.push((j.t1 - j.t0) / (j.end - j.start));
      }
    } finally {
      await p.close();
    }
    const med = pct(ratio, 50);
    const p99 = pct(ratio, 99);
    return {
      measured: `${jobs} jobs: median ${r3(med)}, p99 ${r3(p99)}; in→GPU p50 ${pct(leg1, 50)} ms / p99 ${pct(leg1, 99)} ms, GPU→delivered p50 ${pct(leg2, 50)} ms / p99 ${pct(leg2, 99)} ms; ÷ ComfyUI's own run: median ${r3(pct(ofRun, 50))}, p99 ${r3(pct(ofRun, 99))}`,
      met: med <= 1.02 && p99 <= 1.05,
      details: { jobs, ratio, leg1Ms: leg1, leg2Ms: leg2, ratioToComfyRun: ofRun },
    };
  },
};
export default scenario;
