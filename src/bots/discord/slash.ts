import type { Param } from '../../comfy/manifest.js';
import { MAX_SEED } from '../../comfy/params.js';
import type { CommandDefinition } from '../command.js';

/**
 * Manifests (and the built-ins) → Discord application command JSON. Required options come first (Discord
 * requires it); at most 25 options and 25 choices; dynamic choices (model lists) use autocomplete; media are
 * ATTACHMENT options. English is the default text, zh-TW goes into the localization fields.
 */
const OPTION = { string: 3, integer: 4, boolean: 5, number: 10, attachment: 11 } as const;

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
    case 'bool':
      return { ...base, type: OPTION.boolean };
    case 'choice':
      return p.dynamic || p.choices.length > 25
        ? { ...base, type: OPTION.string, autocomplete: true, max_length: 256 }
        : { ...base, type: OPTION.string, choices: p.choices.map((c) => ({ name: c.value, value: c.value })) };
    case 'image':
    case 'audio':
      return { ...base, type: OPTION.attachment };
  }
}

export function buildSlashCommands(commands: readonly CommandDefinition[], maxPromptChars: number): SlashCommand[] {
  return commands
    .filter((c) => !c.hidden)
    .map((c) => {
      const options = c.options.map((p) => ({ ...optionOf(p, maxPromptChars), ...(p.suggest ? suggestion : {}) }));
      // Discord refuses a required option after an optional one.
      options.sort((a, b) => Number(Boolean(b.required)) - Number(Boolean(a.required)));
      return {
        name: c.name,
        type: 1 as const,
        description: c.description.en,
        description_localizations: { 'zh-TW': c.description['zh-TW'] },
        options,
        // "0" hides it from everyone but server admins; the bot still checks ADMIN_USERS.
        ...(c.adminOnly ? { default_member_permissions: '0' } : {}),
      };
    });
}

/** Options whose choices come while typing (jobs, models) are autocomplete, never fixed choices. */
const suggestion = { autocomplete: true };
