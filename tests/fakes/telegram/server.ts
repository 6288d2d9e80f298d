/**
 * An in-process Telegram Bot API server for grammY (`client.apiRoot`): /bot<token>/<method> with JSON or
 * multipart bodies, /file/bot<token>/<path> downloads, long-polling getUpdates. It keeps chats and messages,
 * so edits behave as Telegram's do ("message is not modified", no text to edit on a photo, 4096/1024 limits,
 * photo size and dimension checks, getFile's 20 MB cap), enforces Telegram's flood limits when asked (flood.ts:
 * per chat, per group, global), injects 429 floods with retry_after per chat and outages (5xx, dropped or hanging
 * connections), and lets a test act as users: text with command entities, photos or documents with captions,
 * replies, button presses.
 * One file on purpose: updates, chats, messages and files are one piece of state, as on the real server.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { createOutages, type OutageOptions } from '../../support/outage.js';
import { parseMultipart } from '../multipart.js';
import { createFloodGate, type FloodLimits, telegramFloodLimits } from './flood.js';

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  username?: string;
  language_code?: string;
}
export interface TgChat {
  id: number;
  type: 'private' | 'group' | 'supergroup';
  title?: string;
  first_name?: string;
}
type Markup =
  | { inline_keyboard?: Array<Array<{ text: string; callback_data?: string; url?: string }>>; force_reply?: boolean }
  | undefined;
export interface TgMessage {
  message_id: number;
  date: number;
  chat: TgChat;
  from?: TgUser;
  sender_chat?: TgChat;
  text?: string;
  caption?: string;
  entities?: Array<{ type: string; offset: number; length: number }>;
  caption_entities?: Array<{ type: string; offset: number; length: number }>;
  photo?: Array<{ file_id: string; file_unique_id: string; width: number; height: number; file_size: number }>;
  document?: { file_id: string; file_unique_id: string; file_name?: string; mime_type?: string; file_size: number };
  video?: {
    file_id: string;
    file_unique_id: string;
    file_size: number;
    width: number;
    height: number;
    duration: number;
  };
  voice?: { file_id: string; file_unique_id: string; duration: number; mime_type: string; file_size: number };
  audio?: { file_id: string; file_unique_id: string; duration: number; file_size: number };
  media_group_id?: string;
  reply_to_message?: TgMessage;
  reply_markup?: Markup;
}

export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
  /** Uploaded files by field or attach:// name. */
  files: Record<string, { bytes: Buffer; filename: string }>;
  at: number;
  /** The HTTP status answered; 0 when an outage dropped or held the call without an answer. */
  status: number;
  chatId?: number;
  /** retry_after of a 429 answer. */
  retryAfter?: number;
}

const NOT_MODIFIED =
  'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

