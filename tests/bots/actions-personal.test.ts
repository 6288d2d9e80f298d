import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Action, decodeAction, encodeAction } from '../../src/bots/actions.js';
import { selectedAction } from '../../src/bots/discord/components.js';

describe('button payloads for /settings, /me and favourites', () => {
  const id = randomUUID();
  const all: Array<[Action, string]> = [
    [{ kind: 'star', jobId: id }, `v1:s:${id}`],
    [{ kind: 'withdraw', jobId: id }, `v1:q:${id}`],
    [{ kind: 'me' }, 'v1:w:me'],
    [{ kind: 'page', page: 3, starred: true }, 'v1:t:3'],
    [{ kind: 'settings', view: 'aspect' }, 'v1:n:aspect'],
    [{ kind: 'setting', key: 'aspect', value: '16:9' }, 'v1:e:aspect=16%3A9'],
    [{ kind: 'setting', key: 'language', value: 'zh-TW', menu: 1 }, 'v1:e1:language=zh-TW'],
    [{ kind: 'setting', key: 'chat_spoilers', value: '-' }, 'v1:e:chat_spoilers=-'],
  ];

  it('round-trip, each within Telegram’s 64 bytes, leaving the older encodings as they were', () => {
    for (const [a, data] of all) {
      expect(encodeAction(a)).toBe(data);
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
      expect(decodeAction(data)).toEqual(a);
    }
    expect(decodeAction('v1:g:3')).toEqual({ kind: 'page', page: 3 });
    expect(encodeAction({ kind: 'page', page: 3 })).toBe('v1:g:3');
  });

  it('carry a setting’s value without colons, so a Discord select finds it again', () => {
    const data = encodeAction({ kind: 'setting', key: 'aspect', value: '100%:1', menu: 2 });
    const prefix = data.replace(/[^:]*$/, '');
    expect(prefix).toBe('v1:e2:');
    expect(selectedAction(`${prefix}select`, data.slice(prefix.length))).toBe(data);
    expect(decodeAction(data)).toEqual({ kind: 'setting', key: 'aspect', value: '100%:1', menu: 2 });
  });

  it('ignore payloads we did not make', () => {
    for (const junk of [
      'v1:w:you',
      'v1:n:ASPECT',
      'v1:e:aspect',
      'v1:e:aspect=16:9',
      `v1:e:aspect=${'x'.repeat(41)}`,
      'v1:t:x',
      `v1:s1:${id}`,
      'v1:q:../x',
    ])
      expect(decodeAction(junk)).toBeUndefined();
  });
});
