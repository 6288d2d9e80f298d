import { t } from '../../i18n/index.js';
import { defineCommand } from '../command.js';
import { localized, option } from './common.js';

/** Telegram's first message to a bot; everyone may read it (the allowlist applies to what follows). */
export const startCommand = () =>
  defineCommand({
    name: 'start',
    description: localized('menu.help'),
    // A deep link (t.me/<bot>?start=<payload>) arrives as `/start <payload>`: taken here and ignored.
    options: [option({ name: 'payload', type: 'text', maxLength: 4096, description: 'menu.help' })],
    rest: 'payload',
    hidden: true,
    public: true,
    async run(_input, ctx) {
      await ctx.reply({ text: t(ctx.user.locale, 'bot.start') });
    },
  });
