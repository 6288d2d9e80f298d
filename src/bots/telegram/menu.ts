import type { Api } from 'grammy';
import type { WorkflowRegistry } from '../../comfy/workflows.js';
import { t, type Locale } from '../../i18n/index.js';

/** setMyCommands per language. Telegram takes two-letter codes only, so zh-TW's menu is registered as "zh". */
export function menuFor(workflows: WorkflowRegistry, locale: Locale) {
  return [
    ...[...workflows.values()].map((wf) => ({ command: wf.name, description: wf.manifest.description[locale] })),
    ...(['gallery', 'remix', 'cancel', 'models', 'help'] as const).map((c) => ({
      command: c,
      description: t(locale, `menu.${c}`),
    })),
  ];
}

export async function registerMenus(api: Api, workflows: WorkflowRegistry) {
  await api.setMyCommands(menuFor(workflows, 'en'));
  await api.setMyCommands(menuFor(workflows, 'zh-TW'), { language_code: 'zh' });
}
