import { t, type Locale } from '../i18n/index.js';
import type { ActionRow } from './command.js';

/** The controls under a finished job, the same on every platform: Reroll and Remix, then one Upscale per image. */
export function resultRows(locale: Locale, jobId: string, imageCount: number, canUpscale: boolean): ActionRow[] {
  const rows: ActionRow[] = [
    {
      kind: 'buttons',
      buttons: [
        { label: t(locale, 'bot.button_reroll'), action: { kind: 'reroll', jobId } },
        { label: t(locale, 'bot.button_remix'), action: { kind: 'remix', jobId } },
      ],
    },
  ];
  if (canUpscale && imageCount > 0)
    rows.push({
      kind: 'buttons',
      buttons: Array.from({ length: Math.min(imageCount, 4) }, (_, i) => ({
        label: t(locale, 'bot.button_upscale', { n: i + 1 }),
        action: { kind: 'upscale' as const, jobId, index: i + 1 },
      })),
    });
  return rows;
}

/** The Cancel control under a job that is still waiting or running. */
export const cancelRow = (locale: Locale, jobId: string): ActionRow => ({
  kind: 'buttons',
  buttons: [{ label: t(locale, 'bot.button_cancel'), action: { kind: 'cancel', jobId }, style: 'danger' }],
});
