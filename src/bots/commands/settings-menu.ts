import { createHash } from 'node:crypto';
import type { WorkflowRegistry } from '../../comfy/workflows.js';
import type { ChatSettings, UserSettings } from '../../history/settings-repo.js';
import { type Locale, type MessageKey, t } from '../../i18n/index.js';
import type { Action } from '../actions.js';
import type { ActionRow, Reply } from '../command.js';

/**
 * The /settings menu, drawn the same way for every platform from the stored values: a summary, then either one
 * dropdown per group of settings (where selects are dropdowns, Discord) or buttons that open one setting's choices
 * in place (Telegram). Every pick is a `setting` action `key=value`; `-` puts a setting back to its default.
 */
export const SETTING_KEYS = [
  'language',
  'aspect',
  'model',
  'count',
  'steps',
  'visibility',
  'pings',
  'spoilers',
  'chat_spoilers',
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];
export const isSettingKey = (k: string): k is SettingKey => (SETTING_KEYS as readonly string[]).includes(k);

/** The value that clears a setting (in menus; typed, `default` and `auto` do the same). */
export const CLEAR = '-';

/** What the menus offer, from the workflows (aspects, counts, steps) and ComfyUI (models). */
export interface MenuChoices {
  aspects: string[];
  models: string[];
  counts: number[];
  steps: number[];
}

const STEP_CHOICES = [10, 15, 20, 25, 30, 40, 50];

/** Every value a setting may take, gathered over the workflows that have the option. */
export function workflowChoices(workflows: WorkflowRegistry): Omit<MenuChoices, 'models'> & { maxSteps: number } {
  const aspects = new Set<string>();
  let maxCount = 0;
  let steps = { min: Infinity, max: 0 };
  for (const wf of workflows.values())
    for (const p of wf.manifest.params) {
      if (p.name === 'aspect' && p.type === 'choice') for (const c of p.choices) aspects.add(c.value);
      if (p.name === 'count' && p.type === 'int') maxCount = Math.max(maxCount, p.max);
      if (p.name === 'steps' && p.type === 'int')
        steps = { min: Math.min(steps.min, p.min), max: Math.max(steps.max, p.max) };
    }
  return {
    aspects: [...aspects],
    counts: Array.from({ length: Math.min(maxCount, 10) }, (_, i) => i + 1),
    steps: STEP_CHOICES.filter((n) => n >= steps.min && n <= steps.max),
    maxSteps: steps.max,
  };
}

/** A model name fits no button payload, so a menu carries its short hash and the pick finds it again by that. */
export const modelToken = (name: string) => `#${createHash('sha1').update(name).digest('hex').slice(0, 8)}`;

const LABEL: Record<SettingKey, MessageKey> = {
  language: 'settings.key_language',
  aspect: 'settings.key_aspect',
  model: 'settings.key_model',
  count: 'settings.key_count',
  steps: 'settings.key_steps',
  visibility: 'settings.key_visibility',
  pings: 'settings.key_pings',
  spoilers: 'settings.key_spoilers',
  chat_spoilers: 'settings.key_chat_spoilers',
};

export interface MenuState {
  locale: Locale;
  /** The platform's language: what "auto" means for this user. */
  autoLocale: Locale;
  settings: UserSettings;
  /** The chat's policy; present only for someone who administers the chat. */
  chat?: ChatSettings;
  choices: MenuChoices;
  dropdowns: boolean;
  /** How the command is typed here, for the hint. */
  prefix: string;
  /** A line above the summary (saved, reset). */
  note?: string;
}

const languageName = (locale: Locale, l: Locale) => t(locale, l === 'en' ? 'settings.lang_en' : 'settings.lang_zh');
const onOff = (locale: Locale, v: boolean) => t(locale, v ? 'settings.on' : 'settings.off');

/** A setting's value as the summary shows it. */
function shown(s: MenuState, key: SettingKey): string {
  const { locale, settings: u } = s;
  const def = t(locale, 'settings.default');
  switch (key) {
    case 'language':
      return u.language
        ? languageName(locale, u.language)
        : t(locale, 'settings.auto', { language: languageName(locale, s.autoLocale) });
    case 'aspect':
    case 'model':
    case 'count':
    case 'steps':
      return u[key] === undefined ? def : String(u[key]);
    case 'visibility':
      return t(locale, u.visibility === 'private' ? 'settings.private' : 'settings.public');
    case 'pings':
      return onOff(locale, u.pings ?? true);
    case 'spoilers':
      return onOff(locale, u.spoilers ?? false);
    case 'chat_spoilers':
      return s.chat?.spoilers ? onOff(locale, s.chat.spoilers === 'on') : t(locale, 'settings.chat_auto');
  }
}

const line = (s: MenuState, key: SettingKey) =>
  t(s.locale, 'settings.line', { label: t(s.locale, LABEL[key]), value: shown(s, key) });

