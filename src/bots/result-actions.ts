import type { FollowUp } from '../comfy/manifest.js';
import { type Locale, type MessageKey, t } from '../i18n/index.js';
import type { ActionRow } from './command.js';

type Buttons = Extract<ActionRow, { kind: 'buttons' }>['buttons'];

/** Images that get a row of their own: four rows under the first fill Discord's five rows of five buttons. */
export const MAX_IMAGE_ROWS = 4;

/**
 * The controls under a finished job, the same on every platform: Reroll, Remix and ⭐ (favourites: its label says
 * whether the job is `starred`) for every job, then one row per image (the first four) with the follow-ups the job's
 * manifest declares (U1 V1s V1S A1) and, where the chat got a recompressed photo, ⬇️ Original. A follow-up button names the job, the image and the follow-up's place in the list.
 */
export function resultRows(
  locale: Locale,
  jobId: string,
  imageCount: number,
  followUps: readonly FollowUp[] = [],
  opts: { originals?: readonly number[]; starred?: boolean } = {},
): ActionRow[] {
  const rows: ActionRow[] = [
    {
      kind: 'buttons',
      buttons: [
        { label: t(locale, 'bot.button_reroll'), action: { kind: 'reroll', jobId } },
        { label: t(locale, 'bot.button_remix'), action: { kind: 'remix', jobId } },
        { label: t(locale, opts.starred ? 'bot.button_starred' : 'bot.button_star'), action: { kind: 'star', jobId } },
      ],
    },
  ];
  for (let index = 1; index <= Math.min(imageCount, MAX_IMAGE_ROWS); index++) {
    const buttons: Buttons = followUps.map((f, i) => ({
      label: followUpLabel(locale, f.label, index),
      action: { kind: 'follow_up', jobId, index, n: i + 1 },
    }));
    if (opts.originals?.includes(index))
      buttons.push({
        label: t(locale, 'bot.button_original', { n: index }),
        action: { kind: 'original', jobId, index },
      });
    if (buttons.length) rows.push({ kind: 'buttons', buttons });
  }
  return rows;
}

/** A follow-up's button text: its message key, or its own texts with `{n}` for the image number. */
export function followUpLabel(locale: Locale, label: FollowUp['label'], n: number): string {
  if (typeof label === 'string') return t(locale, label as MessageKey, { n });
  return label[locale].replaceAll('{n}', String(n));
}

/** The Cancel control under a job that is still waiting or running. */
export const cancelRow = (locale: Locale, jobId: string): ActionRow => ({
  kind: 'buttons',
  buttons: [{ label: t(locale, 'bot.button_cancel'), action: { kind: 'cancel', jobId }, style: 'danger' }],
});
