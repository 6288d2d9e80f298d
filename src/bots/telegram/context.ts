import { readFile } from 'node:fs/promises';
import { type Context, GrammyError } from 'grammy';
import type { Message } from 'grammy/types';
import type { Param } from '../../comfy/manifest.js';
import { UserError } from '../../errors.js';
import type { AsksRepo } from '../../history/asks-repo.js';
import { telegramLimits } from '../../images/limits.js';
import { pickLocale, t } from '../../i18n/index.js';
import { encodeAction } from '../actions.js';
import type { CommandContext, Identity, MediaRef, Reply } from '../command.js';
import type { ProgressSink } from '../progress/sink.js';
import { editReply, relabelButton, sendReply, type Where } from './replies.js';
import { type FileRef, mediaRefsOf } from './update.js';

/**
 * CommandContext over one Telegram update (a message or a button press). Answers go under the message that asked
 * (clearer in groups); a button press is answered (the client stops spinning) as soon as the work is acknowledged,
 * or with an alert when it is refused.
 */
export interface TelegramContextDeps {
  asks: AsksRepo;
  isAdmin: (userId: string) => boolean;
  /** Bytes we may fetch through getFile (20 MB on the public Bot API). */
  downloadCap: number;
  download: (ref: FileRef) => Promise<Buffer>;
  /** The job's message: sent by its first progress update, as a reply to `replyTo`, in forum topic `threadId`. */
  sinkFor: (chatId: number, replyTo: number | undefined, identity: Identity, threadId?: number) => ProgressSink;
}

/**
 * Telegram's shared identities: anonymous group admins (GroupAnonymousBot), posts sent as a channel (Channel_Bot) and
 * automatic forwards from a linked channel (the service account) all arrive "from" one bot account shared by every
 * chat. Jobs are owned by the chat the message was sent as (`sender_chat`); such an account is never an admin.
 */
export const SHARED_TELEGRAM_IDS = new Set([1087968824, 136817688, 777000]);

export function telegramIdentity(ctx: Context, isAdmin: (userId: string) => boolean): Identity {
  const from = ctx.from;
  const shared = from !== undefined && SHARED_TELEGRAM_IDS.has(from.id);
  const senderChat = ctx.msg?.sender_chat;
  const userId = shared && senderChat ? String(senderChat.id) : String(from?.id ?? 0);
  return {
    platform: 'telegram',
    userId,
    chatId: String(ctx.chat?.id ?? from?.id ?? 0),
    locale: pickLocale(from?.language_code),
    isAdmin: !shared && isAdmin(userId),
  };
}

/** A shared account with no chat to own the job (it happens with old clients): refused politely. */
export const isOwnerless = (ctx: Context) =>
  ctx.from !== undefined && SHARED_TELEGRAM_IDS.has(ctx.from.id) && !ctx.msg?.sender_chat;

export function createTelegramContext(ctx: Context, deps: TelegramContextDeps): CommandContext {
  const user = telegramIdentity(ctx, deps.isAdmin);
  const query = ctx.callbackQuery;
  const source = (query?.message ?? ctx.msg) as Message | undefined;
  const chatId = source?.chat.id ?? Number(user.chatId);
  // In a forum topic, answers stay in the topic (without message_thread_id they would land in General).
  const threadId = source?.is_topic_message ? source.message_thread_id : undefined;
  const under = {
    ...(!query && ctx.msg
      ? { reply_parameters: { message_id: ctx.msg.message_id, allow_sending_without_reply: true } }
      : {}),
    ...(threadId ? { message_thread_id: threadId } : {}),
  };
  let answered = !query;
  const answer = async (text?: string) => {
    if (answered) return false;
    answered = true;
    await ctx
      .answerCallbackQuery(text ? { text: text.slice(0, 200), show_alert: true } : undefined)
      .catch(() => undefined);
    return true;
  };

  const where: Where = { api: ctx.api, chatId, under };
  const reply = async (r: Reply) => {
    await answer();
    await sendReply(where, r);
  };

  return {
    user,
    commandPrefix: '/',
    maxText: telegramLimits.text,
    async defer() {
      await answer();
    },
    async fail(text) {
      if (await answer(text)) return;
      await ctx.api.sendMessage(chatId, text, under);
    },
    reply,
    async update(r) {
      await answer();
      if (!query?.message) return reply(r);
      await editReply(where, query.message.message_id, r);
    },
    async ask(q) {
      await answer();
      const sent = await ctx.api.sendMessage(chatId, q.text, {
        reply_markup: { force_reply: true, selective: true, input_field_placeholder: q.prefill.slice(0, 64) },
        ...under,
      });
      deps.asks.put(String(chatId), String(sent.message_id), user.userId, encodeAction(q.action));
    },
    media: (params) => (ctx.msg && !query ? mediaOf(ctx.msg, params, deps) : {}),
    mediaHint: (p) => ({ key: p.type === 'audio' ? 'media.how_telegram_audio' : 'media.how_telegram_image' }),
    async progressSink(opts = {}) {
      await answer();
      const who = opts.locale ? { ...user, locale: opts.locale } : user;
      const dm = opts.private ? await privateChat(ctx, who, source, where) : undefined;
      if (dm !== undefined) return { sink: deps.sinkFor(dm, undefined, who) };
      return { sink: deps.sinkFor(chatId, source?.message_id, who, threadId) };
    },
    dropdowns: false,
    isChatAdmin: () => isChatAdmin(ctx, user, source),
    async relabel(label) {
      await answer();
      const message = query?.message as Message | undefined;
      if (message && query?.data) await relabelButton(where, message, query.data, label);
    },
  };
}

