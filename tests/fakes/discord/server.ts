/**
 * An in-process Discord for discord.js (`rest.api`): REST v10 routes the bot uses and a gateway WebSocket
 * (HELLO → IDENTIFY → READY, heartbeat ACKs, INTERACTION_CREATE dispatch). It keeps interactions and messages,
 * so it can enforce what Discord enforces: one initial callback (40060), a 3-second ack deadline (10062),
 * interaction tokens that expire (401 / 50027), per-file upload caps (413 / 40005), the edit quota of messages
 * older than an hour (30046), Discord's rate limits when asked (rate-limits.ts: per channel, per webhook token,
 * global, with the bucket headers on every answer), scripted route 429s with real headers and bodies, and REST
 * outages (5xx, dropped or hanging connections; the gateway stays up).
 * One file on purpose: interactions, tokens, messages and the gateway session are one piece of state.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createOutages, type OutageOptions } from '../../support/outage.js';
import { parseMultipart } from '../multipart.js';
import { createDiscordLimits, type DiscordLimits } from './rate-limits.js';

export interface DcUser {
  id: string;
  username: string;
  global_name?: string;
  discriminator: string;
  avatar: null;
}
export interface DcAttachment {
  id: string;
  filename: string;
  size: number;
  content_type?: string;
  url: string;
}
export interface DcMessage {
  id: string;
  channel_id: string;
  content: string;
  components: unknown[];
  attachments: DcAttachment[];
  author: DcUser;
  /** Epoch ms; tests may age a message to exercise the one-hour edit quota. */
  createdAt: number;
  nonce?: string;
  interactionToken?: string;
  flags?: number;
  allowed_mentions?: unknown;
  deleted?: boolean;
}
export interface RestCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
  files: string[];
  /** The HTTP status answered; 0 when an outage dropped or held the call without an answer. */
  status: number;
  at: number;
  code?: number;
}

const snowflake = (() => {
  let n = BigInt(Date.now() - 1420070400000) << 22n;
  return () => (n += 1n).toString();
})();

