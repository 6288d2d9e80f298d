import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../logger.js';
import type { LinkSigner } from '../ops/links.js';
import type { Metrics } from '../ops/metrics.js';
import { createReadiness, type ReadinessCheck } from '../ops/readiness.js';
import { mediaOf, type Storage } from '../storage.js';

/**
 * The process's HTTP server, started once by main.ts in every role (never by the CLI):
 * /healthz (the process answers), /readyz (the registered readiness checks), /metrics (Prometheus), and, once a
 * link signer is set, /files/outputs/<job id>/<file> behind signed, expiring links. Only names we generate are
 * served, only from STORAGE_DIR/outputs. A role may add a route of its own (the Telegram webhook), answered before
 * everything else for any method.
 */
export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

export interface HttpServer {
  readonly port: number;
  readonly metrics: Metrics;
  /** Adds a check to /readyz; the name is what a 503 reports ("redis", "sqlite", "comfy 127.0.0.1:8188"). */
  addReadiness(name: string, check: ReadinessCheck): void;
  /** Turns on /files/… download links. */
  setLinkSigner(signer: LinkSigner): void;
  /** Serves this exact path (any method) with the handler, e.g. the Telegram webhook; a second call replaces it. */
  addRoute(path: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

export interface HttpServerDeps {
  port: number;
  host: string;
  storage: Storage;
  metrics: Metrics;
  logger: Logger;
  signer?: LinkSigner;
  readinessTimeoutMs?: number;
}

const FILE_RE = /^\/files\/(outputs\/[0-9a-f-]{36}\/\d{2}\.[a-z0-9]{2,5})$/;

export async function startHttpServer(deps: HttpServerDeps): Promise<HttpServer> {
  const log = deps.logger.child({ module: 'http' });
  const readiness = createReadiness({ timeoutMs: deps.readinessTimeoutMs });
  let signer = deps.signer;
  const routes = new Map<string, RouteHandler>();

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    const route = routes.get(url.pathname);
    if (route) return route(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return end(res, 405, { allow: 'GET, HEAD' });
    if (url.pathname === '/healthz') return json(res, 200, { ok: true });
    if (url.pathname === '/readyz') {
      const report = await readiness.run();
      if (!report.ok) log.warn({ failing: report.failing, checks: report.checks }, 'not ready');
      return json(res, report.ok ? 200 : 503, report);
    }
    if (url.pathname === '/metrics') {
      const text = await deps.metrics.text();
      res.writeHead(200, { 'content-type': deps.metrics.contentType, 'cache-control': 'no-store' });
      return res.end(text);
    }
    if (signer && url.pathname.startsWith('/files/')) return serveFile(req, res, url, signer);
    return end(res, 404);
  }

  async function serveFile(req: http.IncomingMessage, res: http.ServerResponse, url: URL, links: LinkSigner) {
    const m = FILE_RE.exec(safeDecode(url.pathname) ?? '');
    if (!m) return end(res, 404);
    const rel = m[1] as string;
    if (!links.verify(rel, url.searchParams.get('exp'), url.searchParams.get('sig'))) return end(res, 403);
    // Open first, then stat the open descriptor: a file removed in between (retention) is a plain 404.
    let fh: FileHandle;
    try {
      fh = await open(deps.storage.resolveInside(rel), 'r');
    } catch (err) {
      if (isMissing(err)) return end(res, 404);
      throw err;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) return end(res, 404);
      res.writeHead(200, {
        'content-type': mediaOf(rel).mime,
        'content-length': st.size,
        'cache-control': 'private, max-age=3600',
        'x-content-type-options': 'nosniff',
      });
      if (req.method === 'HEAD') return res.end();
      // pipeline destroys both sides when either fails, so a client leaving mid-download closes the file too.
      await pipeline(fh.createReadStream({ autoClose: true }), res).catch((err) => {
        if (res.destroyed && !res.writableFinished) log.debug({ err: { message: err.message } }, 'download aborted');
        else throw err;
      });
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      log.error({ err, path: req.url?.split('?')[0] }, 'http request failed');
      end(res, 500);
    });
  });
  await new Promise<void>((resolve, reject) => {
    const refuse = (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `the HTTP server could not listen on ${deps.host}:${deps.port} (${err.code ?? err.message}); ` +
            'set HTTP_PORT / HTTP_HOST',
          { cause: err },
        ),
      );
    server.once('error', refuse);
    server.listen(deps.port, deps.host, () => {
      server.off('error', refuse);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'http server error'));
  const port = (server.address() as AddressInfo).port;
  log.info({ host: deps.host, port }, 'http server listening');

  return {
    port,
    metrics: deps.metrics,
    addReadiness: (name, check) => readiness.add(name, check),
    setLinkSigner(s) {
      signer = s;
    },
    addRoute(path, handler) {
      routes.set(path, handler);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets would hold close() open until they time out; downloads in flight may finish.
        server.closeIdleConnections();
      }),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Ends a response, or drops the connection when the headers have already gone out (a failure mid-stream). */
function end(res: http.ServerResponse, status: number, headers: Record<string, string> = {}) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, headers);
  res.end();
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
