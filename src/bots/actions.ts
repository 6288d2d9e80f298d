/**
 * Button payloads: `v1:<action>:<arg>`, never parameters (prompt, seed, … are looked up in history).
 * A job id (36 chars) plus the prefix stays under Telegram's 64-byte callback_data and Discord's 100-char custom_id.
 */
export type Action =
  | { kind: 'cancel'; jobId: string }
  | { kind: 'reroll'; jobId: string }
  | { kind: 'remix'; jobId: string }
  | { kind: 'upscale'; jobId: string; index: number }
  /** The n-th (1-based) follow-up declared by the job's manifest, on result image `index`: `v1:f<index><n>:<job>`. */
  | { kind: 'follow_up'; jobId: string; index: number; n: number }
  /** Result image `index` as the untouched file (a document), where the chat got a recompressed photo. */
  | { kind: 'original'; jobId: string; index: number }
  /** /gallery paging; `starred`: the favourites only (`v1:t:<page>`). */
  | { kind: 'page'; page: number; starred?: boolean }
  | { kind: 'open'; jobId: string }
  /** ⭐ under a result: star or unstar it (favourites). */
  | { kind: 'star'; jobId: string }
  /** /me's Cancel: cancel the job, then draw /me again. */
  | { kind: 'withdraw'; jobId: string }
  /** /me again, with the queue positions as they are now. */
  | { kind: 'me' }
  /** A /settings pick, `v1:e<menu>:<key>=<value>`; `menu` only tells the dropdowns of one message apart. */
  | { kind: 'setting'; key: string; value: string; menu?: number }
  /** A /settings view in place: `main`, or one setting's choices. */
  | { kind: 'settings'; view: string };

const JOB = /^[0-9a-f-]{8,36}$/;

export function encodeAction(a: Action): string {
  switch (a.kind) {
    case 'cancel':
      return `v1:c:${a.jobId}`;
    case 'reroll':
      return `v1:r:${a.jobId}`;
    case 'remix':
      return `v1:m:${a.jobId}`;
    case 'upscale':
      return `v1:u${a.index}:${a.jobId}`;
    case 'follow_up':
      return `v1:f${a.index}${a.n}:${a.jobId}`;
    case 'original':
      return `v1:d${a.index}:${a.jobId}`;
    case 'page':
      return a.starred ? `v1:t:${a.page}` : `v1:g:${a.page}`;
    case 'open':
      return `v1:o:${a.jobId}`;
    case 'star':
      return `v1:s:${a.jobId}`;
    case 'withdraw':
      return `v1:q:${a.jobId}`;
    case 'me':
      return 'v1:w:me';
    case 'setting':
      return `v1:e${a.menu ?? ''}:${a.key}=${escapeValue(a.value)}`;
    case 'settings':
      return `v1:n:${a.view}`;
  }
}

/** undefined for anything we did not make (old versions, other bots, tampering). */
export function decodeAction(data: string | undefined): Action | undefined {
  const m = /^v1:([a-z])(\d{0,2}):(.+)$/.exec(data ?? '');
  if (!m) return undefined;
  const [, k, n, arg] = m as unknown as [string, string, string, string];
  if (k === 'g') return /^\d{1,6}$/.test(arg) ? { kind: 'page', page: Number(arg) } : undefined;
  if (k === 't') return /^\d{1,6}$/.test(arg) && !n ? { kind: 'page', page: Number(arg), starred: true } : undefined;
  if (k === 'w') return arg === 'me' && !n ? { kind: 'me' } : undefined;
  if (k === 'n') return /^[a-z_]{1,13}$/.test(arg) && !n ? { kind: 'settings', view: arg } : undefined;
  if (k === 'e') return decodeSetting(n, arg);
  if (!JOB.test(arg)) return undefined;
  switch (k) {
    case 'c':
      return { kind: 'cancel', jobId: arg };
    case 'r':
      return { kind: 'reroll', jobId: arg };
    case 'm':
      return { kind: 'remix', jobId: arg };
    case 'o':
      return { kind: 'open', jobId: arg };
    case 's':
      return n ? undefined : { kind: 'star', jobId: arg };
    case 'q':
      return n ? undefined : { kind: 'withdraw', jobId: arg };
    case 'u':
      return n ? { kind: 'upscale', jobId: arg, index: Number(n) } : undefined;
    case 'f':
      return /^[1-9][1-9]$/.test(n)
        ? { kind: 'follow_up', jobId: arg, index: Number(n[0]), n: Number(n[1]) }
        : undefined;
    case 'd':
      return /^[1-9]$/.test(n) ? { kind: 'original', jobId: arg, index: Number(n) } : undefined;
    default:
      return undefined;
  }
}

/**
 * A setting's value travels without colons (Discord splits a select's id at its last colon) and in printable ASCII
 * of at most 40 characters, so `v1:e<menu>:<key>=<value>` stays within Telegram's 64 bytes.
 */
const escapeValue = (v: string) => v.replace(/%/g, '%25').replace(/:/g, '%3A');
const unescapeValue = (v: string) => v.replace(/%3A/g, ':').replace(/%25/g, '%');

function decodeSetting(n: string, arg: string): Action | undefined {
  const m = /^([a-z_]{1,13})=([!-9;-~]{1,40})$/.exec(arg);
  if (!m) return undefined;
  const setting = { kind: 'setting' as const, key: m[1] as string, value: unescapeValue(m[2] as string) };
  return n ? { ...setting, menu: Number(n) } : setting;
}
