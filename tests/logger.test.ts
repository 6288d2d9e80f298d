import { describe, expect, it } from 'vitest';
import { memoryLogger } from './support/logger.js';

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
});
