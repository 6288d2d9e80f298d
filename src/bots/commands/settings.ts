import { type Param, paramSchema } from '../../comfy/manifest.js';
import { coerceParam, isMediaParam, paramValueSchema } from '../../comfy/param-kinds.js';
import { UserError } from '../../errors.js';
import type { ChatSettings, SettingsPatch, UserSettings } from '../../history/settings-repo.js';
import { type MessageKey, t } from '../../i18n/index.js';
import { type CommandContext, defineCommand, type OptionSpec } from '../command.js';
import { defineAction } from '../dispatch.js';
import { parseOptions } from '../validate.js';
import { localized, option } from './common.js';
import type { CommandDeps } from './deps.js';
import { modelChoices } from './models.js';
import {
  CLEAR,
  isSettingKey,
  type MenuState,
  modelToken,
  SETTING_KEYS,
  type SettingKey,
  settingChoices,
  settingsMenu,
  workflowChoices,
} from './settings-menu.js';

/**
 * `/settings`: a user's defaults and preferences, and a chat's spoiler policy for its admins. Without options it
 * shows the menu, whose picks come back as `setting` actions and redraw it in place; typed (`/settings aspect 16:9`,
 * `--aspect 16:9`, Discord's options) the values are stored after the same single validation pass as the menu's.
 * `/settings reset` forgets them all. Workflow commands read the defaults through `storedDefaults`.
 */

type Values = Partial<Record<SettingKey, string | number>>;
const DEFAULT_WORDS = new Set([CLEAR, 'default', 'auto', 'none', '預設', '自動']);
const LANGUAGE_WORDS: Record<string, string> = { english: 'en', zh: 'zh-TW', 'zh-tw': 'zh-TW', 'zh-hant': 'zh-TW' };

const choiceOption = (name: string, description: MessageKey, values: string[]): OptionSpec =>
  paramSchema.parse({
    name,
    type: 'choice',
    choices: values.map((value) => ({ value })),
    description: localized(description),
  });

/** One option per setting (Discord's options, `--name value`), plus `setting value` for typed words. */
function settingOptions(deps: Pick<CommandDeps, 'workflows'>): OptionSpec[] {
  const c = workflowChoices(deps.workflows);
  return [
    choiceOption('setting', 'settings.option_setting', [...SETTING_KEYS, 'reset']),
    option({ name: 'value', type: 'text', maxLength: 256, description: 'settings.option_value' }),
    choiceOption('language', 'settings.option_language', ['auto', 'en', 'zh-TW']),
    choiceOption('aspect', 'settings.option_aspect', ['default', ...c.aspects]),
    option({ name: 'model', type: 'text', maxLength: 256, description: 'settings.option_model' }, 'models'),
    option({
      name: 'count',
      type: 'int',
      min: 1,
      max: Math.max(1, c.counts.length),
      description: 'settings.option_count',
    }),
    option({ name: 'steps', type: 'int', min: 1, max: Math.max(1, c.maxSteps), description: 'settings.option_steps' }),
    choiceOption('visibility', 'settings.option_visibility', ['public', 'private']),
    choiceOption('pings', 'settings.option_pings', ['on', 'off']),
    choiceOption('spoilers', 'settings.option_spoilers', ['on', 'off']),
    choiceOption('chat_spoilers', 'settings.option_chat_spoilers', ['auto', 'on', 'off']),
  ];
}

/** `setting value` as typed or picked: checked by that setting's own option, the one validation of the value. */
function pair(
  specs: OptionSpec[],
  key: SettingKey,
  value: string | undefined,
  usage: string,
  maxChars: number,
): Values {
  const v = value?.trim() ?? '';
  if (!v) throw new UserError('settings.needs_value', { usage });
  if (DEFAULT_WORDS.has(v.toLowerCase())) return { [key]: CLEAR };
  const spec = specs.find((o) => o.name === key) as Param;
  const raw = key === 'language' ? (LANGUAGE_WORDS[v.toLowerCase()] ?? v) : coerceParam(spec, v);
  return parseOptions([spec], { [key]: raw }, maxChars) as Values;
}

/** Every setting the input names; 'reset' for `/settings reset`. */
function wanted(specs: OptionSpec[], input: Record<string, unknown>, prefix: string, maxChars: number) {
  const setting = input.setting as string | undefined;
  if (setting === 'reset') return 'reset' as const;
  const values: Values = {};
  // An option left out arrives as its default (an empty text): not a change.
  for (const key of SETTING_KEYS)
    if (input[key] !== undefined && input[key] !== '') values[key] = input[key] as string | number;
  if (setting && isSettingKey(setting))
    Object.assign(
      values,
      pair(specs, setting, input.value as string | undefined, `${prefix}settings ${setting} …`, maxChars),
    );
  return values;
}

const modelNames = async (deps: CommandDeps) => [
  ...new Set((await modelChoices(deps)).filter((m) => m.option === 'model').flatMap((m) => m.choices)),
];

async function menuState(
  deps: CommandDeps,
  ctx: CommandContext,
  over: { settings?: UserSettings; note?: MessageKey } = {},
): Promise<MenuState> {
  const { platform, userId, chatId } = ctx.user;
  const settings = over.settings ?? deps.settings.get(platform, userId);
  const autoLocale = ctx.user.platformLocale ?? ctx.user.locale;
  const locale = settings.language ?? autoLocale;
  const chat: ChatSettings | undefined = (await ctx.isChatAdmin()) ? deps.settings.chat(platform, chatId) : undefined;
  const { aspects, counts, steps } = workflowChoices(deps.workflows);
  return {
    locale,
    autoLocale,
    settings,
    chat,
    choices: { aspects, counts, steps, models: await modelNames(deps) },
    dropdowns: ctx.dropdowns,
    prefix: ctx.commandPrefix,
    note: over.note && t(locale, over.note),
  };
}

