import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { startHttpServer } from '../../src/app/http-role.js';
import { openDb } from '../../src/history/db.js';
import { createLinkSigner, loadLinkSecret } from '../../src/ops/links.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { redisCheck, sqliteCheck } from '../../src/ops/readiness.js';
import { createRedis } from '../../src/queue/redis.js';
import { createStorage } from '../../src/storage.js';
import { memoryLogger } from '../support/logger.js';
import { parseMetrics } from '../support/prometheus.js';

const dir = mkdtempSync(path.join(tmpdir(), 'http-role-'));
const signer = createLinkSigner({ secret: loadLinkSecret(dir), publicUrl: 'http://placeholder', ttlMs: 3_600_000 });
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function start(opts: { withSigner?: boolean } = {}) {
  const metrics = createMetrics({ workflows: ['imagine'], defaultMetrics: false });
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    storage: createStorage(dir),
    metrics,
    logger: memoryLogger('silent').logger,
    signer: opts.withSigner === false ? undefined : signer,
    readinessTimeoutMs: 2000,
  });
  closers.push(() => server.close());
  const base = `http://127.0.0.1:${server.port}`;
  return { server, base, link: (rel: string) => signer.url(rel).replace('http://placeholder', base) };
}

/** A stored output, as the worker writes it. */
function output(bytes: number, ext = 'mp4') {
  const rel = `outputs/${randomUUID()}/01.${ext}`;
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), Buffer.alloc(bytes, 7));
  return { rel, file: path.join(dir, rel) };
}

/** A port nothing listens on. */
async function closedPort() {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function redisAt(url: string) {
  const redis = createRedis(url, 'producer');
  redis.connect().catch(() => undefined);
  closers.push(() => redis.disconnect());
  return redis;
}

const openFds = () => readdirSync('/proc/self/fd');
const fdsOn = (file: string) =>
  openFds().filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;

describe('the HTTP server every role runs', () => {
  it('answers /healthz', async () => {
    const { base } = await start();
    const res = await fetch(`${base}/healthz`);
    expect([res.status, await res.json()]).toEqual([200, { ok: true }]);
  });

  it('serves /metrics in the Prometheus text format with prom-client’s content type', async () => {
    const { base, server } = await start();
    server.metrics.jobFinished('imagine', 'succeeded', 3);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toBe(server.metrics.contentType);
    const families = parseMetrics(await res.text());
    const done = families
      .get('comfy_relay_jobs_total')
      ?.metrics.find((s) => s.labels?.outcome === 'succeeded' && s.labels.workflow === 'imagine');
    expect(done?.value).toBe('1');
  });

  it('is ready when Redis and SQLite answer', async () => {
    const { base, server } = await start();
    const redis = redisAt(inject('redisUrl'));
    await vi.waitFor(() => expect(redis.status).toBe('ready'));
    const db = openDb(path.join(dir, `${randomUUID()}.db`));
    closers.push(() => db.close());
    server.addReadiness('redis', redisCheck(redis));
    server.addReadiness('sqlite', sqliteCheck(db));
    const res = await fetch(`${base}/readyz`);
    const body = (await res.json()) as { ok: boolean; failing: string[]; checks: Record<string, { ok: boolean }> };
    expect([res.status, body.ok, body.failing, body.checks.redis?.ok, body.checks.sqlite?.ok]).toEqual([
      200,
      true,
      [],
      true,
      true,
    ]);
  });

  it('answers 503 naming Redis when Redis does not answer', async () => {
    const { base, server } = await start();
    const db = openDb(':memory:');
    closers.push(() => db.close());
    server.addReadiness('redis', redisCheck(redisAt(`redis://127.0.0.1:${await closedPort()}`)));
    server.addReadiness('sqlite', sqliteCheck(db));
    const res = await fetch(`${base}/readyz`);
    const body = (await res.json()) as { failing: string[]; checks: Record<string, { ok: boolean; error?: string }> };
    expect(res.status).toBe(503);
    expect(body.failing).toEqual(['redis']);
    expect(body.checks.redis?.error).toMatch(/^connection is (connecting|reconnecting|close|end)$/);
    expect(body.checks.sqlite?.ok).toBe(true);
  });

  it('serves download links only once a link signer is set', async () => {
    const { base, server, link } = await start({ withSigner: false });
    const { rel } = output(1234);
    expect((await fetch(link(rel))).status).toBe(404);
    server.setLinkSigner(signer);
    const res = await fetch(link(rel));
    expect([res.status, res.headers.get('content-type'), (await res.arrayBuffer()).byteLength]).toEqual([
      200,
      'video/mp4',
      1234,
    ]);
    expect((await fetch(`${base}/files/outputs/%E0%A4%A/01.mp4`)).status).toBe(404);
  });

  it('answers 404 for a file that vanished after its link was made, and keeps serving', async () => {
    const { base, link } = await start();
    const { rel, file } = output(100);
    rmSync(file);
    expect((await fetch(link(rel))).status).toBe(404);
    expect((await fetch(link(rel), { method: 'HEAD' })).status).toBe(404);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('leaves no descriptor open after 100 downloads aborted halfway, and still answers', async () => {
    const { base, link } = await start();
    // Far larger than the loopback socket buffers, so every download is still streaming when the client leaves.
    const { rel, file } = output(16 * 1024 * 1024);
    const url = link(rel);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const before = openFds().length;

    const abortOne = () =>
      new Promise<void>((resolve, reject) => {
        const req = http.get(url, { agent: false }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
      });
    for (let batch = 0; batch < 10; batch++) await Promise.all(Array.from({ length: 10 }, abortOne));

    await vi.waitFor(() => expect(fdsOn(file)).toBe(0), { timeout: 10_000, interval: 50 });
    await vi.waitFor(() => expect(openFds().length).toBeLessThanOrEqual(before), { timeout: 10_000, interval: 50 });
    const res = await fetch(url, { method: 'HEAD' });
    expect([res.status, res.headers.get('content-length')]).toEqual([200, String(16 * 1024 * 1024)]);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('refuses to start on a port in use, naming the setting', async () => {
    const { server } = await start();
    await expect(
      startHttpServer({
        port: server.port,
        host: '127.0.0.1',
        storage: createStorage(dir),
        metrics: createMetrics({ defaultMetrics: false }),
        logger: memoryLogger('silent').logger,
      }),
    ).rejects.toThrow(/could not listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\); set HTTP_PORT/);
  });
});
