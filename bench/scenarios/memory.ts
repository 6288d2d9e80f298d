/**
 * memory: `npm start -- all` (bot + worker in one process, as users run it) as a child, an instant fake ComfyUI and the
 * fake Telegram in the bench process; users send /imagine in their private chats, 32 jobs in flight. The child's RSS
 * (VmRSS, /proc) after 500 jobs and after 5000 (each read once it has settled: unchanged for 3 s of idling, at most 15
 * s), the growth between the two, and the peak sampled every 100 ms. Only the product's process is measured.
 */
import { startFakeComfy } from '../../tests/fakes/comfy/server.js';
import { startFakeTelegram } from '../../tests/fakes/telegram/server.js';
import { fakeModels } from '../../tests/support/config.js';
import { TOKEN } from '../../tests/support/telegram-harness.js';
import { r1, scaled, type Scenario } from '../lib.js';
import { productEnv, sampleRss, settledRss, startProduct, telegramEnv } from '../product.js';
import { telegramLoad } from '../telegram-load.js';

const LANES = 32;

const scenario: Scenario = {
  name: 'memory',
  target: 'growth ≤ 20 %, peak ≤ 150 MB',
  async run(ctx) {
    const first = scaled(500, 10);
    const total = scaled(5000, 100);
    const comfy = await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 0 });
    const telegram = await startFakeTelegram({ token: TOKEN });
    const load = telegramLoad(telegram);
    try {
      const product = await startProduct('all', productEnv(ctx, { COMFY_URL: comfy.url, ...telegramEnv(telegram) }));
      const rssReady = product.rssMB();
      const sampler = sampleRss([product]);
      const cpu0 = product.cpuMs();
      const lines0 = product.lines();
      let rssFirst = 0;
      let rssEnd = 0;
      try {
        await load.run(first, LANES);
        rssFirst = await settledRss(product);
        await load.run(total, LANES);
        rssEnd = await settledRss(product);
      } catch (err) {
        throw new Error(`${(err as Error).message}; product log: ${product.tail().slice(-300)}`);
      } finally {
        sampler.stop();
      }
      const cpuMsPerJob = (product.cpuMs() - cpu0) / total;
      const details = {
        first,
        total,
        lanes: LANES,
        rssReadyMB: r1(rssReady),
        rssFirstMB: r1(rssFirst),
        rssEndMB: r1(rssEnd),
        peakSampledMB: r1(sampler.peakMB(product)),
        peakVmHwmMB: r1(product.peakMB()),
        launchersMB: r1(product.launcherMB()),
        cpuMsPerJob: r1(cpuMsPerJob),
        logLinesPerJob: r1((product.lines() - lines0) / total),
        telegramCallsPerJob: r1(load.calls() / total),
      };
      const exit = await product.stop();
      const growth = (rssEnd / rssFirst - 1) * 100;
      const peak = sampler.peakMB(product);
      return {
        measured: `RSS ${Math.round(rssFirst)} MB after ${first} jobs, ${Math.round(rssEnd)} MB after ${total} (${growth >= 0 ? '+' : ''}${r1(growth)} %), peak ${Math.round(peak)} MB`,
        met: growth <= 20 && peak <= 150,
        details: { ...details, exitCode: exit },
      };
    } finally {
      await load.stop();
      await telegram.close();
      await comfy.close();
    }
  },
};
export default scenario;
