import {
  AttachmentBuilder,
  type ChatInputCommandInteraction,
  type Interaction,
  type ButtonInteraction,
  type StringSelectMenuInteraction,
  MessageFlags,
  ModalBuilder,
  type ModalSubmitInteraction,
  PermissionFlagsBits,
  TextInputBuilder,
  TextInputStyle,
  ActionRowBuilder,
} from 'discord.js';
import type { Param } from '../../comfy/manifest.js';
import { MAX_INPUT_BYTES } from '../../images/limits.js';
import { type Locale, pickLocale, t } from '../../i18n/index.js';
import { encodeAction } from '../actions.js';
import type { CommandContext, Identity, MediaRef, Reply } from '../command.js';
import type { ProgressSink } from '../progress/sink.js';
import { componentsOf } from './components.js';

/**
 * CommandContext over one interaction. Discord wants an acknowledgement within 3 seconds: commands call `defer`
 * after their cheap checks, so a refusal before it is private (ephemeral); a refusal after a public "thinking…"
 * deletes it and answers privately. Attachments are fetched only when asked (their CDN URLs are signed and expire,
 * which is why a command fetches them right after acknowledging).
 */
export type RepliableInteraction =
  | ChatInputCommandInteraction
  | ButtonInteraction
  | StringSelectMenuInteraction
  | ModalSubmitInteraction;

const EPHEMERAL = MessageFlags.Ephemeral;
const MAX_TEXT = 2000;

export interface DiscordContextDeps {
  isAdmin: (userId: string) => boolean;
  /** `canPost`: the job may move to a channel message once the interaction token is gone. */
  sinkFor: (i: RepliableInteraction, canPost: boolean, locale: Locale) => ProgressSink;
}

export function discordIdentity(i: Interaction, isAdmin: (userId: string) => boolean): Identity {
  return {
    platform: 'discord',
    userId: i.user.id,
    chatId: i.channelId ?? i.user.id,
    chatAliases: i.guildId ? [i.guildId] : [],
    locale: pickLocale(i.locale),
    isAdmin: isAdmin(i.user.id),
  };
}

/** Whether the bot token can post here once the interaction token is gone. */
export const canPost = (i: Interaction) =>
  i.guildId
    ? i.appPermissions.has(PermissionFlagsBits.SendMessages) && i.appPermissions.has(PermissionFlagsBits.ViewChannel)
    : i.context === 1;

function payloadOf(r: Reply) {
  const files = [
    ...(r.image ? [new AttachmentBuilder(r.image.data, { name: r.image.name })] : []),
    ...(r.files ?? []).slice(0, 10),
  ];
  return { content: r.text.slice(0, MAX_TEXT), files, components: componentsOf(r.rows) };
}

const flags = (r: { private?: boolean }) => (r.private ? EPHEMERAL : undefined);

/** The first answer edits the deferred reply (or is the reply); later ones follow it. */
async function replyTo(i: RepliableInteraction, r: Reply) {
  const payload = payloadOf(r);
  if (i.replied) await i.followUp({ ...payload, flags: flags(r) });
  else if (i.deferred) await i.editReply(payload);
  else await i.reply({ ...payload, flags: flags(r) });
}

export function createDiscordContext(i: RepliableInteraction, deps: DiscordContextDeps): CommandContext {
  const user = discordIdentity(i, deps.isAdmin);
  const reply = (r: Reply) => replyTo(i, r);

  return {
    user,
    commandPrefix: '/',
    maxText: MAX_TEXT,
    async defer(opts = {}) {
      if (i.deferred || i.replied) return;
      if (opts.update && i.isMessageComponent()) await i.deferUpdate();
      else await i.deferReply({ flags: flags(opts) });
    },
    async fail(content) {
      if (i.deferred && !i.ephemeral && !i.isMessageComponent()) {
        // A public "thinking…" reply: remove it and say what went wrong to this user only.
        await i.deleteReply().catch(() => undefined);
        await i.followUp({ content, flags: EPHEMERAL });
      } else if (i.deferred || i.replied) await i.followUp({ content, flags: EPHEMERAL });
      else await i.reply({ content, flags: EPHEMERAL });
    },
    reply,
    async update(r) {
      if (!i.isMessageComponent()) return reply(r);
      if (!i.deferred && !i.replied) await i.deferUpdate();
      await i.editReply({ ...payloadOf(r), attachments: [] });
    },
    async ask(q) {
      if (i.isModalSubmit()) throw new Error('a form cannot open another form');
      const input = new TextInputBuilder()
        .setCustomId('prompt')
        .setLabel(q.label.slice(0, 45))
        .setStyle(TextInputStyle.Paragraph)
        .setValue(q.prefill.slice(0, 4000))
        .setMaxLength(4000)
        .setRequired(true);
      const modal = new ModalBuilder()
        .setCustomId(encodeAction(q.action))
        .setTitle(q.title.slice(0, 45))
        .addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(input));
      await i.showModal(modal);
    },
    media: (params) => (i.isChatInputCommand() ? attachmentsOf(i, params) : {}),
    mediaHint: () => ({ key: 'media.how_discord' }),
    async progressSink(opts = {}) {
      const locale = opts.locale ?? user.locale;
      // A private job stays in its ephemeral reply: it never moves to a channel message others can read.
      const posting = canPost(i) && !opts.private;
      if (!posting && !opts.private)
        await i.followUp({ content: t(locale, 'discord.cannot_post'), flags: EPHEMERAL }).catch(() => undefined);
      return { sink: deps.sinkFor(i, posting, locale) };
    },
    dropdowns: true,
    async isChatAdmin() {
      const perms = i.inGuild() ? i.memberPermissions : null;
      return Boolean(perms?.has(PermissionFlagsBits.ManageGuild) || perms?.has(PermissionFlagsBits.ManageChannels));
    },
    async relabel(label) {
      if (!i.isMessageComponent()) return;
      const rows = i.message.components.map((row) => row.toJSON()) as Array<{
        components?: Array<{ custom_id?: string }>;
      }>;
      const components = rows.map((row) => ({
        ...row,
        components: row.components?.map((c) => (c.custom_id === i.customId ? { ...c, label } : c)),
      }));
      const body = { components } as Parameters<typeof i.update>[0] & object;
      if (i.deferred || i.replied) await i.editReply(body);
      else await i.update(body);
    },
  };
}

function attachmentsOf(i: ChatInputCommandInteraction, params: readonly Param[]): Record<string, MediaRef> {
  const out: Record<string, MediaRef> = {};
  for (const p of params) {
    const a = i.options.get(p.name)?.attachment;
    if (!a || (p.type !== 'image' && p.type !== 'audio')) continue;
    out[p.name] = {
      kind: p.type,
      size: a.size,
      maxBytes: MAX_INPUT_BYTES,
      async fetch() {
        const res = await fetch(a.url);
        if (!res.ok) throw new Error(`attachment download answered ${res.status}`);
        return Buffer.from(await res.arrayBuffer());
      },
    };
  }
  return out;
}
