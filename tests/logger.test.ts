import { Bot } from 'grammy';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { freePort } from '../src/app/embedded-redis.js';
import { scrubSecrets } from '../src/logger.js';
import { memoryLogger } from './support/logger.js';

// Valid-shaped fakes: a real token of either platform would be scrubbed the same way.
const TELEGRAM_TOKEN = '123456789:AAHfakeFAKEfake_fake-FAKEfakeFAKEfak';
const DISCORD_TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.fakefakefakefakefakefakefakefake12';

async function thrownBy(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('logging', () => {
  it('redacts tokens, authorization headers and request URLs of errors', () => {
    const { logger, lines } = memoryLogger();
    const err = Object.assign(new Error('Invalid Webhook Token'), {
      url: 'https://discord.com/api/v10/webhooks/1/secret-token/messages/@original',
    });
    logger.info(
      { token: 'abc', headers: { authorization: 'Bot xyz' }, err, config: { telegram: { token: '123:ABC' } } },
      'x',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['abc', 'Bot xyz', 'secret-token', '123:ABC']) expect(text).not.toContain(secret);
    expect(lines[0]?.msg).toBe('x');
  });

  it('keeps a Telegram token out of the log when grammY quotes it in a network error', async () => {
    const port = await freePort(); // nothing listens there: a real ECONNREFUSED
    const bot = new Bot(TELEGRAM_TOKEN, { client: { apiRoot: `http://127.0.0.1:${port}` } });
    const err = await thrownBy(() => bot.api.getMe());
    // The test can fail: grammY really does carry the token in the error it throws.
    expect(JSON.stringify(err)).toContain(TELEGRAM_TOKEN);

    const { logger, lines } = memoryLogger();
    logger.error({ err }, 'telegram unreachable');
    logger.error({ err: { nested: [(err as { error?: Error }).error?.message] } }, `getMe failed: ${String(err)}`);
    const text = JSON.stringify(lines);
    expect(text).toContain('ECONNREFUSED');
    expect(text).not.toContain(TELEGRAM_TOKEN);
    expect(text).not.toContain(TELEGRAM_TOKEN.split(':')[1]);
  });

  it('keeps a Redis password out of the log, in the message, the stack and nested fields', async () => {
    const url = `redis://:s3cret-Passw0rd@127.0.0.1:${await freePort()}`;
    const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined);
    const cause = await thrownBy(() => redis.connect());
    redis.disconnect();
    const err = new Error(`could not reach Redis at ${url}`, { cause });

    const { logger, lines } = memoryLogger();
    logger.error({ err, target: { urls: [url] } }, `redis down: ${url}`);
    const text = JSON.stringify(lines);
    expect(text).not.toContain('s3cret-Passw0rd');
    expect(lines[0]?.msg).toBe(`redis down: redis://[redacted]@${url.split('@')[1]}`);
  });

  it('keeps Discord tokens out: bot tokens, authorization text and interaction webhook routes', () => {
    const { logger, lines } = memoryLogger();
    const err = new Error(
      `PATCH /webhooks/100000000000000001/aW50ZXJhY3Rpb246MTIzOnNlY3JldA/messages/@original failed; used Bot ${DISCORD_TOKEN}`,
    );
    logger.warn({ err }, `login with ${DISCORD_TOKEN} failed`);
    const text = JSON.stringify(lines);
    expect(text).not.toContain(DISCORD_TOKEN);
    expect(text).not.toContain('aW50ZXJhY3Rpb246MTIzOnNlY3JldA');
    expect(text).toContain('/webhooks/100000000000000001/[redacted]/messages');
  });

  it('leaves ordinary text alone', () => {
    const text =
      'job 3f2c9a1e-1b2c-4d5e-8f90-123456789abc at 12:34:56 on http://127.0.0.1:8188/prompt, 42 files, v1.2.3';
    expect(scrubSecrets(text)).toBe(text);
    expect(scrubSecrets(`see https://api.telegram.org/file/bot${TELEGRAM_TOKEN}/photos/1.jpg`)).toMatchInlineSnapshot(
      `"see https://api.telegram.org/file/bot[redacted]/photos/1.jpg"`,
    );
  });
});
