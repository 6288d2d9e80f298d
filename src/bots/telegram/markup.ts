import { InlineKeyboard } from 'grammy';
import type { InlineKeyboardButton } from 'grammy/types';
import { encodeAction } from '../actions.js';
import type { ActionRow } from '../command.js';

/** Neutral action rows → an inline keyboard. A select becomes its options' short labels, three to a row. */
export function keyboardOf(rows: readonly ActionRow[] | undefined): InlineKeyboard | undefined {
  if (!rows?.length) return undefined;
  const out: InlineKeyboardButton[][] = [];
  for (const row of rows) {
    if (row.kind === 'buttons') out.push(row.buttons.map((b) => InlineKeyboard.text(b.label, encodeAction(b.action))));
    else
      for (let i = 0; i < row.options.length; i += 3)
        out.push(row.options.slice(i, i + 3).map((o) => InlineKeyboard.text(o.short, encodeAction(o.action))));
  }
  return InlineKeyboard.from(out);
}