export async function startFakeTelegram(opts: { token: string; botUsername?: string }) {
  const bot: TgUser = { id: 7000001, is_bot: true, first_name: 'Relay', username: opts.botUsername ?? 'relay_bot' };
  const calls: ApiCall[] = [];
  const updates: Array<{ update_id: number; [k: string]: unknown }> = [];
  const messages = new Map<string, TgMessage>(); // "<chat>:<id>"
  const files = new Map<string, { bytes: Buffer; path: string }>();
  const nextId = new Map<number, number>();
  const floods = new Map<number, number>(); // chat → flooded until (ms)
  /** Telegram's flood limits, those a test asked for. */
  const floodLimits: FloodLimits = {};
  const floodGate = createFloodGate(floodLimits);
  const failures: Array<{ method: string; status: number; description: string; retryAfter?: number }> = [];
  let updateId = 1;
  let confirmed = 0;
  /** setWebhook's registration: updates are then POSTed there, and getUpdates answers 409 as on the real server. */
  let webhook: { url: string; secret?: string } | undefined;
  const webhookPosts: Array<{ updateId: number; status: number }> = [];
  let waiters: Array<() => void> = [];
  const now = () => Date.now();
  const outages = createOutages(
    (req) => /^\/bot[^/]+\/([A-Za-z]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname)?.[1],
    (method, pattern) => method === pattern,
  );

  const newMessage = (chat: TgChat, from: TgUser, fields: Partial<TgMessage>): TgMessage => {
    const id = (nextId.get(chat.id) ?? 0) + 1;
    nextId.set(chat.id, id);
    const m: TgMessage = { message_id: id, date: Math.floor(now() / 1000), chat, from, ...fields };
    messages.set(`${chat.id}:${id}`, m);
    return m;
  };
  const storeFile = (bytes: Buffer, ext: string) => {
    const id = `F${randomUUID().replace(/-/g, '')}`;
    files.set(id, { bytes, path: `files/${id}.${ext}` });
    return id;
  };
  const pushUpdate = (u: Record<string, unknown>) => {
    const update = { update_id: updateId++, ...u };
    updates.push(update);
    for (const w of waiters) w();
    waiters = [];
    if (webhook) void deliver(update);
  };
  const postToWebhook = async (to: { url: string; secret?: string }, update: object) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (to.secret !== undefined) headers['x-telegram-bot-api-secret-token'] = to.secret;
    const res = await fetch(to.url, { method: 'POST', headers, body: JSON.stringify(update) });
    return { status: res.status, body: await res.text() };
  };
  /** As Telegram does: POST the update, and again a little later (for a while) until it is answered with a 2xx. */
  const deliver = async (update: { update_id: number }) => {
    for (let attempt = 0; webhook && attempt < 50; attempt++) {
      const status = await postToWebhook(webhook, update).then(
        (r) => r.status,
        () => 0,
      );
      webhookPosts.push({ updateId: update.update_id, status });
      if (status >= 200 && status < 300) {
        updates.splice(updates.indexOf(update as (typeof updates)[number]), 1);
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const commandEntities = (text: string | undefined) => {
    const m = text ? /^\/[a-z0-9_]+(@[a-z0-9_]+)?/i.exec(text) : null;
    return m ? [{ type: 'bot_command', offset: 0, length: m[0].length }] : undefined;
  };

  // ---- server ----
  const server = http.createServer((req, res) => {
    outages.track(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks)).catch((err) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer) {
    const url = new URL(req.url ?? '/', 'http://x');
    const fileMatch = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (fileMatch) {
      const f = [...files.values()].find((x) => x.path === fileMatch[2]);
      if (fileMatch[1] !== opts.token || !f) {
        res.writeHead(404);
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': f.bytes.length });
      return res.end(f.bytes);
    }
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!m) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
    if (m[1] !== opts.token) return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const method = m[2] as string;
    let params: Record<string, unknown> = {};
    let parts: Record<string, { bytes: Buffer; filename: string }> = {};
    const ct = String(req.headers['content-type'] ?? '');
    if (ct.includes('multipart/form-data')) {
      const mp = parseMultipart(raw, ct);
      parts = mp.parts;
      for (const [k, v] of Object.entries(mp.fields)) params[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
    } else if (raw.length) params = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    for (const k of Object.keys(parts)) if (!(k in params)) params[k] = `attach://${k}`;
    const chatId = params.chat_id !== undefined ? Number(params.chat_id) : undefined;
    const call: ApiCall = { method, params, files: parts, at: now(), status: 200, chatId };
    calls.push(call);
    const ok = (result: unknown) => reply(200, { ok: true, result });
    const fail = (status: number, description: string, extra: Record<string, unknown> = {}) => {
      call.status = status;
      call.retryAfter = (extra.parameters as { retry_after?: number } | undefined)?.retry_after;
      reply(status, { ok: false, error_code: status, description, ...extra });
    };

    const outage = outages.intercept(req, res);
    if (outage === '5xx') return fail(502, 'Bad Gateway');
    if (outage) {
      call.status = 0;
      return;
    }
    const overLimit = chatId === undefined ? undefined : floodGate.admit(chatId, now());
    if (overLimit !== undefined)
      return fail(429, `Too Many Requests: retry after ${overLimit}`, { parameters: { retry_after: overLimit } });
    if (chatId !== undefined) {
      const until = floods.get(chatId) ?? 0;
      if (until > now()) {
        const retryAfter = Math.ceil((until - now()) / 1000);
        return fail(429, `Too Many Requests: retry after ${retryAfter}`, { parameters: { retry_after: retryAfter } });
      }
    }
    const injected = failures.findIndex((f) => f.method === method || f.method === '*');
    if (injected >= 0 && method !== 'getUpdates') {
      const f = failures.splice(injected, 1)[0]!;
      return fail(f.status, f.description, f.retryAfter ? { parameters: { retry_after: f.retryAfter } } : {});
    }

    const fileOf = (ref: unknown) =>
      typeof ref === 'string' && ref.startsWith('attach://') ? parts[ref.slice(9)] : undefined;
    const msgOf = () => messages.get(`${chatId}:${Number(params.message_id)}`);
    const chatOf = (): TgChat => {
      const known = [...messages.values()].find((x) => x.chat.id === chatId)?.chat;
      return known ?? { id: chatId as number, type: (chatId as number) < 0 ? 'supergroup' : 'private' };
    };
    const replyTo = () => {
      const rp = params.reply_parameters as { message_id?: number } | undefined;
      const id = rp?.message_id ?? (params.reply_to_message_id as number | undefined);
      return id ? messages.get(`${chatId}:${id}`) : undefined;
    };
    const photoOf = async (f: { bytes: Buffer }) => {
      if (f.bytes.length > 10 * 1000 * 1000) return { error: 'Bad Request: PHOTO_INVALID_DIMENSIONS' as string };
      const meta = await sharp(f.bytes)
        .metadata()
        .catch(() => undefined);
      if (!meta?.width || !meta.height) return { error: 'Bad Request: IMAGE_PROCESS_FAILED' };
      if (
        meta.width + meta.height > 10_000 ||
        Math.max(meta.width, meta.height) / Math.min(meta.width, meta.height) > 20
      )
        return { error: 'Bad Request: PHOTO_INVALID_DIMENSIONS' };
      const id = storeFile(f.bytes, 'jpg');
      return {
        photo: [
          {
            file_id: id,
            file_unique_id: id.slice(0, 12),
            width: meta.width,
            height: meta.height,
            file_size: f.bytes.length,
          },
        ],
      };
    };
    const sameMarkup = (a: Markup, b: Markup) => JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});

    switch (method) {
      case 'getMe':
        return ok(bot);
      case 'setWebhook':
      case 'deleteWebhook':
        if (params.drop_pending_updates === true) updates.length = 0;
        webhook =
          method === 'setWebhook' ? { url: String(params.url), secret: params.secret_token as string } : undefined;
        for (const u of webhook ? [...updates] : []) void deliver(u);
        return ok(true);
      case 'setMyCommands':
      case 'sendChatAction':
      case 'answerCallbackQuery':
        if (method === 'answerCallbackQuery' && String(params.text ?? '').length > 200)
          return fail(400, 'Bad Request: MESSAGE_TOO_LONG');
        return ok(true);
      case 'getUpdates': {
        if (webhook)
          return fail(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
          );
        // An offset confirms every earlier update for good, as on the real server: a new poller never sees them again.
        confirmed = Math.max(confirmed, Number(params.offset ?? 0));
        const offset = confirmed;
        const timeoutMs = Math.min(Number(params.timeout ?? 0), 2) * 1000;
        const pending = () => updates.filter((u) => u.update_id >= offset);
        if (!pending().length && timeoutMs > 0) {
          await new Promise<void>((r) => {
            const t = setTimeout(r, timeoutMs);
            waiters.push(() => {
              clearTimeout(t);
              r();
            });
          });
        }
        return ok(pending().slice(0, Number(params.limit ?? 100)));
      }
      case 'sendMessage': {
        const text = String(params.text ?? '');
        if (!text.length) return fail(400, 'Bad Request: message text is empty');
        if (text.length > 4096) return fail(400, 'Bad Request: message is too long');
        return ok(
          newMessage(chatOf(), bot, { text, reply_markup: params.reply_markup as Markup, reply_to_message: replyTo() }),
        );
      }
      case 'editMessageText': {
        const msg = msgOf();
        if (!msg) return fail(400, 'Bad Request: message to edit not found');
        if (msg.text === undefined) return fail(400, 'Bad Request: there is no text in the message to edit');
        const text = String(params.text ?? '');
        if (text.length > 4096) return fail(400, 'Bad Request: MESSAGE_TOO_LONG');
        if (text === msg.text && sameMarkup(msg.reply_markup, params.reply_markup as Markup))
          return fail(400, NOT_MODIFIED);
        msg.text = text;
        msg.reply_markup = params.reply_markup as Markup;
        return ok(msg);
      }
      case 'editMessageCaption': {
        const msg = msgOf();
        if (!msg) return fail(400, 'Bad Request: message to edit not found');
        if (msg.text !== undefined) return fail(400, 'Bad Request: there is no caption in the message to edit');
        const caption = String(params.caption ?? '');
        if (caption.length > 1024) return fail(400, 'Bad Request: MEDIA_CAPTION_TOO_LONG');
        if (caption === (msg.caption ?? '') && sameMarkup(msg.reply_markup, params.reply_markup as Markup))
          return fail(400, NOT_MODIFIED);
        msg.caption = caption;
        msg.reply_markup = params.reply_markup as Markup;
        return ok(msg);
      }
      case 'editMessageReplyMarkup': {
        const msg = msgOf();
        if (!msg) return fail(400, 'Bad Request: message to edit not found');
        if (sameMarkup(msg.reply_markup, params.reply_markup as Markup)) return fail(400, NOT_MODIFIED);
        msg.reply_markup = params.reply_markup as Markup;
        return ok(msg);
      }
      case 'editMessageMedia': {
        const msg = msgOf();
        if (!msg) return fail(400, 'Bad Request: message to edit not found');
        const media = params.media as { type: string; media: string; caption?: string };
        const f = fileOf(media.media);
        if (!f || media.type !== 'photo') return fail(400, 'Bad Request: wrong file identifier/HTTP URL specified');
        const p = await photoOf(f);
        if ('error' in p) return fail(400, p.error as string);
        if ((media.caption ?? '').length > 1024) return fail(400, 'Bad Request: MEDIA_CAPTION_TOO_LONG');
        delete msg.text;
        msg.photo = p.photo;
        msg.caption = media.caption;
        msg.reply_markup = params.reply_markup as Markup;
        return ok(msg);
      }
      case 'sendPhoto': {
        const f = fileOf(params.photo);
        if (!f) return fail(400, 'Bad Request: there is no photo in the request');
        const p = await photoOf(f);
        if ('error' in p) return fail(400, p.error as string);
        if (String(params.caption ?? '').length > 1024) return fail(400, 'Bad Request: message caption is too long');
        return ok(
          newMessage(chatOf(), bot, {
            photo: p.photo,
            caption: params.caption as string | undefined,
            reply_markup: params.reply_markup as Markup,
            reply_to_message: replyTo(),
          }),
        );
      }
      case 'sendDocument':
      case 'sendAudio':
      case 'sendVideo': {
        const field = method === 'sendDocument' ? 'document' : method === 'sendAudio' ? 'audio' : 'video';
        const f = fileOf(params[field]);
        if (!f) return fail(400, `Bad Request: there is no ${field} in the request`);
        if (f.bytes.length > 50 * 1000 * 1000) return fail(413, 'Request Entity Too Large');
        const id = storeFile(f.bytes, 'bin');
        const entry =
          method === 'sendDocument'
            ? {
                document: {
                  file_id: id,
                  file_unique_id: id.slice(0, 12),
                  file_name: f.filename,
                  file_size: f.bytes.length,
                },
              }
            : method === 'sendAudio'
              ? { audio: { file_id: id, file_unique_id: id.slice(0, 12), duration: 0, file_size: f.bytes.length } }
              : {
                  video: {
                    file_id: id,
                    file_unique_id: id.slice(0, 12),
                    file_size: f.bytes.length,
                    width: 0,
                    height: 0,
                    duration: 0,
                  },
                };
        return ok(
          newMessage(chatOf(), bot, {
            ...entry,
            caption: params.caption as string | undefined,
            reply_markup: params.reply_markup as Markup,
            reply_to_message: replyTo(),
          }),
        );
      }
      case 'sendMediaGroup': {
        const media = params.media as Array<{ type: string; media: string; caption?: string }>;
        if (!Array.isArray(media) || media.length < 2 || media.length > 10)
          return fail(400, 'Bad Request: wrong number of media specified');
        if ('reply_markup' in params) return fail(400, 'Bad Request: reply markup is not supported in media groups');
        const group = randomUUID();
        const out: TgMessage[] = [];
        for (const item of media) {
          const f = fileOf(item.media);
          if (!f) return fail(400, 'Bad Request: wrong file identifier/HTTP URL specified');
          const p =
            item.type === 'photo'
              ? await photoOf(f)
              : { document: { file_id: storeFile(f.bytes, 'bin'), file_unique_id: 'x', file_size: f.bytes.length } };
          if ('error' in p) return fail(400, p.error as string);
          out.push(
            newMessage(chatOf(), bot, {
              ...p,
              caption: item.caption,
              media_group_id: group,
              reply_to_message: replyTo(),
            }),
          );
        }
        return ok(out);
      }
      case 'deleteMessage': {
        if (!messages.delete(`${chatId}:${Number(params.message_id)}`))
          return fail(400, 'Bad Request: message to delete not found');
        return ok(true);
      }
      case 'getFile': {
        const f = files.get(String(params.file_id));
        if (!f) return fail(400, 'Bad Request: invalid file_id');
        if (f.bytes.length > 20 * 1000 * 1000) return fail(400, 'Bad Request: file is too big');
        return ok({
          file_id: params.file_id,
          file_unique_id: String(params.file_id).slice(0, 12),
          file_size: f.bytes.length,
          file_path: f.path,
        });
      }
      default:
        return fail(404, 'Not Found: method not found');
    }
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const apiRoot = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiRoot,
    bot,
    calls,
    messages,
    /** A user sends a message (text or a photo/document with a caption), optionally as a reply. */
    userSends(
      from: TgUser,
      chat: TgChat,
      content: {
        text?: string;
        voice?: Buffer;
        photo?: Buffer;
        document?: { bytes: Buffer; name: string; mime: string; size?: number };
        caption?: string;
        replyTo?: TgMessage;
        /** Sent on behalf of a chat (anonymous group admin, a channel): `from` is then Telegram's shared account. */
        senderChat?: TgChat;
        /** The voice message's declared size, when it should differ from the bytes (files over the 20 MB cap). */
        voiceSize?: number;
      },
    ) {
      const fields: Partial<TgMessage> = {};
      if (content.text !== undefined) {
        fields.text = content.text;
        fields.entities = commandEntities(content.text);
      }
      if (content.caption !== undefined) {
        fields.caption = content.caption;
        fields.caption_entities = commandEntities(content.caption);
      }
      if (content.photo) {
        // Telegram offers several sizes; the test's bytes are the largest.
        const id = storeFile(content.photo, 'jpg');
        const small = storeFile(content.photo.subarray(0, 10), 'jpg');
        fields.photo = [
          { file_id: small, file_unique_id: small.slice(0, 12), width: 90, height: 90, file_size: 10 },
          { file_id: id, file_unique_id: id.slice(0, 12), width: 1280, height: 1280, file_size: content.photo.length },
        ];
      }
      if (content.document) {
        const id = storeFile(content.document.bytes, 'bin');
        fields.document = {
          file_id: id,
          file_unique_id: id.slice(0, 12),
          file_name: content.document.name,
          mime_type: content.document.mime,
          file_size: content.document.size ?? content.document.bytes.length,
        };
      }
      if (content.voice) {
        const id = storeFile(content.voice, 'oga');
        fields.voice = {
          file_id: id,
          file_unique_id: id.slice(0, 12),
          duration: 3,
          mime_type: 'audio/ogg',
          file_size: content.voiceSize ?? content.voice.length,
        };
      }
      if (content.senderChat) fields.sender_chat = content.senderChat;
      if (content.replyTo) fields.reply_to_message = content.replyTo;
      const msg = newMessage(chat, from, fields);
      pushUpdate({ message: msg });
      return msg;
    },
    /** A user presses an inline button under one of the bot's messages. */
    userPresses(from: TgUser, message: TgMessage, data: string) {
      const id = randomUUID();
      pushUpdate({ callback_query: { id, from, message, chat_instance: 'ci', data } });
      return id;
    },
    /**
     * Enforces Telegram's group flood limit from now on: a group chat's call beyond `perMinute` in the last 60 s
     * answers 429 with retry_after (recorded like any 429).
     */
    enforceGroupLimit(perMinute = 20) {
      floodLimits.groupPerMinute = perMinute;
    },
    /**
     * Enforces Telegram's flood limits from now on (default: all of them, as docs/platforms.md gives them): per chat
     * a burst then about one a second, 20 a minute per group, about 30 a second in all. A call over one answers 429
     * with retry_after (recorded like any 429).
     */
    enforceFloodLimits(limits: FloodLimits = telegramFloodLimits) {
      Object.assign(floodLimits, limits);
    },
    /** Every call to this chat answers 429 with retry_after until `seconds` have passed. */
    flood(chatId: number, seconds: number) {
      floods.set(chatId, now() + seconds * 1000);
    },
    /** The next call of `method` ('*' = any) fails with this status and description. */
    failNext(method: string, status: number, description: string, retryAfter?: number) {
      failures.push({ method, status, description, retryAfter });
    },
    /**
     * An outage of the Bot API from now on: every call (or only the methods in `only`, getUpdates included) fails
     * as `mode` says, for `ms` or until `end()`. Calls hit by it are recorded with status 502, or 0 without answer.
     */
    outage(o: OutageOptions) {
      return outages.start(o);
    },
    /** Messages the bot sent or edited in a chat, in order. */
    botMessages(chatId: number) {
      return [...messages.values()]
        .filter((x) => x.chat.id === chatId && x.from?.id === bot.id)
        .sort((a, b) => a.message_id - b.message_id);
    },
    message(chatId: number, id: number) {
      return messages.get(`${chatId}:${id}`);
    },
    /** The webhook setWebhook registered (undefined: long polling), and every POST of an update to it. */
    webhook: () => webhook,
    webhookPosts,
    /** Registers a webhook as an earlier deployment would have (without a call from the bot). */
    setWebhook(url: string, secret?: string) {
      webhook = { url, secret };
    },
    /** POSTs an update to the registered webhook with this secret header (none when undefined), as anyone could. */
    postToWebhook(update: object, secret: string | undefined) {
      if (!webhook) throw new Error('no webhook is set');
      return postToWebhook({ url: webhook.url, secret }, update);
    },
    callsTo(method: string) {
      return calls.filter((c) => c.method === method);
    },
    async close() {
      outages.close();
      for (const w of waiters) w();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export type FakeTelegram = Awaited<ReturnType<typeof startFakeTelegram>>;
