import {
  ActionRowBuilder,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  ButtonBuilder,
  ButtonStyle,
  StringSelectMenuBuilder,
} from 'discord.js';
import { encodeAction } from '../actions.js';
import type { ActionRow } from '../command.js';

/**
 * Neutral action rows → message components, through discord.js builders. A select's options must share one action
 * kind: the menu's custom id is that kind's prefix plus `select`, and each option's value is the action's argument
 * (`v1:o:select` + a job id → `v1:o:<job id>`), which keeps both within Discord's 100-character limits.
 */
const STYLE = { primary: ButtonStyle.Primary, danger: ButtonStyle.Danger } as const;
const SELECT_SUFFIX = 'select';

export function componentsOf(
  rows: readonly ActionRow[] | undefined,
): APIActionRowComponent<APIComponentInMessageActionRow>[] {
  return (rows ?? []).map((row) => {
    if (row.kind === 'buttons') {
      const buttons = row.buttons.map((b) =>
        new ButtonBuilder()
          .setCustomId(encodeAction(b.action))
          .setLabel(b.label)
          .setStyle(b.style ? STYLE[b.style] : ButtonStyle.Secondary),
      );
      return new ActionRowBuilder<ButtonBuilder>().addComponents(buttons).toJSON();
    }
    const encoded = row.options.map((o) => encodeAction(o.action));
    const prefix = (encoded[0] ?? '').replace(/[^:]*$/, '');
    const menu = new StringSelectMenuBuilder()
      .setCustomId(`${prefix}${SELECT_SUFFIX}`)
      .setPlaceholder(row.placeholder)
      .addOptions(
        row.options.map((o, i) => ({
          label: o.label.slice(0, 100),
          value: (encoded[i] as string).slice(prefix.length),
          ...(o.description ? { description: o.description.slice(0, 100) } : {}),
        })),
      );
    return new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(menu).toJSON();
  });
}

/** A menu pick back to the encoded action it stands for. */
export const selectedAction = (customId: string, value: string | undefined) =>
  customId.endsWith(SELECT_SUFFIX) && value ? customId.slice(0, -SELECT_SUFFIX.length) + value : undefined;
