import { readFile } from 'node:fs/promises';
import { autoRetry } from '@grammyjs/auto-retry';
import { apiThrottler } from '@grammyjs/transformer-throttler';
import { Bot, InputFile, InlineKeyboard, type Context } from 'grammy';
import type { Message, UserFromGetMe } from 'grammy/types';
import { UserError } from '../../errors.js';
import { errorText } from '../error-text.js';
import type { JobRecord } from '../../history/jobs-repo.js';
import { MAX_INPUT_BYTES, telegramLimits } from '../../images/limits.js';
import { asLocale, pickLocale, t, type Locale } from '../../i18n/index.js';
import { decodeAction, encodeAction } from '../actions.js';
import { helpText, paramsSummary } from '../help.js';
import { parseWorkflowArgs, splitArgs } from '../parse-args.js';
import type { BotUser, ChatFrontendDeps, SinkFactory } from '../service.js';
import { registerMenus } from './menu.js';
import { createTelegramSink, resultKeyboard } from './sink.js';
import { commandOf, mediaRefsOf, type FileRef } from './update.js';

/**
 * The Telegram frontend: turns updates into BotService calls and sinks. Handlers validate, enqueue and return —
 * they never wait for a job, because bot.start() handles updates one at a time.
 */
export interface TelegramFrontendDeps extends ChatFrontendDeps {
  token: string;
  apiRoot?: string;
  /** A local Bot API server: no 20 MB download cap, 2000 MB uploads. */
  isLocalApi?: boolean;
  /** Skip getMe (tests, or a known bot). */
  botInfo?: UserFromGetMe;
}

const REMIX_RE = /^✏️ \S+ ([0-9a-f]{8})[：:]/;

