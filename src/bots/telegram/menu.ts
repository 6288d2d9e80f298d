import type { Api } from 'grammy';
import type { WorkflowRegistry } from '../../comfy/workflows.js';
import { t, type Locale } from '../../i18n/index.js';

/** setMyCommands per language. Telegram takes two-letter codes only, so zh-TW's menu is registered as "zh". */
export async function registerMenus(api: Api, workflows: WorkflowRegistry) {
  const menu = (locale: Locale) => [
    ...[...workflows.values()].map((wf) => ({ command: wf.name, description: wf.manifest.description[locale] })),
    { command: 'gallery', description: locale === 'en' ? 'Your past work' : '你的作品' },
    { command: 'remix', description: locale === 'en' ? 'Run a job again with changes' : '修改後重新生成' },
    { command: 'cancel', description: locale === 'en' ? 'Cancel a job' : '取消任務' },
    { command: 'models', description: locale === 'en' ? 'Models you can pick' : '可選擇的模型' },
    { command: 'help', description: t(locale, 'bot.help_header').replace(/[:：]$/, '') },
  ];
  await api.setMyCommands(menu('en'));
  await api.setMyCommands(menu('zh-TW'), { language_code: 'zh' });
}
