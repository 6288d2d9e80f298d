import { describe, expect, it } from 'vitest';
import { en } from '../../src/i18n/en.js';
import { formatDuration, pickLocale, t } from '../../src/i18n/index.js';
import { zhTW } from '../../src/i18n/zh-TW.js';

describe('i18n', () => {
  it('has every English key in Traditional Chinese, with the same kind of entry', () => {
    expect(Object.keys(zhTW).sort()).toEqual(Object.keys(en).sort());
    for (const k of Object.keys(en) as Array<keyof typeof en>) expect(typeof zhTW[k]).toBe(typeof en[k]);
  });

  it('picks Traditional Chinese for any Chinese platform locale, English otherwise', () => {
    for (const l of ['zh-TW', 'zh-hant', 'zh', 'zh_TW.UTF-8', 'zh-CN']) expect(pickLocale(l)).toBe('zh-TW');
    for (const l of ['en', 'en-US', 'de', undefined, null, '']) expect(pickLocale(l)).toBe('en');
  });

  it('fills parameters', () => {
    expect(t('en', 'error.prompt_too_long', { length: 1200, max: 1000 })).toBe(
      'The prompt is too long: 1200 characters, at most 1000.',
    );
    expect(t('zh-TW', 'progress.queued', { position: 3 })).toBe('排隊中 — 前面還有 3 個');
  });

  it('formats durations', () => {
    expect([formatDuration(0), formatDuration(65_000), formatDuration(3_725_000)]).toEqual(['0:00', '1:05', '1:02:05']);
  });
});
