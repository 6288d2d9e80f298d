/**
 * memory: the product's frontend (tracker, history, producer, events) and one worker in one node process with an
 * instant fake ComfyUI (the bench process itself, so the fake's memory is in it too). RSS after 500 jobs and after
 * 5000 jobs (32 in flight), growth between the two, and the peak RSS sampled every 100 ms.
 */
import { r1, scaled, type Scenario } from '../lib.js';
import { pipelineWith } from './common.js';

const mb = (b: number) => b / 2 ** 20;

const scenario: Scenario = {
  name: 'memory',
  target: 'growth ≤ 20 %, peak ≤ 150 MB',
  async run(ctx) {
    const total = scaled(5000, 100);
    const first = Math.max(10, Math.round(total / 10));
    const p = await pipelineWith(ctx, { stepMs: 0 });
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
    const gc = (globalThis as { gc?: () => void }).gc;
    let rss500 = 0;
    let rssEnd = 0;
    try {
      let next = 0;
      const runTo = async (n: number) => {
        const lane = async () => {
          while (next < n) {
            next++;
            await p.job({ steps: 1 });
          }
        };
        await Promise.all(Array.from({ length: 32 }, lane));
      };
      await runTo(first);
      gc?.();
      rss500 = process.memoryUsage.rss();
      await runTo(total);
      gc?.();
      rssEnd = process.memoryUsage.rss();
    } finally {
      clearInterval(sampler);
      await p.close();
    }
    peak = Math.max(peak, rssEnd);
    const growth = (rssEnd / rss500 - 1) * 100;
    return {
      measured: `RSS ${Math.round(mb(rss500))} MB after ${first} jobs, ${Math.round(mb(rssEnd))} MB after ${total} (${growth >= 0 ? '+' : ''}${r1(growth)} %), peak ${Math.round(mb(peak))} MB`,
      met: growth <= 20 && mb(peak) <= 150,
      details: { first, total, rssFirstMB: mb(rss500), rssEndMB: mb(rssEnd), peakMB: mb(peak), gcExposed: !!gc },
    };
  },
};
export default scenario;
