import {
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  PermissionFlagsBits,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type ModalSubmitInteraction,
  type StringSelectMenuInteraction,
} from 'discord.js';
import { UserError } from '../../errors.js';
import { errorText } from '../error-text.js';
import type { JobRecord } from '../../history/jobs-repo.js';
import { MAX_INPUT_BYTES } from '../../images/limits.js';
import { asLocale, pickLocale, t } from '../../i18n/index.js';
import { decodeAction, encodeAction } from '../actions.js';
import { helpText, paramsSummary } from '../help.js';
import { parseWorkflowArgs, splitArgs } from '../parse-args.js';
import type { BotUser, ChatFrontendDeps, SinkFactory } from '../service.js';
import { deployCommands } from './deploy.js';
import { createDiscordSink, resultComponents } from './sink.js';
import { buildSlashCommands } from './slash.js';

/**
 * Over 300 lines on purpose: every handler here shares the one discord.js Client, the acknowledgement rules and the
 * error boundary; split, each piece would need them all passed in.
 *
 * The Discord frontend: slash commands, buttons, a modal and autocomplete → BotService calls and sinks.
 * Every interaction is acknowledged first (3-second rule); cheap validation happens before that so bad input
 * gets an ephemeral answer, and attachments are downloaded at once (their CDN URLs are signed and expire).
 */
export interface DiscordFrontendDeps extends ChatFrontendDeps {
  token: string;
  apiUrl?: string;
  guildId?: string;
  applicationId?: string;
  maxPromptChars: number;
  handoverMs: number;
  rolloverMs: number;
}

const EPHEMERAL = MessageFlags.Ephemeral;

