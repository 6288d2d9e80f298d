import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { LinkSigner } from '../ops/links.js';
import { mediaOf, type Storage } from '../storage.js';

/**
 * A small HTTP server for the frontends: /healthz, and /files/outputs/<job id>/<file> behind signed, expiring
 * links (for results too large for a chat). Only names we generate are served, only from STORAGE_DIR/outputs.
 */
export async function startHttpServer(deps: {
  port: number;
  host?: string;
  storage: Storage;
  signer: LinkSigner;
  logger: Logger;
}) {
  const log = deps.logger.child({ module: 'http' });
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method !== 'GET' && req.method !== 'HEAD') return end(res, 405);
      if (url.pathname === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"ok":true}');
      }
      const m = /^\/files\/(outputs\/[0-9a-f-]{36}\/\d{2}\.[a-z0-9]{2,5})$/.exec(decodeURIComponent(url.pathname));
      if (!m) return end(res, 404);
      const rel = m[1] as string;
      if (!deps.signer.verify(rel, url.searchParams.get('exp'), url.searchParams.get('sig'))) return end(res, 403);
      const file = deps.storage.resolveInside(rel);
      const st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) return end(res, 404);
      res.writeHead(200, {
        'content-type': mediaOf(file).mime,
        'content-length': st.size,
        'cache-control': 'private, max-age=3600',
        'x-content-type-options': 'nosniff',
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
    })().catch((err) => {
      log.error({ err }, 'http request failed');
      end(res, 500);
    });
  });
  await new Promise<void>((r) => server.listen(deps.port, deps.host ?? '0.0.0.0', r));
  const port = (server.address() as AddressInfo).port;
  log.info({ port }, 'http server listening');
  return {
    port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function end(res: http.ServerResponse, status: number) {
  res.writeHead(status);
  res.end();
}
