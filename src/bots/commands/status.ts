import { formatDuration, type Locale, t } from '../../i18n/index.js';
import type { WorkerInfo } from '../../queue/producer.js';
import { defineCommand } from '../command.js';
import { localized } from './common.js';
import type { CommandDeps } from './deps.js';

/**
 * The admin summary, the same on every platform and in `npm run cli -- status`: queue counts, each online worker
 * with its ComfyUI, whether it is busy and its VRAM (from /system_stats, reported with the worker's heartbeat), jobs
 * unfinished long past any timeout, and history totals.
 */
const GB = 1024 ** 3;

function workerLine(locale: Locale, w: WorkerInfo): string {
  const gpu = w.gpu && {
    gpu: w.gpu.name,
    free: (w.gpu.vramFree / GB).toFixed(1),
    total: (w.gpu.vramTotal / GB).toFixed(1),
  };
  // The model is the checkpoint its ComfyUI ran last (warm-model routing prefers it for that model's jobs).
  return t(locale, 'bot.status_worker', {
    url: w.comfyUrl,
    job: w.busyJobId?.slice(0, 8) ?? '',
    ...gpu,
    ...(w.model ? { model: w.model } : {}),
  });
}

export const statusCommand = (deps: CommandDeps) =>
  defineCommand({
    name: 'status',
    description: localized('discord.status_description'),
    options: [],
    adminOnly: true,
    async run(_input, ctx) {
      const { locale } = ctx.user;
      const [queue, workers] = await Promise.all([deps.producer.counts(), deps.producer.onlineWorkers()]);
      const history = deps.repo.counts();
      const [head = '', workersLine = '', historyLine = ''] = t(locale, 'bot.status', {
        waiting: (queue.waiting ?? 0) + (queue.prioritized ?? 0),
        active: queue.active ?? 0,
        failed: queue.failed ?? 0,
        workers: workers.length,
        succeeded: history.succeeded,
        failed_hist: history.failed,
        cancelled: history.cancelled,
      }).split('\n');
      const stuckAfter = (deps.jobTimeoutMs ?? 3_600_000) + 10 * 60_000;
      const stuck = deps.repo.stale(Date.now() - stuckAfter);
      const lines = [head, workersLine, ...workers.map((w) => workerLine(locale, w))];
      if (stuck.length) {
        const jobs = stuck.map((r) => `${r.shortId} (${r.workflow}, ${r.status})`).join(', ');
        lines.push(t(locale, 'bot.status_stuck', { time: formatDuration(stuckAfter), jobs }));
      }
      lines.push(historyLine);
      await ctx.reply({ text: lines.join('\n'), private: true });
    },
  });
