import { ApplicationCommandOptionType, Client, Events, GatewayIntentBits, type Interaction } from 'discord.js';
import type { FollowUp } from '../../comfy/manifest.js';
import type { JobRecord } from '../../history/jobs-repo.js';
import { asLocale } from '../../i18n/index.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { Dispatcher } from '../dispatch.js';
import { selectedAction } from './components.js';
import { createDiscordContext, discordIdentity, type RepliableInteraction } from './context.js';
import { deployCommands } from './deploy.js';
import { countDiscordCalls } from './metrics.js';
import { createSendScheduler, discordBudget } from '../send-scheduler.js';
import { createDiscordSink } from './sink.js';
import { buildSlashCommands } from './slash.js';

/**
 * The Discord frontend: interactions in, the dispatcher does the rest. What stays here is Discord's own: the
 * gateway client, slash command registration, turning an interaction into a command or an action, autocomplete,
 * and the sinks that keep a job's message up to date past the 15-minute interaction token.
 */
export interface DiscordFrontendDeps {
  token: string;
  apiUrl?: string;
  guildId?: string;
  applicationId?: string;
  dispatcher: Dispatcher;
  isAdmin: (userId: string) => boolean;
  logger: Logger;
  metrics?: Metrics;
  maxPromptChars: number;
  handoverMs: number;
  rolloverMs: number;
  /** The follow-up buttons a workflow declares, for the rows under its results. */
  followUpsOf?: (workflow: string) => readonly FollowUp[];
  /** Download links for results too large for the chat (when PUBLIC_URL is set). */
  linkFor?: (relativePath: string) => { url: string; hours: number } | undefined;
}

export function createDiscordFrontend(deps: DiscordFrontendDeps) {
  const log = deps.logger.child({ platform: 'discord' });
  // Guilds is the only intent: slash commands need no message content.
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: deps.apiUrl ? { api: deps.apiUrl } : {} });
  if (deps.metrics) countDiscordCalls(client.rest, deps.metrics);
  let appId = deps.applicationId ?? '';
  const { dispatcher } = deps;
  // Every job in a channel shares its edit budget: progress (previews included) takes turns, results first.
  const scheduler = createSendScheduler({ budgetOf: discordBudget });

  const sinkOf = (
    at: {
      channelId: string;
      guildId?: string;
      userId: string;
      locale: string;
      token?: string;
      receivedAt?: number;
      uploadCap?: number;
    },
    canPost: boolean,
  ) =>
    createDiscordSink({
      rest: client.rest,
      appId,
      token: at.token,
      tokenCreatedAt: at.receivedAt ?? 0,
      channelId: at.channelId,
      userId: at.userId,
      locale: asLocale(at.locale),
      uploadCap: at.uploadCap ?? 10 * 1024 * 1024,
      canPost,
      handoverMs: deps.handoverMs,
      rolloverMs: deps.rolloverMs,
      followUpsOf: deps.followUpsOf,
      guildId: at.guildId,
      linkFor: deps.linkFor,
      scheduler,
      logger: log,
    });

  const contextOf = (i: RepliableInteraction, receivedAt = Date.now()) =>
    createDiscordContext(i, {
      isAdmin: deps.isAdmin,
      sinkFor: (it, canPost, locale) => {
        appId ||= it.applicationId;
        const at = {
          channelId: it.channelId ?? '',
          userId: it.user.id,
          locale,
          token: it.token,
          receivedAt,
          guildId: it.guildId ?? undefined,
        };
        return sinkOf({ ...at, uploadCap: it.attachmentSizeLimit }, canPost);
      },
    });

  async function onInteraction(i: Interaction) {
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
      const user = discordIdentity(i, deps.isAdmin);
      await i.respond(await dispatcher.suggest(i.commandName, focused.name, String(focused.value), user));
    }
  }

  let accepting = true;
  client.on(Events.InteractionCreate, (i) => {
    if (!accepting) return; // shutting down: the next start answers
    onInteraction(i).catch((err) => log.warn({ err, interactionId: i.id }, 'interaction failed'));
  });
  client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));

  return {
    client,
    /** A sink for a job found unfinished at start-up: its token is gone, so progress continues in a channel message. */
    sinkForRecord(rec: JobRecord) {
      if (!rec.chatId) return undefined;
      // The guild is not in the row; the channel cache (Guilds intent) knows it for server channels.
      const channel = client.channels.cache.get(rec.chatId);
      const guildId = channel && 'guildId' in channel ? channel.guildId : undefined;
      return sinkOf({ channelId: rec.chatId, guildId, userId: rec.userId, locale: rec.locale }, true);
    },
    /** Logs in (a failed attempt leaves the client as new, so the caller may simply try again). */
    async start() {
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      try {
        await client.login(deps.token);
      } catch (err) {
        client.removeAllListeners(Events.ClientReady);
        await client.destroy().catch(() => undefined);
        throw err;
      }
      await ready;
      appId ||= client.application?.id ?? '';
      const commands = buildSlashCommands(dispatcher.commands, deps.maxPromptChars);
      await deployCommands(client.rest, appId, deps.guildId, commands, log);
      log.info({ user: client.user?.username, appId }, 'discord bot started');
    },
    /** Stops taking interactions (shutdown), while the client still serves the sinks' last edits. */
    pause() {
      accepting = false;
    },
    async stop() {
      accepting = false;
      await client.destroy();
    },
  };
}

export type DiscordFrontend = ReturnType<typeof createDiscordFrontend>;
