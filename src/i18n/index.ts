import { en, type MessageKey } from './en.js';
import { zhTW } from './zh-TW.js';

export type Locale = 'en' | 'zh-TW';
export type { MessageKey };

const catalogs: Record<Locale, Record<MessageKey, string | ((p: Record<string, string | number>) => string)>> = {
  en,
  'zh-TW': zhTW,
};

/**
 * Platform locale → ours. Telegram sends language_code ("zh-hant", "zh-tw", "zh"), Discord "zh-TW"/"zh-CN",
 * a terminal LANG ("zh_TW.UTF-8"). Chinese of any kind gets Traditional Chinese, the only Chinese we ship.
 */
export function pickLocale(platformLocale: string | undefined | null): Locale {
  const l = (platformLocale ?? '').toLowerCase().replace('_', '-');
  return l.startsWith('zh') ? 'zh-TW' : 'en';
}

/** A stored locale string (history rows) back to a Locale. */
export const asLocale = (value: string | undefined): Locale => (value === 'zh-TW' ? 'zh-TW' : 'en');

export function t(
  locale: Locale,
  key: MessageKey,
  params: Record<string, string | number | ((locale: Locale) => string)> = {},
): string {
  const entry = catalogs[locale][key] ?? catalogs.en[key];
  if (typeof entry !== 'function') return entry;
  // A parameter may itself depend on the language (validation problems): rendered here, for this reader.
  return entry(
    Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'function' ? v(locale) : v])),
  );
}

/** 65 s → "1:05", 3725 s → "1:02:05". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
