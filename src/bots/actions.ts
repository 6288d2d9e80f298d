/**
 * Button payloads: `v1:<action>:<arg>`, never parameters (prompt, seed, … are looked up in history).
 * A job id (36 chars) plus the prefix stays under Telegram's 64-byte callback_data and Discord's 100-char custom_id.
 */
export type Action =
  | { kind: 'cancel'; jobId: string }
  | { kind: 'reroll'; jobId: string }
  | { kind: 'remix'; jobId: string }
  | { kind: 'upscale'; jobId: string; index: number }
  | { kind: 'page'; page: number }
  | { kind: 'open'; jobId: string };

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
    case 'page':
      return `v1:g:${a.page}`;
    case 'open':
      return `v1:o:${a.jobId}`;
  }
}

/** undefined for anything we did not make (old versions, other bots, tampering). */
export function decodeAction(data: string | undefined): Action | undefined {
  const m = /^v1:([a-z])(\d{0,2}):(.+)$/.exec(data ?? '');
  if (!m) return undefined;
  const [, k, n, arg] = m as unknown as [string, string, string, string];
  if (k === 'g') return /^\d{1,4}$/.test(arg) ? { kind: 'page', page: Number(arg) } : undefined;
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
    case 'u':
      return n ? { kind: 'upscale', jobId: arg, index: Number(n) } : undefined;
    default:
      return undefined;
  }
}