/** A chat's policy is for its admins: refused before anything changes (and before Discord's "thinking…"). */
async function ensureChatAdmin(ctx: CommandContext, values: Values) {
  if (values.chat_spoilers !== undefined && !(await ctx.isChatAdmin())) throw new UserError('settings.chat_admin_only');
}

/** Stores `values`, after `ensureChatAdmin`. */
async function store(deps: CommandDeps, ctx: CommandContext, values: Values): Promise<UserSettings> {
  const { platform, userId, chatId } = ctx.user;
  const isClear = (v: unknown) => v === CLEAR || (typeof v === 'string' && DEFAULT_WORDS.has(v));
  if (values.chat_spoilers !== undefined) {
    const v = values.chat_spoilers;
    deps.settings.setChat(platform, chatId, { spoilers: isClear(v) ? undefined : (v as 'on' | 'off') }, userId);
  }
  if (typeof values.model === 'string' && !isClear(values.model)) {
    const known = await modelNames(deps);
    if (known.length && !known.includes(values.model))
      throw new UserError('settings.unknown_model', { name: values.model });
  }
  const patch: SettingsPatch<UserSettings> = {};
  for (const [key, v] of Object.entries(values) as Array<[SettingKey, string | number]>) {
    const value = isClear(v) ? undefined : v;
    if (key === 'pings' || key === 'spoilers') patch[key] = value === undefined ? undefined : value === 'on';
    else if (key === 'count' || key === 'steps') patch[key] = value === undefined ? undefined : Number(value);
    else if (key !== 'chat_spoilers') (patch as Record<string, unknown>)[key] = value;
  }
  return Object.keys(patch).length ? deps.settings.set(platform, userId, patch) : deps.settings.get(platform, userId);
}

export const settingsCommand = (deps: CommandDeps) => {
  const specs = settingOptions(deps);
  return defineCommand<Record<string, unknown>>({
    name: 'settings',
    description: localized('menu.settings'),
    options: specs,
    positional: ['setting', 'value'],
    async run(input, ctx) {
      const only = typeof input.setting === 'string' && isSettingKey(input.setting) ? input.setting : undefined;
      if (only && !input.value) {
        // `/settings aspect`: that setting's choices.
        await ctx.defer({ private: true });
        return ctx.reply(settingChoices(await menuState(deps, ctx), only));
      }
      const values = wanted(specs, input, ctx.commandPrefix, deps.maxPromptChars);
      if (values !== 'reset') await ensureChatAdmin(ctx, values);
      await ctx.defer({ private: true });
      const { platform, userId } = ctx.user;
      if (values === 'reset') {
        deps.settings.reset(platform, userId);
        return ctx.reply(settingsMenu(await menuState(deps, ctx, { settings: {}, note: 'settings.reset_done' })));
      }
      if (Object.keys(values).length === 0) return ctx.reply(settingsMenu(await menuState(deps, ctx)));
      const settings = await store(deps, ctx, values);
      await ctx.reply(settingsMenu(await menuState(deps, ctx, { settings, note: 'settings.saved' })));
    },
  });
};

/** A pick in the menu: stored, then the menu again in place (in the new language when that was the pick). */
export const settingAction = (deps: CommandDeps) => {
  const specs = settingOptions(deps);
  return defineAction({
    kind: 'setting',
    async run(action, ctx) {
      await ctx.defer({ update: true });
      const { platform, userId } = ctx.user;
      if (action.key === 'reset') {
        deps.settings.reset(platform, userId);
        return ctx.update(settingsMenu(await menuState(deps, ctx, { settings: {}, note: 'settings.reset_done' })));
      }
      if (!isSettingKey(action.key)) throw new UserError('settings.stale_menu');
      let value = action.value;
      if (action.key === 'model' && value !== CLEAR) {
        const name = (await modelNames(deps)).find((m) => modelToken(m) === value);
        if (!name) throw new UserError('settings.stale_menu');
        value = name;
      }
      const values = pair(specs, action.key, value, '', deps.maxPromptChars);
      await ensureChatAdmin(ctx, values);
      const settings = await store(deps, ctx, values);
      await ctx.update(settingsMenu(await menuState(deps, ctx, { settings, note: 'settings.saved' })));
    },
  });
};

/** The menu, or one setting's choices, in place. */
export const settingsViewAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'settings',
    async run(action, ctx) {
      await ctx.defer({ update: true });
      const state = await menuState(deps, ctx);
      await ctx.update(isSettingKey(action.view) ? settingChoices(state, action.view) : settingsMenu(state));
    },
  });

/**
 * A user's stored defaults for one workflow: only the options it has, only values it accepts, so a default never
 * turns into an error; what the command types wins (the dispatcher spreads the typed values over these).
 */
export function storedDefaults(
  params: readonly Param[],
  settings: UserSettings | undefined,
  maxPromptChars: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['aspect', 'model', 'count', 'steps'] as const) {
    const value = settings?.[key];
    const p = params.find((q) => q.name === key && !isMediaParam(q));
    if (value !== undefined && p && paramValueSchema(p, maxPromptChars).safeParse(value).success) out[key] = value;
  }
  return out;
}