/**
 * A private job asked in a group goes to the asker's DM, and the group is told. Telegram lets a bot write first only
 * to someone who started it: when it may not (403), the job stays in the group, which is told why.
 */
async function privateChat(ctx: Context, user: Identity, source: Message | undefined, where: Where) {
  const chat = source?.chat;
  const dm = Number(user.userId);
  if (!chat || chat.type === 'private' || !(dm > 0) || SHARED_TELEGRAM_IDS.has(ctx.from?.id ?? 0)) return undefined;
  const { locale } = user;
  try {
    await ctx.api.sendMessage(dm, t(locale, 'bot.private_here'));
  } catch (err) {
    if (!(err instanceof GrammyError)) throw err;
    await ctx.api.sendMessage(where.chatId, t(locale, 'bot.private_blocked'), where.under).catch(() => undefined);
    return undefined;
  }
  await ctx.api.sendMessage(where.chatId, t(locale, 'bot.private_sent'), where.under).catch(() => undefined);
  return dm;
}

/** A group's administrator or creator (an anonymous admin writes as the group itself); never in a private chat. */
async function isChatAdmin(ctx: Context, user: Identity, source: Message | undefined) {
  const chat = source?.chat;
  if (!chat || chat.type === 'private') return false;
  if (!ctx.callbackQuery && ctx.msg?.sender_chat?.id === chat.id) return true;
  if (SHARED_TELEGRAM_IDS.has(ctx.from?.id ?? 0)) return false;
  const member = await ctx.api.getChatMember(chat.id, Number(user.userId)).catch(() => undefined);
  return member?.status === 'administrator' || member?.status === 'creator';
}

/** The message's files (then the replied-to message's), matched to the media parameters in order of kind. */
function mediaOf(msg: Message, params: readonly Param[], deps: TelegramContextDeps): Record<string, MediaRef> {
  const refs = mediaRefsOf(msg);
  const queues = { image: [...refs.images], audio: [...refs.audios] };
  const out: Record<string, MediaRef> = {};
  for (const p of params) {
    if (p.type !== 'image' && p.type !== 'audio') continue;
    const ref = queues[p.type].shift();
    if (ref)
      out[p.name] = { kind: p.type, size: ref.size, maxBytes: deps.downloadCap, fetch: () => deps.download(ref) };
  }
  return out;
}

/** getFile, then the file: a local Bot API server answers with a path on its own disk. */
export async function downloadTelegramFile(
  ctx: { api: Context['api']; fileUrl: (path: string) => string },
  ref: FileRef,
  cap: number,
): Promise<Buffer> {
  if (ref.size !== undefined && ref.size > cap)
    throw new UserError('input.file_too_big', { size: (ref.size / 1e6).toFixed(1), max: Math.round(cap / 1e6) });
  const file = await ctx.api.getFile(ref.fileId);
  if (!file.file_path) throw new UserError('input.not_image');
  if (file.file_path.startsWith('/')) return readFile(file.file_path);
  const res = await fetch(ctx.fileUrl(file.file_path));
  if (!res.ok) throw new Error(`file download answered ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}
