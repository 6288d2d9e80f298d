import type { Api } from 'grammy';
import type { Locale } from '../../i18n/index.js';
import type { CommandDefinition } from '../command.js';

/** setMyCommands per language, from the one command list. Telegram takes two-letter codes, so zh-TW registers as "zh". */
export function menuFor(commands: readonly CommandDefinition[], locale: Locale) {
  return commands
    .filter((c) => !c.hidden && !c.adminOnly)
    .map((c) => ({ command: c.name, description: c.description[locale] }));
}

export async function registerMenus(api: Api, commands: readonly CommandDefinition[]) {
  await api.setMyCommands(menuFor(commands, 'en'));
  await api.setMyCommands(menuFor(commands, 'zh-TW'), { language_code: 'zh' });
}