export async function startFakeDiscord(opts: {
  token: string;
  appId?: string;
  tokenLifetimeMs?: number;
  ackDeadlineMs?: number;
  uploadCap?: number;
}) {
  const appId = opts.appId ?? '900000000000000001';
  const botUser: DcUser = { id: appId, username: 'relay', discriminator: '0', avatar: null };
  const calls: RestCall[] = [];
  const commands = new Map<string, unknown[]>(); // scope → commands
  const messages = new Map<string, DcMessage>();
  const interactions = new Map<
    string,
    {
      id: string;
      token: string;
      createdAt: number;
      acked: boolean;
      channelId: string;
      originalId?: string;
      ephemeral?: boolean;
      type: number;
      data: unknown;
    }
  >();
  const files = new Map<string, Buffer>(); // attachment url path → bytes
  const rateLimits: Array<{ prefix: string; count: number; retryAfter: number }> = [];
  /** Discord's rate limits, once a test asks for them. */
  let limits: DiscordLimits | undefined;
  const oldEditQuota = { remaining: Infinity };
  let tokenLifetime = opts.tokenLifetimeMs ?? 15 * 60_000;
  const uploadCap = opts.uploadCap ?? 10 * 1024 * 1024;
  const sockets = new Set<WebSocket>();
  let seq = 0;
  let identified: WebSocket | undefined;
  const now = () => Date.now();
  let baseUrl = '';
  const outages = createOutages(
    (req) => {
      const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      return p.startsWith('/api/') ? p.replace(/^\/api\/v10/, '') : undefined;
    },
    (path, prefix) => path.startsWith(prefix),
  );

  // ---- gateway ----
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41250 }, s: null, t: null }));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { op: number; d: Record<string, unknown> };
      if (msg.op === 1) ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
      if (msg.op === 2) {
        if ((msg.d.token as string)?.replace(/^Bot /, '') !== opts.token)
          return ws.close(4004, 'Authentication failed.');
        identified = ws;
        dispatch('READY', {
          v: 10,
          user: { ...botUser, bot: true, verified: true, flags: 0, mfa_enabled: false },
          guilds: [],
          session_id: randomUUID().replace(/-/g, ''),
          resume_gateway_url: baseUrl.replace('http', 'ws'),
          application: { id: appId, flags: 0 },
          shard: [0, 1],
        });
      }
    });
  });
  function dispatch(t: string, d: unknown) {
    seq += 1;
    identified?.send(JSON.stringify({ op: 0, t, s: seq, d }));
  }

  // ---- REST ----
  const server = http.createServer((req, res) => {
    outages.track(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on(
      'end',
      () =>
        void handle(req, res, Buffer.concat(chunks)).catch((err) => {
          res.writeHead(500);
          res.end(String(err));
        }),
    );
  });
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)),
  );

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer) {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/attachments/')) {
      const f = files.get(url.pathname);
      res.writeHead(f ? 200 : 404, { 'content-type': 'application/octet-stream' });
      return res.end(f ?? '');
    }
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, '');
    const method = req.method ?? 'GET';
    let body: Record<string, unknown> = {};
    let uploaded: Array<{ name: string; bytes: Buffer; filename: string }> = [];
    const ct = String(req.headers['content-type'] ?? '');
    if (ct.includes('multipart/form-data')) {
      const mp = parseMultipart(raw, ct);
      body = mp.fields.payload_json ? (JSON.parse(mp.fields.payload_json) as Record<string, unknown>) : {};
      uploaded = Object.entries(mp.parts).map(([name, p]) => ({ name, bytes: p.bytes, filename: p.filename }));
    } else if (raw.length) body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    const call: RestCall = {
      method,
      path: path + url.search,
      body,
      files: uploaded.map((u) => u.filename),
      status: 200,
      at: now(),
    };
    calls.push(call);
    let bucketHeaders: Record<string, string> = {};
    const send = (status: number, payload?: unknown, extra: Record<string, string> = {}) => {
      call.status = status;
      call.code = (payload as { code?: number } | undefined)?.code;
      const headers = { ...bucketHeaders, ...extra };
      // A 204 carries no body and no content type (clients must not try to parse it).
      res.writeHead(status, payload === undefined ? headers : { 'content-type': 'application/json', ...headers });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    const error = (status: number, code: number, message: string) => send(status, { message, code });
    const auth = String(req.headers.authorization ?? '');
    const isBot = auth === `Bot ${opts.token}`;

    const outage = outages.intercept(req, res);
    if (outage === '5xx') return send(502, { message: '502: Bad Gateway', code: 0 });
    if (outage) {
      call.status = 0;
      return;
    }
    const limited = rateLimits.find((r) => path.startsWith(r.prefix) && r.count > 0);
    if (limited) {
      limited.count -= 1;
      return send(
        429,
        { message: 'You are being rate limited.', retry_after: limited.retryAfter, global: false },
        {
          'retry-after': String(Math.ceil(limited.retryAfter)),
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String((now() + limited.retryAfter * 1000) / 1000),
          'x-ratelimit-reset-after': String(limited.retryAfter),
          'x-ratelimit-bucket': 'fakebucket',
          'x-ratelimit-scope': 'user',
        },
      );
    }
    if (limits) {
      const token = /^\/webhooks\/\d+\/([^/]+)/.exec(path)?.[1];
      const channelId = token ? [...interactions.values()].find((x) => x.token === token)?.channelId : undefined;
      const admitted = limits.admit({ method, path, isBot, channelId, at: now() });
      if (admitted.limited) {
        const { retryAfter, scope } = admitted.limited;
        const body429 = { message: 'You are being rate limited.', retry_after: retryAfter, global: scope === 'global' };
        return send(429, body429, admitted.headers);
      }
      bucketHeaders = admitted.headers;
    }
    for (const u of uploaded) if (u.bytes.length > uploadCap) return error(413, 40005, 'Request entity too large');
    const attachmentsOf = (): DcAttachment[] =>
      uploaded.map((u) => {
        const id = snowflake();
        const p = `/attachments/${id}/${u.filename}`;
        files.set(p, u.bytes);
        return { id, filename: u.filename, size: u.bytes.length, url: `${baseUrl}${p}` };
      });
    const makeMessage = (channelId: string, b: Record<string, unknown>, extra: Partial<DcMessage> = {}): DcMessage => {
      const m: DcMessage = {
        id: snowflake(),
        channel_id: channelId,
        content: String(b.content ?? ''),
        components: (b.components as unknown[]) ?? [],
        attachments: attachmentsOf(),
        author: botUser,
        createdAt: now(),
        flags: b.flags as number | undefined,
        allowed_mentions: b.allowed_mentions,
        ...extra,
      };
      messages.set(m.id, m);
      return m;
    };
    const editMessage = (m: DcMessage, b: Record<string, unknown>) => {
      if (now() - m.createdAt > 3_600_000) {
        if (oldEditQuota.remaining <= 0)
          return error(400, 30046, 'Maximum number of edits to messages older than 1 hour reached. Try again later');
        oldEditQuota.remaining -= 1;
      }
      if ('content' in b) m.content = String(b.content ?? '');
      if ('components' in b) m.components = (b.components as unknown[]) ?? [];
      // Files sent with an edit are appended; `attachments` lists the existing ones to keep.
      const keep = Array.isArray(b.attachments) ? (b.attachments as Array<{ id: string }>).map((a) => a.id) : undefined;
      m.attachments = [
        ...(keep ? m.attachments.filter((a) => keep.includes(a.id)) : m.attachments),
        ...attachmentsOf(),
      ];
      if (m.attachments.length > 10)
        return error(400, 30015, 'Maximum number of attachments in a message reached (10)');
      return send(200, wire(m));
    };
    const wire = (m: DcMessage) => ({
      ...m,
      createdAt: undefined,
      type: 0,
      timestamp: new Date(m.createdAt).toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      embeds: [],
      pinned: false,
    });

    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/gateway/bot') {
      if (!isBot) return error(401, 0, '401: Unauthorized');
      return send(200, {
        url: baseUrl.replace('http', 'ws'),
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
      });
    }
    if (method === 'GET' && path === '/users/@me') return send(200, botUser);
    if ((m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path))) {
      const scope = m[2] ? `guild:${m[2]}` : 'global';
      if (method === 'GET') return send(200, commands.get(scope) ?? []);
      if (method === 'PUT') {
        const list = (Array.isArray(body) ? body : []) as Array<Record<string, unknown>>;
        const stored = list.map((c) => ({
          id: snowflake(),
          application_id: appId,
          version: snowflake(),
          type: 1,
          ...c,
        }));
        commands.set(scope, stored);
        return send(200, stored);
      }
    }
    if (method === 'POST' && (m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path))) {
      const it = interactions.get(m[1] as string);
      if (!it || it.token !== m[2]) return error(404, 10062, 'Unknown interaction');
      if (now() - it.createdAt > (opts.ackDeadlineMs ?? 3000)) return error(404, 10062, 'Unknown interaction');
      if (it.acked) return error(400, 40060, 'Interaction has already been acknowledged.');
      it.acked = true;
      const type = Number(body.type);
      const data = (body.data ?? {}) as Record<string, unknown>;
      if (type === 4 || type === 5) {
        const ephemeral = (Number(data.flags ?? 0) & 64) !== 0;
        const msg = makeMessage(it.channelId, type === 4 ? data : { content: '' }, {
          interactionToken: it.token,
          flags: ephemeral ? 64 : 0,
        });
        it.originalId = msg.id;
        it.ephemeral = ephemeral;
      }
      if (type === 6 || type === 7) {
        // For a component, @original is the message the component sits on.
        const on = (it.data as { message?: { id: string } }).message;
        if (on) it.originalId = on.id;
      }
      if (type === 7) {
        const target = (it.data as { message?: { id: string } }).message;
        const msg = target && messages.get(target.id);
        if (msg) {
          if ('content' in data) msg.content = String(data.content ?? '');
          if ('components' in data) msg.components = (data.components as unknown[]) ?? [];
          const keep = Array.isArray(data.attachments)
            ? (data.attachments as Array<{ id: string }>).map((a) => a.id)
            : undefined;
          msg.attachments = [
            ...(keep ? msg.attachments.filter((a) => keep.includes(a.id)) : msg.attachments),
            ...attachmentsOf(),
          ];
        }
      }
      return send(204);
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/([^/]+))?$/.exec(path))) {
      const token = m[2] as string;
      const it = [...interactions.values()].find((x) => x.token === token);
      if (!it) return error(404, 10015, 'Unknown Webhook');
      if (now() - it.createdAt > tokenLifetime) return error(401, 50027, 'Invalid Webhook Token');
      const target =
        m[3] === '@original'
          ? it.originalId
            ? messages.get(it.originalId)
            : undefined
          : m[3]
            ? messages.get(m[3])
            : undefined;
      if (method === 'POST' && !m[3]) {
        const flags = Number(body.flags ?? 0);
        const msg = makeMessage(it.channelId, body, { interactionToken: token, flags });
        return send(200, wire(msg));
      }
      if (!target || target.deleted) return error(404, 10008, 'Unknown Message');
      if (method === 'GET') return send(200, wire(target));
      if (method === 'PATCH') return editMessage(target, body);
      if (method === 'DELETE') {
        target.deleted = true;
        return send(204);
      }
    }
    if ((m = /^\/channels\/(\d+)\/messages(?:\/(\d+))?$/.exec(path))) {
      if (!isBot) return error(401, 0, '401: Unauthorized');
      const channelId = m[1] as string;
      if (method === 'POST' && !m[2]) {
        // enforce_nonce: the same nonce within a few minutes returns the first message instead of a duplicate.
        if (body.enforce_nonce && body.nonce) {
          const dup = [...messages.values()].find(
            (x) => x.channel_id === channelId && x.nonce === body.nonce && now() - x.createdAt < 5 * 60_000,
          );
          if (dup) return send(200, wire(dup));
        }
        const msg = makeMessage(channelId, body, { nonce: body.nonce as string | undefined });
        return send(200, wire(msg));
      }
      const target = m[2] ? messages.get(m[2]) : undefined;
      if (!target || target.deleted) return error(404, 10008, 'Unknown Message');
      if (method === 'PATCH') return editMessage(target, body);
      if (method === 'DELETE') {
        target.deleted = true;
        return send(204);
      }
    }
    return error(404, 0, '404: Not Found');
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** Builds and dispatches an INTERACTION_CREATE; returns the interaction's id and token. */
  function interact(
    type: number,
    data: Record<string, unknown>,
    user: DcUser,
    ctx: { channelId: string; guildId?: string; locale?: string; message?: DcMessage },
  ) {
    const id = snowflake();
    const token = `tok_${randomUUID().replace(/-/g, '')}`;
    interactions.set(id, {
      id,
      token,
      createdAt: now(),
      acked: false,
      channelId: ctx.channelId,
      type,
      data: { message: ctx.message },
    });
    const d: Record<string, unknown> = {
      id,
      application_id: appId,
      type,
      data,
      channel_id: ctx.channelId,
      channel: { id: ctx.channelId, type: ctx.guildId ? 0 : 1 },
      token,
      version: 1,
      locale: ctx.locale ?? 'en-US',
      app_permissions: '2251799813685247',
      attachment_size_limit: uploadCap,
      entitlements: [],
      authorizing_integration_owners: { '0': ctx.guildId ?? '0' },
      context: ctx.guildId ? 0 : 1,
    };
    if (ctx.guildId) {
      d.guild_id = ctx.guildId;
      d.guild_locale = 'en-US';
      d.member = {
        user,
        roles: [],
        joined_at: new Date().toISOString(),
        deaf: false,
        mute: false,
        flags: 0,
        permissions: '1071698660929',
      };
    } else d.user = user;
    if (ctx.message) d.message = { ...wire2(ctx.message) };
    dispatch('INTERACTION_CREATE', d);
    return { id, token };
  }
  const wire2 = (m: DcMessage) => ({
    ...m,
    createdAt: undefined,
    type: 0,
    timestamp: new Date(m.createdAt).toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    embeds: [],
    pinned: false,
  });

  return {
    apiUrl: `${baseUrl}/api`,
    appId,
    botUser,
    calls,
    commands,
    messages,
    /** A user runs a slash command. `files` become ATTACHMENT options served from this fake's CDN. */
    slash(
      user: DcUser,
      name: string,
      options: Array<{ name: string; type: number; value: unknown }>,
      ctx: {
        channelId: string;
        guildId?: string;
        locale?: string;
        files?: Record<string, { bytes: Buffer; filename: string; contentType?: string }>;
      },
    ) {
      const attachments: Record<string, DcAttachment> = {};
      const opts = [...options];
      for (const [optName, f] of Object.entries(ctx.files ?? {})) {
        const aid = snowflake();
        const p = `/attachments/${aid}/${f.filename}`;
        files.set(p, f.bytes);
        attachments[aid] = {
          id: aid,
          filename: f.filename,
          size: f.bytes.length,
          content_type: f.contentType,
          url: `${baseUrl}${p}`,
        };
        opts.push({ name: optName, type: 11, value: aid });
      }
      const scope = ctx.guildId && commands.has(`guild:${ctx.guildId}`) ? `guild:${ctx.guildId}` : 'global';
      const cmd = (commands.get(scope) ?? []).find((c) => (c as { name: string }).name === name) as
        | { id: string }
        | undefined;
      return interact(
        2,
        { id: cmd?.id ?? snowflake(), name, type: 1, options: opts, resolved: { attachments } },
        user,
        ctx,
      );
    },
    /** A user presses a button (or picks from a select) on a message. */
    component(
      user: DcUser,
      message: DcMessage,
      customId: string,
      ctx: { channelId: string; guildId?: string; locale?: string; values?: string[] },
    ) {
      return interact(
        3,
        { custom_id: customId, component_type: ctx.values ? 3 : 2, ...(ctx.values ? { values: ctx.values } : {}) },
        user,
        { ...ctx, message },
      );
    },
    autocomplete(
      user: DcUser,
      name: string,
      options: Array<{ name: string; type: number; value: unknown; focused?: boolean }>,
      ctx: { channelId: string; guildId?: string; locale?: string },
    ) {
      return interact(4, { id: snowflake(), name, type: 1, options }, user, ctx);
    },
    modalSubmit(
      user: DcUser,
      customId: string,
      fields: Record<string, string>,
      ctx: { channelId: string; guildId?: string; locale?: string; message?: DcMessage },
    ) {
      const components = Object.entries(fields).map(([id, value]) => ({
        type: 1,
        components: [{ type: 4, custom_id: id, value }],
      }));
      return interact(5, { custom_id: customId, components }, user, ctx);
    },
    /** Future tokens (and live ones) expire after this long. */
    setTokenLifetime(ms: number) {
      tokenLifetime = ms;
    },
    /**
     * Enforces Discord's rate limits from now on (rate-limits.ts): 5 message creates or edits per 5 s per channel
     * (interaction webhooks included), 5 per 2 s per interaction token, 50 a second for the bot token; every answer
     * then carries its bucket's headers, and a call over a limit answers 429 (recorded like any 429).
     */
    enforceRateLimits() {
      limits ??= createDiscordLimits();
    },
    /** The next `count` calls on routes starting with `prefix` get 429 with retry_after seconds. */
    rateLimit(prefix: string, count: number, retryAfter: number) {
      rateLimits.push({ prefix, count, retryAfter });
    },
    /**
     * A REST outage from now on: every call (or only those on routes starting with a prefix in `only`) fails as
     * `mode` says, for `ms` or until `end()`; the gateway stays connected. Calls hit by it are recorded with status
     * 502, or 0 without answer.
     */
    outage(o: OutageOptions) {
      return outages.start(o);
    },
    /** Edits allowed on messages older than an hour before 30046. */
    setOldEditQuota(n: number) {
      oldEditQuota.remaining = n;
    },
    /** Pretends a message was created `ms` ago. */
    age(messageId: string, ms: number) {
      const msg = messages.get(messageId);
      if (msg) msg.createdAt = now() - ms;
    },
    original(token: string) {
      const it = [...interactions.values()].find((x) => x.token === token);
      return it?.originalId ? messages.get(it.originalId) : undefined;
    },
    interaction(token: string) {
      return [...interactions.values()].find((x) => x.token === token);
    },
    channelMessages(channelId: string) {
      return [...messages.values()].filter((x) => x.channel_id === channelId && !x.deleted);
    },
    isConnected: () => identified !== undefined && sockets.has(identified),
    async close() {
      outages.close();
      for (const ws of sockets) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export type FakeDiscord = Awaited<ReturnType<typeof startFakeDiscord>>;