/** Each setting's choices as (value, label), the current one ticked. */
function options(s: MenuState, key: SettingKey): Array<{ value: string; label: string }> {
  const { locale, settings: u, choices } = s;
  const def = { value: CLEAR, label: t(locale, 'settings.default') };
  const list: Array<{ value: string; label: string; current: boolean }> = (() => {
    switch (key) {
      case 'language':
        return [
          { ...def, label: t(locale, 'settings.auto', { language: languageName(locale, s.autoLocale) }) },
          { value: 'en', label: languageName(locale, 'en') },
          { value: 'zh-TW', label: languageName(locale, 'zh-TW') },
        ].map((o) => ({ ...o, current: (u.language ?? CLEAR) === o.value }));
      case 'aspect':
        return [def, ...choices.aspects.map((a) => ({ value: a, label: a }))].map((o) => ({
          ...o,
          current: (u.aspect ?? CLEAR) === o.value,
        }));
      case 'model':
        return [
          { ...def, current: u.model === undefined },
          ...choices.models.slice(0, 24).map((m) => ({ value: modelToken(m), label: m, current: u.model === m })),
        ];
      case 'count':
      case 'steps':
        return [
          { ...def, current: u[key] === undefined },
          ...choices[key === 'count' ? 'counts' : 'steps'].map((n) => ({
            value: String(n),
            label: String(n),
            current: u[key] === n,
          })),
        ];
      case 'visibility':
        return (['public', 'private'] as const).map((v) => ({
          value: v,
          label: t(locale, v === 'private' ? 'settings.private' : 'settings.public'),
          current: (u.visibility ?? 'public') === v,
        }));
      case 'pings':
      case 'spoilers':
        return [true, false].map((v) => ({
          value: v ? 'on' : 'off',
          label: onOff(locale, v),
          current: (u[key] ?? key === 'pings') === v,
        }));
      case 'chat_spoilers':
        return [
          { value: CLEAR, label: t(locale, 'settings.chat_auto'), current: !s.chat?.spoilers },
          { value: 'on', label: onOff(locale, true), current: s.chat?.spoilers === 'on' },
          { value: 'off', label: onOff(locale, false), current: s.chat?.spoilers === 'off' },
        ];
    }
  })();
  return list.map((o) => ({ value: o.value, label: o.current ? `✓ ${o.label}` : o.label }));
}

const pick = (key: SettingKey | 'reset', value: string, menu?: number): Action =>
  menu === undefined ? { kind: 'setting', key, value } : { kind: 'setting', key, value, menu };

/** The keys the menus show: the model only when ComfyUI named some, the chat's policy only for its admins. */
function keysOf(s: MenuState): SettingKey[] {
  return SETTING_KEYS.filter(
    (k) =>
      (k !== 'model' || s.choices.models.length > 0 || s.settings.model !== undefined) &&
      (k !== 'chat_spoilers' || s.chat),
  );
}

/** Discord: at most five rows, each a dropdown; each dropdown's picks share a menu number (ids must differ). */
function dropdownRows(s: MenuState): ActionRow[] {
  const keys = keysOf(s);
  const groups: SettingKey[][] = [
    ['language'],
    ['aspect'],
    ['model'],
    ['count', 'steps'],
    ['visibility', 'pings', 'spoilers', 'chat_spoilers'],
  ].map((g) => g.filter((k): k is SettingKey => keys.includes(k as SettingKey)));
  return groups
    .filter((g) => g.length)
    .map((group, i): ActionRow => {
      const many = group.length > 1;
      const opts = group.flatMap((key) =>
        options(s, key).map((o) => ({
          label: many ? `${t(s.locale, LABEL[key])}: ${o.label}` : o.label,
          short: o.label,
          action: pick(key, o.value, i + 1),
        })),
      );
      if (group.includes('visibility'))
        opts.push({ label: t(s.locale, 'settings.button_reset'), short: '↺', action: pick('reset', '1', i + 1) });
      return {
        kind: 'select',
        placeholder: group
          .map((k) => line(s, k))
          .join(' · ')
          .slice(0, 150),
        options: opts.slice(0, 25),
      };
    });
}

/** Telegram: a button per setting (on/off ones flip at once), then one setting's choices in place. */
function buttonRows(s: MenuState): ActionRow[] {
  const keys = keysOf(s);
  const open = (key: SettingKey) => ({
    label: t(s.locale, LABEL[key]),
    action: { kind: 'settings' as const, view: key },
  });
  const flip = (key: 'pings' | 'spoilers') => {
    const on = s.settings[key] ?? key === 'pings';
    return { label: line(s, key), action: pick(key, on ? 'off' : 'on') };
  };
  const visibility = s.settings.visibility === 'private' ? 'public' : 'private';
  const rows: ActionRow[] = [
    { kind: 'buttons', buttons: (['language', 'aspect', 'model'] as const).filter((k) => keys.includes(k)).map(open) },
    {
      kind: 'buttons',
      buttons: [open('count'), open('steps'), { label: line(s, 'visibility'), action: pick('visibility', visibility) }],
    },
    { kind: 'buttons', buttons: [flip('pings'), flip('spoilers')] },
  ];
  if (keys.includes('chat_spoilers')) rows.push({ kind: 'buttons', buttons: [open('chat_spoilers')] });
  rows.push({
    kind: 'buttons',
    buttons: [{ label: t(s.locale, 'settings.button_reset'), action: pick('reset', '1') }],
  });
  return rows;
}

/** The main menu: the summary and its controls. */
export function settingsMenu(s: MenuState): Reply {
  const keys = keysOf(s);
  const text = [
    ...(s.note ? [s.note, ''] : []),
    t(s.locale, 'settings.title'),
    ...keys.map((k) => line(s, k)),
    '',
    t(s.locale, 'settings.hint', { prefix: s.prefix }),
  ].join('\n');
  return { text, rows: s.dropdowns ? dropdownRows(s) : buttonRows(s), private: true };
}

/** One setting's choices (Telegram), with the way back. */
export function settingChoices(s: MenuState, key: SettingKey): Reply {
  const label = t(s.locale, LABEL[key]);
  return {
    text: `${t(s.locale, 'settings.choose', { label })}\n${line(s, key)}`,
    rows: [
      {
        kind: 'select',
        placeholder: label,
        options: options(s, key).map((o) => ({ label: o.label, short: o.label, action: pick(key, o.value) })),
      },
      {
        kind: 'buttons',
        buttons: [{ label: t(s.locale, 'settings.button_back'), action: { kind: 'settings', view: 'main' } }],
      },
    ],
    private: true,
  };
}
