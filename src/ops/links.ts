import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Download links for results too large to upload to a chat: `${PUBLIC_URL}/files/<relative path>?exp=…&sig=…`,
 * an HMAC-SHA256 over path and expiry with a secret kept in STORAGE_DIR (made on first use, mode 600).
 * Unguessable without the secret; dead after the expiry.
 */
export interface LinkSigner {
  url(relativePath: string, now?: number): string;
  verify(relativePath: string, exp: string | null, sig: string | null, now?: number): boolean;
}

/** The link secret file is unusable; start refuses it rather than signing with a weak or empty key. */
export class LinkSecretError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(
      `the download link secret ${file} is ${problem}; delete it to have a new one made at start ` +
        '(links already sent stop working), or write at least 32 hex characters into it',
    );
    this.name = 'LinkSecretError';
  }
}

export function loadLinkSecret(storageDir: string): Buffer {
  const file = path.join(storageDir, 'link-secret');
  if (!existsSync(file)) {
    mkdirSync(storageDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  const text = readFileSync(file, 'utf8').trim();
  // Buffer.from(…, 'hex') silently stops at the first bad character: "" or "zz" would sign with an empty key.
  if (text === '') throw new LinkSecretError(file, 'empty');
  if (!/^(?:[0-9a-fA-F]{2}){16,}$/.test(text)) throw new LinkSecretError(file, 'not an even run of 32+ hex characters');
  return Buffer.from(text, 'hex');
}

export function createLinkSigner(deps: { secret: Buffer; publicUrl: string; ttlMs: number }): LinkSigner {
  const sign = (rel: string, exp: number) =>
    createHmac('sha256', deps.secret).update(`${rel}\n${exp}`).digest('base64url');
  return {
    url(rel, now = Date.now()) {
      const exp = Math.floor((now + deps.ttlMs) / 1000);
      return `${deps.publicUrl}/files/${rel.split('/').map(encodeURIComponent).join('/')}?exp=${exp}&sig=${sign(rel, exp)}`;
    },
    verify(rel, exp, sig, now = Date.now()) {
      if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return false;
      if (Number(exp) * 1000 < now) return false;
      const want = Buffer.from(sign(rel, Number(exp)));
      const got = Buffer.from(sig);
      return want.length === got.length && timingSafeEqual(want, got);
    },
  };
}
