import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAccess } from '../../src/bots/access.js';
import { decodeAction, encodeAction, type Action } from '../../src/bots/actions.js';

describe('button payloads', () => {
  const id = randomUUID();
  const all: Action[] = [
    { kind: 'cancel', jobId: id },
    { kind: 'reroll', jobId: id },
    { kind: 'remix', jobId: id },
    { kind: 'upscale', jobId: id, index: 4 },
    { kind: 'follow_up', jobId: id, index: 4, n: 3 },
    { kind: 'original', jobId: id, index: 2 },
    { kind: 'page', page: 12 },
    // A heavy user's gallery runs past ten thousand pages.
    { kind: 'page', page: 10_643 },
    { kind: 'page', page: 10_643, starred: true },
    { kind: 'open', jobId: id },
  ];

  it('round-trips every action within Telegram’s 64 bytes', () => {
    for (const a of all) {
      const data = encodeAction(a);
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
      expect(decodeAction(data)).toEqual(a);
    }
  });

  it('ignores payloads we did not make', () => {
    for (const junk of ['', 'v2:c:' + id, 'v1:c:../../etc', 'v1:u:' + id, 'v1:g:abc', 'v1:x:' + id, undefined])
      expect(decodeAction(junk)).toBeUndefined();
    // A follow-up needs an image number and a follow-up number (both from 1); the original an image number.
    for (const junk of ['v1:f:', 'v1:f1:', 'v1:f01:', 'v1:f10:', 'v1:d:', 'v1:d0:', 'v1:d12:'])
      expect(decodeAction(junk + id)).toBeUndefined();
  });

  it('encodes a follow-up as the image and the follow-up’s place, nothing else', () => {
    expect(encodeAction({ kind: 'follow_up', jobId: id, index: 1, n: 2 })).toBe(`v1:f12:${id}`);
    expect(encodeAction({ kind: 'original', jobId: id, index: 3 })).toBe(`v1:d3:${id}`);
    expect(decodeAction(`v1:f41:${id}`)).toEqual({ kind: 'follow_up', jobId: id, index: 4, n: 1 });
  });
});

describe('access rules', () => {
  it('lets everyone in without allowlists, and admins always', () => {
    const open = createAccess({ admins: ['telegram:1'], allowedUsers: [], allowedChats: [] });
    expect(open.isAllowed('telegram', '5', '-100')).toBe(true);
    expect(open.isAdmin('telegram', '1')).toBe(true);
    expect(open.isAdmin('discord', '1')).toBe(false);
  });

  it('needs both the user and the chat (any of its ids) on their lists', () => {
    const closed = createAccess({ admins: ['discord:9'], allowedUsers: ['discord:5'], allowedChats: ['discord:777'] });
    expect(closed.isAllowed('discord', '5', ['123', '777'])).toBe(true); // channel 123 in guild 777
    expect(closed.isAllowed('discord', '5', ['123'])).toBe(false);
    expect(closed.isAllowed('discord', '6', ['777'])).toBe(false);
    expect(closed.isAllowed('discord', '9', ['1'])).toBe(true);
  });
});
