import { Routes, type REST } from 'discord.js';
import type { Logger } from '../../logger.js';
import type { SlashCommand } from './slash.js';

/**
 * Registers the commands only when they differ from what Discord has (creates are limited to 200 a day per
 * guild): one GET, and one bulk PUT when anything changed. Guild commands when a guild id is given (instant),
 * global ones otherwise.
 */
export async function deployCommands(
  rest: REST,
  appId: string,
  guildId: string | undefined,
  commands: SlashCommand[],
  logger: Logger,
): Promise<boolean> {
  const route = guildId ? Routes.applicationGuildCommands(appId, guildId) : Routes.applicationCommands(appId);
  const existing = (await rest.get(route)) as Array<Record<string, unknown>>;
  if (sameCommands(existing, commands)) {
    logger.info({ count: commands.length, scope: guildId ?? 'global' }, 'slash commands up to date');
    return false;
  }
  await rest.put(route, { body: commands });
  logger.info({ count: commands.length, scope: guildId ?? 'global' }, 'slash commands registered');
  return true;
}

/** Compares only the fields we send; Discord adds ids, versions and defaults of its own. */
function sameCommands(existing: Array<Record<string, unknown>>, wanted: SlashCommand[]): boolean {
  if (existing.length !== wanted.length) return false;
  const norm = (c: Record<string, unknown>) =>
    JSON.stringify({
      name: c.name,
      description: c.description,
      description_localizations: c.description_localizations ?? {},
      default_member_permissions: c.default_member_permissions ?? null,
      options: ((c.options as Array<Record<string, unknown>>) ?? []).map((o) => ({
        ...o,
        required: o.required ?? undefined,
      })),
    });
  const byName = new Map(existing.map((c) => [c.name, norm(c)]));
  return wanted.every((c) => byName.get(c.name) === norm(c as unknown as Record<string, unknown>));
}
