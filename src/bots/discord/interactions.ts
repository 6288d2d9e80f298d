import { ApplicationCommandOptionType, type Interaction } from 'discord.js';
import type { CommandContext } from '../command.js';
import type { Dispatcher } from '../dispatch.js';
import { selectedAction } from './components.js';
import { discordIdentity, type RepliableInteraction } from './context.js';

/** One interaction → the dispatcher: a command with its typed values, a button, a menu pick, a form, a suggestion. */
export async function route(
  i: Interaction,
  dispatcher: Dispatcher,
  contextOf: (i: RepliableInteraction) => CommandContext,
  isAdmin: (userId: string) => boolean,
) {
  if (i.isChatInputCommand()) {
    // Media arrive as attachments, fetched by the command; everything else is a typed value.
    const values: Record<string, unknown> = {};
    for (const o of i.options.data)
      if (o.type !== ApplicationCommandOptionType.Attachment && o.value !== undefined) values[o.name] = o.value;
    await dispatcher.command(i.commandName, { values }, contextOf(i));
  } else if (i.isStringSelectMenu()) {
    await dispatcher.action(selectedAction(i.customId, i.values[0]) ?? i.customId, contextOf(i));
  } else if (i.isButton()) await dispatcher.action(i.customId, contextOf(i));
  else if (i.isModalSubmit()) {
    const answer = i.fields.fields.has('prompt') ? i.fields.getTextInputValue('prompt') : '';
    await dispatcher.action(i.customId, contextOf(i), answer);
  } else if (i.isAutocomplete()) {
    const focused = i.options.getFocused(true);
    const user = discordIdentity(i, isAdmin);
    await i.respond(await dispatcher.suggest(i.commandName, focused.name, String(focused.value), user));
  }
}
