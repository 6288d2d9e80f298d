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

export function loadLinkSecret(storageDir: string): Buffer {
  const file = path.join(storageDir, 'link-secret');
  if (!existsSync(file)) {
    mkdirSync(storageDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
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
