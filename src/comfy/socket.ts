import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { Logger } from '../logger.js';
import type { Metrics } from '../ops/metrics.js';
import { createOutageLog } from '../ops/outage-log.js';
import { parseBinaryFrame, parseTextFrame, type PreviewFrame, type WsMessage } from './messages.js';

/**
 * One long-lived WebSocket per ComfyUI instance, shared by every job on it.
 * - stable clientId: POST /prompt carries it, so the prompt's messages reach this socket;
 * - client pings (ComfyUI never pings) and a silence watchdog: no pong in time = dead socket;
 * - reconnect with bounded backoff, closing the old socket first: when an old socket with the same
 *   clientId closes late, ComfyUI unregisters whatever is under that id — the new socket (comfyui-api.md §1);
 * - messages routed to listeners by prompt_id; broadcasts (status) to everyone.
 */
export type SocketEvent =
  | { kind: 'message'; message: WsMessage }
  | { kind: 'preview'; frame: PreviewFrame }
  | { kind: 'connected'; isReconnect: boolean }
  | { kind: 'disconnected'; reason: string };

export type SocketListener = (event: SocketEvent) => void;

export interface ComfySocket {
  readonly clientId: string;
  isConnected(): boolean;
  /** Resolves once connected (or rejects after timeoutMs). */
  ready(timeoutMs?: number): Promise<void>;
  /** Messages for this prompt (and every broadcast/connection event). Returns an unsubscribe function. */
  subscribe(promptId: string, listener: SocketListener): () => void;
  /** Force-close the current socket (tests, watchdog); it reconnects by itself. */
  drop(): void;
  close(): Promise<void>;
}

export interface ComfySocketDeps {
  baseUrl: string;
  logger: Logger;
  clientId?: string;
  WebSocketImpl?: typeof WebSocket;
  pingIntervalMs?: number;
  /** No pong or message for this long = dead socket. */
  silenceTimeoutMs?: number;
  backoffMs?: { initial: number; max: number };
  metrics?: Metrics;
}

export function createComfySocket(deps: ComfySocketDeps): ComfySocket {
  const clientId = deps.clientId ?? randomUUID();
  const Impl = deps.WebSocketImpl ?? WebSocket;
  const pingMs = deps.pingIntervalMs ?? 20_000;
  const silenceMs = deps.silenceTimeoutMs ?? 45_000;
  const backoff = deps.backoffMs ?? { initial: 500, max: 15_000 };
  const log = deps.logger.child({ module: 'comfy-ws', instance: deps.baseUrl });
  const wsUrl = `${deps.baseUrl.replace(/^http/, 'ws')}/ws?clientId=${encodeURIComponent(clientId)}`;

  const listeners = new Map<string, Set<SocketListener>>();
  let ws: WebSocket | undefined;
  let connected = false;
  let everConnected = false;
  let closed = false;
  let attempt = 0;
  let lastSeen = Date.now();
  let pingTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  /** Type-1 previews carry no prompt id: attribute them to the prompt that last reported activity. */
  let activePromptId: string | undefined;
  let waiters: Array<() => void> = [];
  let lastError: Error | undefined;
  const outage = createOutageLog(log, {
    failing: (reason) => `no WebSocket connection to ComfyUI (${reason}); retrying`,
  });

  const emitAll = (event: SocketEvent) => {
    for (const set of listeners.values()) for (const l of set) safeCall(l, event);
  };
  const emitTo = (promptId: string | undefined, event: SocketEvent) => {
    if (!promptId) return;
    for (const l of listeners.get(promptId) ?? []) safeCall(l, event);
  };
  function safeCall(l: SocketListener, event: SocketEvent) {
    try {
      l(event);
    } catch (err) {
      log.error({ err }, 'socket listener threw');
    }
  }

  function connect() {
    if (closed) return;
    const socket = new Impl(wsUrl);
    ws = socket;
    socket.on('open', () => {
      if (ws !== socket) return;
      attempt = 0;
      connected = true;
      outage.recovered();
      lastError = undefined;
      lastSeen = Date.now();
      // Negotiate type-4 previews, which name their prompt (comfyui-api.md §4.1). Must be the first frame.
      socket.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
      const isReconnect = everConnected;
      everConnected = true;
      log.info({ isReconnect }, 'connected');
      if (isReconnect) deps.metrics?.comfyReconnect(deps.baseUrl);
      for (const w of waiters) w();
      waiters = [];
      emitAll({ kind: 'connected', isReconnect });
      pingTimer = setInterval(() => {
        if (Date.now() - lastSeen > silenceMs) {
          log.warn({ silentMs: Date.now() - lastSeen }, 'socket silent past the watchdog limit; reconnecting');
          socket.terminate();
          return;
        }
        if (socket.readyState === socket.OPEN) socket.ping();
      }, pingMs);
      pingTimer.unref();
    });
    socket.on('pong', () => (lastSeen = Date.now()));
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      lastSeen = Date.now();
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        const frame = parseBinaryFrame(buf);
        if (frame) emitTo(frame.promptId ?? activePromptId, { kind: 'preview', frame });
        return;
      }
      const message = parseTextFrame(buf.toString('utf8'));
      if (!message) return;
      if (message.type === 'status') {
        emitAll({ kind: 'message', message });
        return;
      }
      const pid = message.data.prompt_id;
      if (message.type === 'execution_start' || message.type === 'executing' || message.type === 'progress') {
        if (pid) activePromptId = message.type === 'executing' && message.data.node === null ? undefined : pid;
      }
      // Builds before 2024-01 sent progress without prompt_id: it belongs to the prompt running now.
      emitTo(pid ?? (message.type === 'progress' ? activePromptId : undefined), { kind: 'message', message });
    });
    socket.on('error', (err: Error) => {
      lastError = err;
      log.debug({ err }, 'socket error');
    });
    socket.on('close', (code: number) => {
      if (ws !== socket) return;
      clearInterval(pingTimer);
      const wasConnected = connected;
      connected = false;
      ws = undefined;
      if (wasConnected) emitAll({ kind: 'disconnected', reason: `closed (${code})` });
      if (closed) return;
      const delay = Math.min(backoff.max, backoff.initial * 2 ** attempt) * (0.75 + Math.random() * 0.5);
      attempt += 1;
      const retry = { code, attempt, delayMs: Math.round(delay) };
      // Losing the connection is news; not getting one (ComfyUI down or restarting) is one deduplicated warning.
      if (wasConnected) log.warn(retry, 'socket closed; reconnecting');
      else outage.failed(lastError ?? new Error(`closed (${code})`), retry);
      retryTimer = setTimeout(connect, delay);
      retryTimer.unref();
    });
  }

  connect();

  return {
    clientId,
    isConnected: () => connected,
    ready(timeoutMs = 10_000) {
      if (connected) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`no WebSocket connection to ${deps.baseUrl} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        t.unref();
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
    subscribe(promptId, listener) {
      let set = listeners.get(promptId);
      if (!set) listeners.set(promptId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(promptId);
      };
    },
    drop() {
      // terminate() closes at once, so the 'close' handler runs before any reconnect is scheduled.
      ws?.terminate();
    },
    async close() {
      closed = true;
      clearInterval(pingTimer);
      clearTimeout(retryTimer);
      const s = ws;
      ws = undefined;
      connected = false;
      if (s && s.readyState !== s.CLOSED) {
        await new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.terminate();
        });
      }
    },
  };
}
