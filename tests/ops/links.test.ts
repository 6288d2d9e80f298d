import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/app/http-role.js';
import { createLinkSigner, LinkSecretError, loadLinkSecret } from '../../src/ops/links.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createStorage } from '../../src/storage.js';
import { memoryLogger } from '../support/logger.js';

describe('download links for results too large for a chat', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'links-'));
  const jobId = randomUUID();
  const rel = `outputs/${jobId}/01.mp4`;
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  let base: string;
  const signer = createLinkSigner({ secret: loadLinkSecret(dir), publicUrl: 'http://placeholder', ttlMs: 3_600_000 });
  const local = (url: string) => url.replace('http://placeholder', base);

  beforeAll(async () => {
    mkdirSync(path.join(dir, 'outputs', jobId), { recursive: true });
    writeFileSync(path.join(dir, rel), Buffer.alloc(1234, 1));
    server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      storage: createStorage(dir),
      signer,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: memoryLogger().logger,
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server.close());

  it('keeps its secret private and stable', () => {
    expect(statSync(path.join(dir, 'link-secret')).mode & 0o777).toBe(0o600);
    expect(loadLinkSecret(dir).equals(loadLinkSecret(dir))).toBe(true);
  });

  it('refuses an empty or malformed secret at start, naming the file', () => {
    for (const [text, problem] of [
      ['', 'empty'],
      ['\n', 'empty'],
      ['zz'.repeat(32), 'not an even run of 32+ hex characters'],
      ['abc', 'not an even run of 32+ hex characters'],
    ] as const) {
      const other = mkdtempSync(path.join(tmpdir(), 'links-bad-'));
      writeFileSync(path.join(other, 'link-secret'), text);
      const err = (() => {
        try {
          loadLinkSecret(other);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(LinkSecretError);
      expect((err as Error).message).toBe(
        `the download link secret ${path.join(other, 'link-secret')} is ${problem}; delete it to have a new one made ` +
          'at start (links already sent stop working), or write at least 32 hex characters into it',
      );
    }
  });

  it('serves a file through a signed link', async () => {
    const res = await fetch(local(signer.url(rel)));
    expect([res.status, res.headers.get('content-type'), (await res.arrayBuffer()).byteLength]).toEqual([
      200,
      'video/mp4',
      1234,
    ]);
  });

  it('refuses tampered, expired and foreign links', async () => {
    const url = signer.url(rel);
    expect((await fetch(local(url.replace(/sig=./, 'sig=A')))).status).toBe(403);
    expect((await fetch(local(signer.url(rel, Date.now() - 2 * 3_600_000)))).status).toBe(403);
    const other = url.replace('01.mp4', '02.mp4');
    expect((await fetch(local(other))).status).toBe(403);
    expect((await fetch(`${base}/files/outputs/../link-secret?exp=1&sig=x`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
