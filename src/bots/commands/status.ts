import { t } from '../../i18n/index.js';
import { defineCommand } from '../command.js';
import { localized } from './common.js';
import type { CommandDeps } from './deps.js';

/** The admin summary: queue, workers and history totals. */
export const statusCommand = (deps: CommandDeps) =>
  defineCommand({
    name: 'status',
    description: localized('discord.status_description'),
    options: [],
    adminOnly: true,
    async run(_input, ctx) {
      const [queue, workers] = await Promise.all([deps.producer.counts(), deps.producer.onlineWorkers()]);
      const history = deps.repo.counts();
      const text = t(ctx.user.locale, 'bot.status', {
        waiting: (queue.waiting ?? 0) + (queue.prioritized ?? 0),
        active: queue.active ?? 0,
        failed: queue.failed ?? 0,
        workers: workers.map((w) => `${w.comfyUrl}${w.busyJobId ? ' (busy)' : ''}`).join(', ') || '0',
        succeeded: history.succeeded,
        failed_hist: history.failed,
        cancelled: history.cancelled,
      });
      await ctx.reply({ text, private: true });
    },
  });
