import { Client, Events, GatewayIntentBits } from 'discord.js';
import type { FollowUp } from '../../comfy/manifest.js';
import type { JobRecord } from '../../history/jobs-repo.js';
import { asLocale } from '../../i18n/index.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../ops/metrics.js';
import type { Dispatcher } from '../dispatch.js';
import { route } from './interactions.js';
import { createDiscordContext, type RepliableInteraction } from './context.js';
import { deployCommands } from './deploy.js';
import { countDiscordCalls } from './metrics.js';
import { type ChatBudget, createSendScheduler } from '../send-scheduler.js';
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
  /** How long a new job's first edit waits for its result (default 1 s; 0: at once). */
  firstMessageGraceMs?: number;
}

/**
 * Discord's observed channel limit, about 5 message creates or edits per 5 s (docs/platforms.md §1.4, unverified),
 * one of them left to results. Interaction webhooks have buckets of their own, but a channel's jobs share this one
 * budget: discord.js would queue and wait out 429s, serving stale edits first.
 */
export const discordBudget = (): ChatBudget => ({ window: { limit: 5, ms: 5_000 }, reserve: 1, paceBurst: 3 });

const pick = <T, K extends keyof T>(o: T, ...keys: K[]) => Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;

/** Where a job's status lives: its channel (and guild), its owner, and the interaction token while it works. */
interface StatusPlace {
  channelId: string;
  guildId?: string;
  userId: string;
  locale: string;
  token?: string;
  receivedAt?: number;
  uploadCap?: number;
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

  const sinkOf = (at: StatusPlace, canPost: boolean) =>
    createDiscordSink({
      ...at,
      rest: client.rest,
      appId,
      tokenCreatedAt: at.receivedAt ?? 0,
      locale: asLocale(at.locale),
      uploadCap: at.uploadCap ?? 10 * 1024 * 1024,
      canPost,
      ...pick(deps, 'handoverMs', 'rolloverMs', 'followUpsOf', 'linkFor'),
      scheduler,
      graceMs: deps.firstMessageGraceMs,
      logger: log,
    });

  const contextOf = (i: RepliableInteraction, receivedAt = Date.now()) =>
    createDiscordContext(i, {
      isAdmin: deps.isAdmin,
      sinkFor: (it, canPost, locale) => {
        appId ||= it.applicationId;
        const { channelId, guildId, token, attachmentSizeLimit: uploadCap } = it;
        const at = { channelId: channelId ?? '', guildId: guildId ?? undefined, userId: it.user.id, locale, token };
        return sinkOf({ ...at, receivedAt, uploadCap }, canPost);
      },
    });

  let accepting = true;
  client.on(Events.InteractionCreate, (i) => {
    if (!accepting) return; // shutting down: the next start answers
    route(i, dispatcher, contextOf, deps.isAdmin).catch((err) =>
      log.warn({ err, interactionId: i.id }, 'interaction failed'),
    );
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