export function createDiscordFrontend(deps: DiscordFrontendDeps) {
  const log = deps.logger.child({ platform: 'discord' });
  // Guilds is the only intent: slash commands need no message content.
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: deps.apiUrl ? { api: deps.apiUrl } : {} });
  let appId = deps.applicationId ?? '';

  const userOf = (i: Interaction): BotUser => ({
    platform: 'discord',
    userId: i.user.id,
    chatId: i.channelId ?? i.user.id,
    chatAliases: i.guildId ? [i.guildId] : [],
    locale: pickLocale(i.locale),
    isAdmin: deps.isAdmin(i.user.id),
  });

  /** Whether the bot token can post here once the interaction token is gone. */
  const canPost = (i: Interaction) =>
    i.guildId
      ? i.appPermissions.has(PermissionFlagsBits.SendMessages) && i.appPermissions.has(PermissionFlagsBits.ViewChannel)
      : i.context === 1;

  const sinkFactory = (i: Interaction & { token: string }): SinkFactory => {
    const receivedAt = Date.now();
    return async () => ({
      sink: createDiscordSink({
        rest: client.rest,
        appId: appId || i.applicationId,
        token: i.token,
        tokenCreatedAt: receivedAt,
        channelId: i.channelId ?? '',
        userId: i.user.id,
        locale: pickLocale(i.locale),
        uploadCap: i.attachmentSizeLimit ?? 10 * 1024 * 1024,
        canPost: canPost(i),
        handoverMs: deps.handoverMs,
        rolloverMs: deps.rolloverMs,
        canUpscale: deps.service.canUpscale(),
        linkFor: deps.linkFor,
        logger: log,
      }),
    });
  };

  async function download(url: string, size: number): Promise<Buffer> {
    if (size > MAX_INPUT_BYTES)
      throw new UserError('input.file_too_big', {
        size: (size / 1e6).toFixed(1),
        max: Math.round(MAX_INPUT_BYTES / 1e6),
      });
    const res = await fetch(url);
    if (!res.ok) throw new Error(`attachment download answered ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async function runWorkflow(i: ChatInputCommandInteraction) {
    const wf = deps.workflows.get(i.commandName);
    if (!wf) throw new UserError('error.unknown_workflow', { name: i.commandName });
    const user = userOf(i);
    const params: Record<string, unknown> = {};
    const attachments: Record<string, { url: string; size: number }> = {};
    for (const p of wf.manifest.params) {
      const opt = i.options.get(p.name);
      if (!opt) continue;
      if (p.type === 'image' || p.type === 'audio') {
        if (opt.attachment) attachments[p.name] = { url: opt.attachment.url, size: opt.attachment.size };
      } else params[p.name] = opt.value;
    }
    // Cheap checks before the acknowledgement, so their answers can be ephemeral.
    const placeholders: Record<string, unknown> = {};
    for (const p of wf.manifest.params) {
      if (p.type !== 'image' && p.type !== 'audio') continue;
      const a = attachments[p.name];
      if (!a && p.required)
        throw new UserError(p.type === 'image' ? 'input.missing_image' : 'input.missing_audio', { name: p.name });
      if (a && a.size > MAX_INPUT_BYTES)
        throw new UserError('input.file_too_big', {
          size: (a.size / 1e6).toFixed(1),
          max: Math.round(MAX_INPUT_BYTES / 1e6),
        });
      if (a) placeholders[p.name] = p.type === 'image' ? 'pending.png' : 'pending.wav';
    }
    deps.tracker.validate(wf.name, { ...params, ...placeholders });
    await i.deferReply();
    if (!canPost(i))
      await i.followUp({ content: t(user.locale, 'discord.cannot_post'), flags: EPHEMERAL }).catch(() => undefined);
    const media: Record<string, Buffer> = {};
    for (const [name, a] of Object.entries(attachments)) media[name] = await download(a.url, a.size);
    await deps.service.submit(user, wf.name, params, media, sinkFactory(i));
  }

  async function galleryView(user: BotUser, page: number) {
    const g = await deps.service.gallery(user, page);
    if (!g) return { content: t(user.locale, 'bot.gallery_empty'), components: [], files: [] };
    const nav = [];
    if (g.page > 0)
      nav.push({ type: 2, style: 2, label: '◀', custom_id: encodeAction({ kind: 'page', page: g.page - 1 }) });
    if (g.page < g.pages - 1)
      nav.push({ type: 2, style: 2, label: '▶', custom_id: encodeAction({ kind: 'page', page: g.page + 1 }) });
    const select = {
      type: 3,
      custom_id: 'v1:o:select',
      placeholder: t(user.locale, 'discord.gallery_pick'),
      options: g.items.map((r, n) => ({
        label: `${n + 1}. ${r.workflow} · ${r.shortId}`,
        description: String(r.params.prompt ?? r.params.instruction ?? r.status).slice(0, 100),
        value: r.id,
      })),
    };
    const components: Array<{ type: number; components: unknown[] }> = [{ type: 1, components: [select] }];
    if (nav.length) components.push({ type: 1, components: nav });
    return {
      content: t(user.locale, 'bot.gallery_caption', { page: g.page + 1, pages: g.pages }),
      components,
      files: [{ name: 'gallery.jpg', attachment: g.sheet }],
    };
  }

  async function showJob(i: StringSelectMenuInteraction | ButtonInteraction, rec: JobRecord) {
    const user = userOf(i);
    const images = rec.outputs.filter((f) => f.kind === 'image').slice(0, 10);
    await i.reply({
      flags: EPHEMERAL,
      content: t(user.locale, 'bot.job_details', {
        workflow: rec.workflow,
        id: rec.shortId,
        status: rec.status,
        params: paramsSummary(rec.params, 1500),
      }),
      files: images.map((f) => deps.storage.resolveInside(f.path)),
      components: resultComponents(user.locale, rec.id, images.length, deps.service.canUpscale()) as never,
    });
  }

  async function askRemix(i: ButtonInteraction | ChatInputCommandInteraction, rec: JobRecord) {
    const user = userOf(i);
    await i.showModal({
      title: t(user.locale, 'discord.remix_title'),
      custom_id: encodeAction({ kind: 'remix', jobId: rec.id }),
      components: [
        {
          type: 1,
          components: [
            {
              type: 4,
              custom_id: 'prompt',
              label: t(user.locale, 'discord.remix_label').slice(0, 45),
              style: 2,
              value: String(rec.params.prompt ?? rec.params.instruction ?? '').slice(0, 4000),
              max_length: 4000,
              required: true,
            },
          ],
        },
      ],
    } as never);
  }

  async function onCommand(i: ChatInputCommandInteraction) {
    const user = userOf(i);
    switch (i.commandName) {
      case 'gallery': {
        await i.deferReply({ flags: EPHEMERAL });
        await i.editReply((await galleryView(user, (i.options.getInteger('page') ?? 1) - 1)) as never);
        return;
      }
      case 'remix': {
        const rec = deps.service.owned(user, i.options.getString('job', true));
        const prompt = i.options.getString('prompt');
        if (!prompt) return askRemix(i, rec);
        const wf = deps.workflows.get(rec.workflow);
        if (!wf) throw new UserError('error.unknown_workflow', { name: rec.workflow });
        const changes = parseWorkflowArgs(wf.manifest, splitArgs(prompt));
        deps.tracker.validate(rec.workflow, { ...rec.params, ...changes });
        await i.deferReply();
        await deps.service.remix(user, rec.id, changes, sinkFactory(i));
        return;
      }
      case 'cancel': {
        const id = i.options.getString('job') ?? deps.service.latestUnfinished(user)?.id;
        if (!id) return void (await i.reply({ content: t(user.locale, 'bot.nothing_to_cancel'), flags: EPHEMERAL }));
        const { record } = await deps.service.cancel(user, id);
        await i.reply({ content: t(user.locale, 'bot.cancel_requested', { id: record.shortId }), flags: EPHEMERAL });
        return;
      }
      case 'models': {
        await i.deferReply({ flags: EPHEMERAL });
        await i.editReply(await deps.service.modelsText(user.locale, 1990));
        return;
      }
      case 'help':
        await i.reply({ content: helpText(deps.workflows, user.locale).slice(0, 1990), flags: EPHEMERAL });
        return;
      case 'status':
        await i.reply({ flags: EPHEMERAL, content: await deps.service.statusText(user) });
        return;
      default:
        await runWorkflow(i);
    }
  }

  async function onComponent(i: ButtonInteraction | StringSelectMenuInteraction) {
    const user = userOf(i);
    if (i.isStringSelectMenu() && i.customId === 'v1:o:select')
      return showJob(i, deps.service.owned(user, i.values[0] ?? ''));
    const action = decodeAction(i.customId);
    if (!action) throw new UserError('error.unknown_button');
    switch (action.kind) {
      case 'cancel':
        deps.service.owned(user, action.jobId); // ownership first: a stranger's click changes nothing
        await i.deferUpdate();
        await deps.service.cancel(user, action.jobId);
        return;
      case 'reroll':
        deps.service.owned(user, action.jobId);
        await i.deferReply();
        await deps.service.reroll(user, action.jobId, sinkFactory(i));
        return;
      case 'upscale':
        deps.service.owned(user, action.jobId);
        await i.deferReply();
        await deps.service.upscale(user, action.jobId, action.index, sinkFactory(i));
        return;
      case 'remix':
        return askRemix(i as ButtonInteraction, deps.service.owned(user, action.jobId));
      case 'page':
        await i.deferUpdate();
        await i.editReply({ ...(await galleryView(user, action.page)), attachments: [] } as never);
        return;
      case 'open':
        return showJob(i, deps.service.owned(user, action.jobId));
    }
  }

  async function onModal(i: ModalSubmitInteraction) {
    const user = userOf(i);
    const action = decodeAction(i.customId);
    if (action?.kind !== 'remix') throw new UserError('error.unknown_button');
    const rec = deps.service.owned(user, action.jobId);
    const wf = deps.workflows.get(rec.workflow);
    if (!wf) throw new UserError('error.unknown_workflow', { name: rec.workflow });
    const changes = parseWorkflowArgs(wf.manifest, splitArgs(i.fields.getTextInputValue('prompt')));
    deps.tracker.validate(rec.workflow, { ...rec.params, ...changes });
    await i.deferReply();
    await deps.service.remix(user, rec.id, changes, sinkFactory(i));
  }

  async function onAutocomplete(i: AutocompleteInteraction) {
    const user = userOf(i);
    const focused = i.options.getFocused(true);
    const q = String(focused.value).toLowerCase();
    if (focused.name === 'job') {
      const { items } = deps.repo.page({ platform: 'discord', userId: user.userId }, 0, 25);
      const choices = items
        .filter(
          (r) =>
            r.shortId.startsWith(q) ||
            String(r.params.prompt ?? '')
              .toLowerCase()
              .includes(q),
        )
        .map((r) => ({
          name: `${r.shortId} · ${r.workflow} · ${String(r.params.prompt ?? r.params.instruction ?? r.status)}`.slice(
            0,
            100,
          ),
          value: r.shortId,
        }));
      return i.respond(choices.slice(0, 25));
    }
    const model = (await deps.service.models()).find((m) => m.workflow === i.commandName && m.option === focused.name);
    return i.respond(
      (model?.choices ?? [])
        .filter((c) => c.toLowerCase().includes(q))
        .slice(0, 25)
        .map((c) => ({ name: c.slice(0, 100), value: c.slice(0, 100) })),
    );
  }

  /** Errors end here: a UserError becomes an ephemeral, localized answer; anything else a generic one with a reference. */
  async function guarded(i: Interaction, fn: () => Promise<void>) {
    try {
      await fn();
    } catch (err) {
      if (i.isAutocomplete()) return void log.warn({ err }, 'autocomplete failed');
      const locale = pickLocale(i.locale);
      const content = errorText(err, locale, log, { userId: i.user.id, interactionId: i.id });
      if (!i.isRepliable()) return;
      try {
        if (i.deferred && !i.ephemeral && !i.isMessageComponent()) {
          // A public "thinking…" reply: remove it and say what went wrong to this user only.
          await i.deleteReply().catch(() => undefined);
          await i.followUp({ content, flags: EPHEMERAL });
        } else if (i.deferred || i.replied) await i.followUp({ content, flags: EPHEMERAL });
        else await i.reply({ content, flags: EPHEMERAL });
      } catch (e) {
        log.warn({ err: e }, 'could not send the error');
      }
    }
  }

  client.on(Events.InteractionCreate, (i) => {
    void guarded(i, async () => {
      if (i.isChatInputCommand()) await onCommand(i);
      else if (i.isButton() || i.isStringSelectMenu()) await onComponent(i);
      else if (i.isModalSubmit()) await onModal(i);
      else if (i.isAutocomplete()) await onAutocomplete(i);
    });
  });
  client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));

  return {
    client,
    /** A sink for a job found unfinished at start-up: its token is gone, so progress continues in a channel message. */
    sinkForRecord(rec: JobRecord) {
      if (!rec.chatId) return undefined;
      return createDiscordSink({
        rest: client.rest,
        appId,
        tokenCreatedAt: 0,
        channelId: rec.chatId,
        userId: rec.userId,
        locale: asLocale(rec.locale),
        uploadCap: 10 * 1024 * 1024,
        canPost: true,
        handoverMs: deps.handoverMs,
        rolloverMs: deps.rolloverMs,
        canUpscale: deps.service.canUpscale(),
        linkFor: deps.linkFor,
        logger: log,
      });
    },
    async start() {
      const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
      await client.login(deps.token);
      await ready;
      appId ||= client.application?.id ?? '';
      await deployCommands(
        client.rest,
        appId,
        deps.guildId,
        buildSlashCommands(deps.workflows, deps.maxPromptChars),
        log,
      );
      log.info({ user: client.user?.username, appId }, 'discord bot started');
    },
    async stop() {
      await client.destroy();
    },
  };
}

export type DiscordFrontend = ReturnType<typeof createDiscordFrontend>;
