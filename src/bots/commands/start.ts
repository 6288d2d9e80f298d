import { t } from '../../i18n/index.js';
import { defineCommand } from '../command.js';
import { localized } from './common.js';

/** Telegram's first message to a bot; everyone may read it (the allowlist applies to what follows). */
export const startCommand = () =>
  defineCommand({
    name: 'start',
    description: localized('menu.help'),
    options: [],
    hidden: true,
    public: true,
    async run(_input, ctx) {
      await ctx.reply({ text: t(ctx.user.locale, 'bot.start') });
    },
  });