export function createTelegramFrontend(deps: TelegramFrontendDeps) {
  const log = deps.logger.child({ platform: 'telegram' });
  const bot = new Bot(deps.token, {
    botInfo: deps.botInfo,
    client: deps.apiRoot ? { apiRoot: deps.apiRoot } : undefined,
  });
  // Order matters: the throttler (installed last) is outermost, so while auto-retry waits out a 429's
  // retry_after inside it, that chat's queue is held and no further call goes to that chat.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 600, rethrowInternalServerErrors: false }));
  bot.api.config.use(apiThrottler());
  const downloadCap = deps.isLocalApi ? MAX_INPUT_BYTES : telegramLimits.downloadBytes;
  const uploadCap = deps.isLocalApi ? 2000 * 1000 * 1000 : telegramLimits.documentBytes;

  const userOf = (ctx: Context): BotUser => {
    const from = ctx.from;
    const chat = ctx.chat;
    return {
      platform: 'telegram',
      userId: String(from?.id ?? 0),
      chatId: String(chat?.id ?? from?.id ?? 0),
      locale: pickLocale(from?.language_code),
      isAdmin: deps.isAdmin(String(from?.id ?? 0)),
    };
  };

  /** The job's message: sent lazily by its first progress update, as a reply to the command. */
  const sinkFactory =
    (chatId: number, replyTo: number | undefined, locale: Locale): SinkFactory =>
    async () => {
      let jobId: string | undefined;
      const sink = createTelegramSink({
        api: bot.api,
        chatId,
        replyTo,
        locale,
        logger: log,
        canUpscale: deps.service.canUpscale(),
        linkFor: deps.linkFor,
        maxUploadBytes: uploadCap,
        onMessage: (id) => jobId && deps.repo.setMessage(jobId, String(chatId), String(id)),
      });
      return {
        sink: {
          showProgress: (v) => ((jobId = v.jobId), sink.showProgress(v)),
          showResult: (v) => ((jobId = v.jobId), sink.showResult(v)),
          showFailure: (v) => ((jobId = v.jobId), sink.showFailure(v)),
        },
      };
    };

  async function download(ref: FileRef): Promise<Buffer> {
    if (ref.size !== undefined && ref.size > downloadCap) {
      throw new UserError('input.file_too_big', {
        size: (ref.size / 1e6).toFixed(1),
        max: Math.round(downloadCap / 1e6),
      });
    }
    const file = await bot.api.getFile(ref.fileId);
    if (!file.file_path) throw new UserError('input.not_image');
    // A local Bot API server answers with an absolute path on its own disk.
    if (file.file_path.startsWith('/')) return readFile(file.file_path);
    const res = await fetch(`${deps.apiRoot ?? 'https://api.telegram.org'}/file/bot${deps.token}/${file.file_path}`);
    if (!res.ok) throw new Error(`file download answered ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async function runWorkflow(ctx: Context, msg: Message, name: string, args: string) {
    const user = userOf(ctx);
    const wf = deps.workflows.get(name);
    if (!wf) return;
    const params = parseWorkflowArgs(wf.manifest, splitArgs(args));
    // Media fill the workflow's image and audio params in order: this message's file first, then the replied-to one.
    const refs = mediaRefsOf(msg);
    const media: Record<string, Buffer> = {};
    const queues = { image: [...refs.images], audio: [...refs.audios] };
    for (const p of wf.manifest.params) {
      if (p.type !== 'image' && p.type !== 'audio') continue;
      const ref = queues[p.type].shift();
      if (ref) media[p.name] = await download(ref);
    }
    await deps.service.submit(user, name, params, media, sinkFactory(msg.chat.id, msg.message_id, user.locale));
  }

  /** Answers go under the message that asked (clearer in groups). */
  const under = (ctx: Context) =>
    ctx.msg && !ctx.callbackQuery
      ? { reply_parameters: { message_id: ctx.msg.message_id, allow_sending_without_reply: true } }
      : {};

  async function showGallery(ctx: Context, page: number, editMessage?: Message) {
    const user = userOf(ctx);
    const g = await deps.service.gallery(user, page);
    if (!g) {
      await ctx.reply(t(user.locale, 'bot.gallery_empty'), under(ctx));
      return;
    }
    const kb = new InlineKeyboard();
    g.items.forEach((item, i) => {
      kb.text(String(i + 1), encodeAction({ kind: 'open', jobId: item.id }));
      if (i % 3 === 2) kb.row();
    });
    kb.row();
    if (g.page > 0) kb.text('◀', encodeAction({ kind: 'page', page: g.page - 1 }));
    if (g.page < g.pages - 1) kb.text('▶', encodeAction({ kind: 'page', page: g.page + 1 }));
    const caption = t(user.locale, 'bot.gallery_caption', { page: g.page + 1, pages: g.pages });
    if (editMessage) {
      await ctx.api.editMessageMedia(
        editMessage.chat.id,
        editMessage.message_id,
        { type: 'photo', media: new InputFile(g.sheet, 'gallery.jpg'), caption },
        { reply_markup: kb },
      );
    } else {
      await ctx.replyWithPhoto(new InputFile(g.sheet, 'gallery.jpg'), { caption, reply_markup: kb, ...under(ctx) });
    }
  }

  async function openJob(ctx: Context, rec: JobRecord) {
    const user = userOf(ctx);
    const images = rec.outputs.filter((f) => f.kind === 'image').slice(0, 10);
    const files = images.map((f) => new InputFile(deps.storage.resolveInside(f.path)));
    if (files.length === 1) await ctx.replyWithPhoto(files[0]!);
    else if (files.length > 1) await ctx.replyWithMediaGroup(files.map((media) => ({ type: 'photo', media })));
    const text = t(user.locale, 'bot.job_details', {
      workflow: rec.workflow,
      id: rec.shortId,
      status: rec.status,
      params: paramsSummary(rec.params),
    });
    await ctx.reply(text, {
      reply_markup: resultKeyboard(user.locale, rec.id, images.length, deps.service.canUpscale()),
    });
  }

  async function builtin(ctx: Context, msg: Message, name: string, args: string): Promise<boolean> {
    const user = userOf(ctx);
    switch (name) {
      case 'start':
        await ctx.reply(t(user.locale, 'bot.start'), under(ctx));
        return true;
      case 'help':
        await ctx.reply(helpText(deps.workflows, user.locale), under(ctx));
        return true;
      case 'gallery':
        await showGallery(ctx, Math.max(0, (Number.parseInt(args, 10) || 1) - 1));
        return true;
      case 'cancel': {
        const id = args.split(/\s+/)[0] || deps.service.latestUnfinished(user)?.id;
        if (!id) {
          await ctx.reply(t(user.locale, 'bot.nothing_to_cancel'), under(ctx));
          return true;
        }
        const { record } = await deps.service.cancel(user, id);
        await ctx.reply(t(user.locale, 'bot.cancel_requested', { id: record.shortId }), under(ctx));
        return true;
      }
      case 'remix': {
        const [id = '', ...rest] = splitArgs(args);
        const rec = deps.service.owned(user, id);
        const wf = deps.workflows.get(rec.workflow);
        if (!wf) throw new UserError('error.unknown_workflow', { name: rec.workflow });
        if (rest.length === 0) {
          await askRemix(ctx, rec);
          return true;
        }
        await deps.service.remix(
          user,
          rec.id,
          parseWorkflowArgs(wf.manifest, rest),
          sinkFactory(msg.chat.id, msg.message_id, user.locale),
        );
        return true;
      }
      case 'models':
        await ctx.reply(await deps.service.modelsText(user.locale, 4000), under(ctx));
        return true;
      case 'status':
        await ctx.reply(await deps.service.statusText(user), under(ctx));
        return true;
      default:
        return false;
    }
  }

  async function askRemix(ctx: Context, rec: JobRecord) {
    const user = userOf(ctx);
    await ctx.reply(t(user.locale, 'bot.remix_ask', { id: rec.shortId }), {
      reply_markup: {
        force_reply: true,
        selective: true,
        input_field_placeholder: String(rec.params.prompt ?? '').slice(0, 64),
      },
    });
  }

  /** Errors end here: a UserError becomes a localized reply, anything else a generic one with a reference. */
  async function guarded(ctx: Context, fn: () => Promise<void>) {
    try {
      await fn();
    } catch (err) {
      const locale = pickLocale(ctx.from?.language_code);
      const text = errorText(err, locale, log, { userId: ctx.from?.id, updateId: ctx.update.update_id });
      if (ctx.callbackQuery)
        await ctx.answerCallbackQuery({ text: text.slice(0, 200), show_alert: true }).catch(() => undefined);
      else await ctx.reply(text, under(ctx)).catch((e) => log.warn({ err: e }, 'could not send the error'));
    }
  }

  bot.on('message', (ctx) =>
    guarded(ctx, async () => {
      const msg = ctx.msg;
      const cmd = commandOf(msg, bot.botInfo.username);
      if (cmd) {
        if (await builtin(ctx, msg, cmd.name, cmd.args)) return;
        if (deps.workflows.has(cmd.name)) await runWorkflow(ctx, msg, cmd.name, cmd.args);
        return;
      }
      // A reply to our "✏️ Remix …" question carries the new prompt.
      const replied = msg.reply_to_message;
      const m = replied?.from?.id === bot.botInfo.id ? REMIX_RE.exec(replied.text ?? '') : null;
      if (m && msg.text) {
        const user = userOf(ctx);
        const rec = deps.service.owned(user, m[1] as string);
        const wf = deps.workflows.get(rec.workflow);
        if (!wf) return;
        await deps.service.remix(
          user,
          rec.id,
          parseWorkflowArgs(wf.manifest, splitArgs(msg.text)),
          sinkFactory(msg.chat.id, msg.message_id, user.locale),
        );
      }
    }),
  );

  bot.on('callback_query:data', (ctx) =>
    guarded(ctx, async () => {
      const action = decodeAction(ctx.callbackQuery.data);
      const user = userOf(ctx);
      const msg = ctx.callbackQuery.message as Message | undefined;
      if (!action || !msg) throw new UserError('error.unknown_button');
      const chatId = msg.chat.id;
      switch (action.kind) {
        case 'cancel':
          await deps.service.cancel(user, action.jobId);
          break;
        case 'reroll':
          await deps.service.reroll(user, action.jobId, sinkFactory(chatId, msg.message_id, user.locale));
          break;
        case 'remix':
          await askRemix(ctx, deps.service.owned(user, action.jobId));
          break;
        case 'upscale':
          await deps.service.upscale(
            user,
            action.jobId,
            action.index,
            sinkFactory(chatId, msg.message_id, user.locale),
          );
          break;
        case 'page':
          await showGallery(ctx, action.page, msg);
          break;
        case 'open':
          await openJob(ctx, deps.service.owned(user, action.jobId));
          break;
      }
      // Every press must be answered, or the client keeps spinning.
      await ctx.answerCallbackQuery();
    }),
  );

  bot.catch((err) => log.error({ err: err.error, updateId: err.ctx.update.update_id }, 'unhandled error in a handler'));

  return {
    bot,
    /** A sink for a job found unfinished at start-up (its progress message is edited again). */
    sinkForRecord(rec: JobRecord) {
      if (!rec.chatId) return undefined;
      return createTelegramSink({
        api: bot.api,
        chatId: Number(rec.chatId),
        messageId: rec.messageId ? Number(rec.messageId) : undefined,
        locale: asLocale(rec.locale),
        logger: log,
        canUpscale: deps.service.canUpscale(),
        linkFor: deps.linkFor,
        maxUploadBytes: uploadCap,
        onMessage: (id) => deps.repo.setMessage(rec.id, rec.chatId as string, String(id)),
      });
    },
    async start() {
      await bot.init();
      await registerMenus(bot.api, deps.workflows).catch((err) =>
        log.warn({ err }, 'could not register the command menu'),
      );
      // Long polling in the background; bot.start() resolves only when stopped.
      void bot
        .start({
          drop_pending_updates: false,
          onStart: (me) => log.info({ username: me.username }, 'telegram bot started'),
        })
        .catch((err) => log.error({ err }, 'telegram polling stopped'));
    },
    async stop() {
      await bot.stop();
    },
  };
}

export type TelegramFrontend = ReturnType<typeof createTelegramFrontend>;
