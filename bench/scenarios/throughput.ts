/**
 * throughput: instant fake ComfyUI (1 step, 0 ms), 2000 jobs through the tracker with 64 in flight, on 1, 2 and
 * 4 workers (each its own fake ComfyUI). jobs/s = jobs ÷ wall time; CPU ms/job = user+system CPU of the bench's
 * node process (frontend + workers + the fake ComfyUIs, which all live in it; redis-server not counted) ÷ jobs.
 */
import { r1, scaled, type Scenario } from '../lib.js';
import { pipelineWith } from './common.js';

const scenario: Scenario = {
  name: 'throughput',
  target: 'CPU ≤ 10 ms/job; scales with workers',
  async run(ctx) {
    const jobs = scaled(2000, 50);
    const res: Array<{ workers: number; jobsPerS: number; cpuMsPerJob: number }> = [];
    for (const workers of [1, 2, 4]) {
      const p = await pipelineWith(ctx, { workers, stepMs: 0 });
      try {
        await Promise.all(Array.from({ length: workers * 2 }, () => p.job({ steps: 1 }))); // warm-up
        let next = 0;
        const lane = async () => {
          while (next < jobs) {
            next++;
            await p.job({ steps: 1 });
          }
        };
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await Promise.all(Array.from({ length: 64 }, lane));
        const wall = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        res.push({
          workers,
          jobsPerS: r1((jobs / wall) * 1000),
          cpuMsPerJob: r1((cpu.user + cpu.system) / 1000 / jobs),
        });
      } finally {
        await p.close();
      }
    }
    const cpuMax = Math.max(...res.map((r) => r.cpuMsPerJob));
    const scales = (res[2]?.jobsPerS ?? 0) > (res[0]?.jobsPerS ?? 0) * 1.5;
    return {
      measured: `${jobs} jobs: ${res.map((r) => `${r.workers}w ${r.jobsPerS} jobs/s ${r.cpuMsPerJob} CPU ms/job`).join('; ')}`,
      met: cpuMax <= 10 && scales,
      details: {
        jobs,
        results: res,
        note: 'CPU includes the in-process fake ComfyUIs; 2 cores shared with redis-server',
      },
    };
  },
};
export default scenario;
