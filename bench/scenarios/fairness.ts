/**
 * fairness: one worker, jobs of 500 ms (10 × 50 ms). User A queues 20 jobs; then users B and C send one each.
 * Measures B's and C's wait (submit → ComfyUI starts their prompt) in job lengths (median ComfyUI run time).
 */
import { pct, r1, scaled, sleep, type Scenario } from '../lib.js';
import { pipelineWith } from './common.js';

const scenario: Scenario = {
  name: 'fairness',
  target: 'each waits ≤ 2 job lengths',
  async run(ctx) {
    const flood = scaled(20, 5);
    const p = await pipelineWith(ctx, { stepMs: 50 });
    let waits: number[];
    let jobLen: number;
    try {
      await p.job({ steps: 1 }); // warm-up
      const a = Array.from({ length: flood }, () => p.job({ steps: 10 }, 'userA'));
      await sleep(300); // A's jobs are queued and the first one runs
      const others = await Promise.all([p.job({ steps: 10 }, 'userB'), p.job({ steps: 10 }, 'userC')]);
      const all = await Promise.all(a);
      jobLen = pct(
        all.map((j) => (j.end as number) - (j.start as number)),
        50,
      );
      waits = others.map((j) => ((j.start as number) - j.t0) / jobLen);
    } finally {
      await p.close();
    }
    return {
      measured: `A queued ${flood}: B waits ${r1(waits[0] as number)}, C waits ${r1(waits[1] as number)} job lengths (job ${jobLen} ms)`,
      met: waits.every((w) => w <= 2),
      details: { flood, jobLenMs: jobLen, waitsInJobLengths: waits },
    };
  },
};
export default scenario;
