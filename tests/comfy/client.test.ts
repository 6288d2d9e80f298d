import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createComfyClient } from '../../src/comfy/client.js';
import { ComfyUnavailableError, OutputTooLargeError } from '../../src/comfy/errors.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { memoryLogger } from '../support/logger.js';

const ref = (filename: string) => ({ filename, subfolder: 'video', type: 'output' });

describe('downloading outputs from /view', () => {
  let comfy: FakeComfy;
  let dir: string;
  const { logger } = memoryLogger('warn');
  const video = randomBytes(20 * 1024);

  beforeEach(async () => {
    comfy = await startFakeComfy();
    comfy.putFile('ComfyUI_00001_.mp4', video, { subfolder: 'video' });
    dir = mkdtempSync(path.join(tmpdir(), 'relay-dl-'));
  });
  afterEach(async () => {
    await comfy.close();
  });

  it('finishes a slow but steady transfer that takes far longer than the idle timeout', async () => {
    // 20 pieces 60 ms apart: about 1.2 s in all, yet never 500 ms without a byte (a margin for a loaded machine).
    // The small calls' whole-request timeout is as short, and must not apply to downloads.
    comfy.scriptView({ chunkBytes: 1024, chunkDelayMs: 60, omitLength: true });
    const client = createComfyClient({
      baseUrl: comfy.url,
      logger,
      requestTimeoutMs: 500,
      downloadIdleTimeoutMs: 500,
    });
    const dest = path.join(dir, '01.mp4');
    expect(await client.download(ref('ComfyUI_00001_.mp4'), dest)).toBe(video.length);
    expect(readFileSync(dest).equals(video)).toBe(true);
    const sent = comfy.lastView();
    expect(sent?.bytes).toBe(video.length);
    expect((sent?.endedAt ?? 0) - (sent?.startedAt ?? 0)).toBeGreaterThan(500);
    expect(readdirSync(dir)).toEqual(['01.mp4']);
  });

  it('gives up on a transfer that stalls, as a retryable failure, and leaves no partial file', async () => {
    comfy.scriptView({ chunkBytes: 1024, stallAfterBytes: 3072 });
    const client = createComfyClient({ baseUrl: comfy.url, logger, downloadIdleTimeoutMs: 150 });
    const err = await client.download(ref('ComfyUI_00001_.mp4'), path.join(dir, '01.mp4')).catch((e) => e);
    expect(err).toBeInstanceOf(ComfyUnavailableError);
    expect(err.message).toBe(
      `ComfyUI at ${comfy.url} unavailable: download of ComfyUI_00001_.mp4 stalled: no data for 0.15 s after 3072 bytes`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a file above the size cap from its Content-Length, before reading it', async () => {
    const client = createComfyClient({ baseUrl: comfy.url, logger, downloadMaxBytes: 16 * 1024 });
    const err = await client.download(ref('ComfyUI_00001_.mp4'), path.join(dir, '01.mp4')).catch((e) => e);
    expect(err).toBeInstanceOf(OutputTooLargeError);
    expect(err).not.toBeInstanceOf(ComfyUnavailableError);
    expect(err.message).toMatchInlineSnapshot(`"output ComfyUI_00001_.mp4 is 20 KB, over the 16 KB download limit"`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stops at the size cap when no Content-Length was sent', async () => {
    comfy.scriptView({ chunkBytes: 4096, omitLength: true });
    const client = createComfyClient({ baseUrl: comfy.url, logger, downloadMaxBytes: 10_000 });
    const err = await client.download(ref('ComfyUI_00001_.mp4'), path.join(dir, '01.mp4')).catch((e) => e);
    expect(err).toBeInstanceOf(OutputTooLargeError);
    expect(err.message).toMatchInlineSnapshot(`"output ComfyUI_00001_.mp4 is over the 9 KB download limit"`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports a ComfyUI that cannot be reached as retryable', async () => {
    await comfy.down();
    const client = createComfyClient({ baseUrl: comfy.url, logger });
    const err = await client.download(ref('ComfyUI_00001_.mp4'), path.join(dir, '01.mp4')).catch((e) => e);
    expect(err).toBeInstanceOf(ComfyUnavailableError);
    await comfy.up();
    expect(await client.download(ref('ComfyUI_00001_.mp4'), path.join(dir, '01.mp4'))).toBe(video.length);
  });
});
