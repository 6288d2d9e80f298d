import type { Param } from '../../comfy/manifest.js';
import { MAX_SEED } from '../../comfy/params.js';
import type { WorkflowRegistry } from '../../comfy/workflows.js';
import { t } from '../../i18n/index.js';

/**
 * Manifests (and the built-ins) → Discord application command JSON. Required options come first (Discord
 * requires it); at most 25 options and 25 choices; dynamic choices (model lists) use autocomplete; media are
 * ATTACHMENT options. English is the default text, zh-TW goes into the localization fields.
 */
const OPTION = { string: 3, integer: 4, number: 10, attachment: 11 } as const;

export interface SlashOption {
  type: number;
  name: string;
  description: string;
  description_localizations?: Record<string, string>;
  required?: boolean;
  min_value?: number;
  max_value?: number;
  max_length?: number;
  choices?: Array<{ name: string; value: string }>;
  autocomplete?: boolean;
}

export interface SlashCommand {
  name: string;
  type: 1;
  description: string;
  description_localizations: Record<string, string>;
  options: SlashOption[];
  default_member_permissions?: string | null;
  contexts?: number[];
}

function optionOf(p: Param, maxPromptChars: number): SlashOption {
  const base = {
    name: p.name,
    description: p.description.en.slice(0, 100),
    description_localizations: { 'zh-TW': p.description['zh-TW'].slice(0, 100) },
    required: p.required || undefined,
  };
  switch (p.type) {
    case 'text':
      return { ...base, type: OPTION.string, max_length: Math.min(p.maxLength, maxPromptChars, 6000) };
    case 'int':
      return { ...base, type: OPTION.integer, min_value: p.min, max_value: p.max };
    case 'float':
      return { ...base, type: OPTION.number, min_value: p.min, max_value: p.max };
    case 'seed':
      return { ...base, type: OPTION.integer, min_value: 0, max_value: MAX_SEED };
    case 'choice':
      return p.dynamic || p.choices.length > 25
        ? { ...base, type: OPTION.string, autocomplete: true, max_length: 256 }
        : { ...base, type: OPTION.string, choices: p.choices.map((c) => ({ name: c.value, value: c.value })) };
    case 'image':
    case 'audio':
      return { ...base, type: OPTION.attachment };
  }
}

export function buildSlashCommands(workflows: WorkflowRegistry, maxPromptChars: number): SlashCommand[] {
  const loc = (key: Parameters<typeof t>[1]) => ({
    description: t('en', key),
    description_localizations: { 'zh-TW': t('zh-TW', key) },
  });
  const commands: SlashCommand[] = [...workflows.values()].map((wf) => {
    const options = wf.manifest.params.map((p) => optionOf(p, maxPromptChars));
    // Discord refuses a required option after an optional one.
    options.sort((a, b) => Number(Boolean(b.required)) - Number(Boolean(a.required)));
    return {
      name: wf.name,
      type: 1,
      description: wf.manifest.description.en,
      description_localizations: { 'zh-TW': wf.manifest.description['zh-TW'] },
      options,
    };
  });
  const jobOption = (required: boolean): SlashOption => ({
    type: OPTION.string,
    name: 'job',
    ...loc('discord.option_job'),
    required: required || undefined,
    autocomplete: true,
    max_length: 36,
  });
  commands.push(
    {
      name: 'gallery',
      type: 1,
      ...loc('menu.gallery'),
      options: [{ type: OPTION.integer, name: 'page', ...loc('discord.option_page'), min_value: 1, max_value: 1000 }],
    },
    {
      name: 'remix',
      type: 1,
      ...loc('menu.remix'),
      options: [
        jobOption(true),
        { type: OPTION.string, name: 'prompt', ...loc('discord.option_prompt'), max_length: maxPromptChars },
      ],
    },
    { name: 'cancel', type: 1, ...loc('menu.cancel'), options: [jobOption(false)] },
    { name: 'models', type: 1, ...loc('menu.models'), options: [] },
    { name: 'help', type: 1, ...loc('menu.help'), options: [] },
    // "0" hides it from everyone but server admins; the bot still checks ADMIN_USERS.
    { name: 'status', type: 1, ...loc('discord.status_description'), options: [], default_member_permissions: '0' },
  );
  return commands;
}
