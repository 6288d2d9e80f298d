import { deflateSync } from 'node:zlib';
import type { Param } from '../../src/comfy/manifest.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import { en } from '../../src/i18n/en.js';
import type { Locale } from '../../src/i18n/index.js';
import { zhTW } from '../../src/i18n/zh-TW.js';

/**
 * Building blocks of the bad-input fuzz (tests/e2e/fuzz-inputs.test.ts): a seeded PRNG so every run sends the same
 * inputs, the unicode and file shapes users (or clients) really produce, and the checks every answer must pass:
 * written in the asker's language, never the internal-error text.
 * One file over 300 lines: the generators and the checks share the character sets and the catalog they judge by.
 */

/** sfc32: small, fast and well distributed; the seed alone decides every input. */
export function createRng(seed: number) {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const r = (a + b + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + r) >>> 0;
    return r / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  return {
    next,
    int,
    pick,
    chance: (p: number) => next() < p,
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => int(0, 255))),
    /** `n` items drawn from `alphabet` (strings of code points). */
    from: (alphabet: readonly string[], n: number) => Array.from({ length: n }, () => pick(alphabet)).join(''),
    hex: (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(0, 15)]).join(''),
  };
}
export type Rng = ReturnType<typeof createRng>;

// ---- text that shows nothing, and text that shows a lot ----

export const ZERO_WIDTH = ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF'];
export const BIDI = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'];
/** C0 controls and DEL, tab and line breaks left out (they are whitespace). */
export const CONTROLS = [
  ...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).filter((c) => !'\t\n\r'.includes(c)),
  '\u007F',
];
export const SPACES = [' ', '\t', '\n', '\u00A0', '\u3000', '\u2003'];
/** Other characters that draw nothing: Hangul fillers, braille blank, soft hyphen, word joiner look-alikes. */
export const FILLERS = ['\u3164', '\u115F', '\u1160', '\uFFA0', '\u2800', '\u00AD', '\u180E'];

export const VISIBLE_WEIRD = [
  '🦊',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  '雪地裡的紅狐狸',
  'лиса',
  'ثعلب',
  'שועל',
  'लोमड़ी',
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  '𝔣𝔬𝔵',
  'ＦＵＬＬ',
  'e\u0301',
  '\uD83E',
  'a\u0000b',
  'x\u202Ey',
];

// ---- files that are not what they say ----

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function crc32(buf: Buffer) {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
const chunk = (type: string, data: Buffer) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
};

/** A PNG header that claims `w`×`h` pixels, with one tiny (wrong-sized) data chunk: a decompression-bomb shape. */
export function pngClaiming(w: number, h: number) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Bytes that are not a usable picture, each with a label for the tally. */
export function badImage(rng: Rng, validPng: Buffer): { label: string; bytes: Buffer } {
  switch (rng.int(0, 8)) {
    case 0:
      return { label: 'random bytes', bytes: rng.bytes(rng.int(1, 4096)) };
    case 1:
      return { label: 'truncated png', bytes: validPng.subarray(0, rng.int(9, validPng.length - 20)) };
    case 2:
      return { label: 'text named png', bytes: Buffer.from(`not a picture ${rng.hex(12)}\n`.repeat(rng.int(1, 40))) };
    case 3:
      return { label: 'png signature + garbage', bytes: Buffer.concat([PNG_SIGNATURE, rng.bytes(rng.int(0, 600))]) };
    case 4:
      return { label: 'jpeg SOI + garbage', bytes: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), rng.bytes(300)]) };
    case 5:
      return {
        label: 'gif header + garbage',
        bytes: Buffer.concat([Buffer.from('GIF89a'), rng.bytes(rng.int(0, 200))]),
      };
    case 6: {
      const riff = Buffer.from(`RIFF\0\0\0\0WEBPVP8 ${rng.hex(8)}`, 'latin1');
      return { label: 'webp header + garbage', bytes: Buffer.concat([riff, rng.bytes(100)]) };
    }
    case 7:
      return { label: 'png claiming 60000x60000', bytes: pngClaiming(60_000, 60_000) };
    default: {
      const flipped = Buffer.from(validPng);
      for (let i = 0; i < 12; i++) {
        const at = rng.int(40, flipped.length - 1);
        flipped[at] = (flipped[at] as number) ^ 0xff;
      }
      return { label: 'png with flipped bytes', bytes: flipped.subarray(0, Math.max(60, flipped.length - 30)) };
    }
  }
}

/** Bytes sent as audio that are not audio we can use. */
export function badAudio(rng: Rng, validPng: Buffer): { label: string; bytes: Buffer } {
  switch (rng.int(0, 5)) {
    case 0:
      return { label: 'random bytes', bytes: rng.bytes(rng.int(1, 4096)) };
    case 1:
      return { label: 'a png', bytes: validPng };
    case 2:
      return { label: 'text', bytes: Buffer.from('this is not a voice message'.repeat(rng.int(1, 20))) };
    case 3:
      return { label: 'ogg magic + garbage', bytes: Buffer.concat([Buffer.from('OggS'), rng.bytes(500)]) };
    case 4:
      return {
        label: 'id3 tag + garbage',
        bytes: Buffer.concat([Buffer.from('ID3\x03\x00\x00\x00\x00\x00\x10'), rng.bytes(300)]),
      };
    default: {
      // A WAV header that promises data it does not have: zero length, so no duration.
      const b = Buffer.alloc(44);
      b.write('RIFF', 0, 'latin1');
      b.writeUInt32LE(36, 4);
      b.write('WAVEfmt ', 8, 'latin1');
      b.writeUInt32LE(16, 16);
      b.writeUInt16LE(1, 20);
      b.writeUInt16LE(1, 22);
      b.writeUInt32LE(8000, 24);
      b.writeUInt32LE(16000, 28);
      b.writeUInt16LE(2, 32);
      b.writeUInt16LE(16, 34);
      b.write('data', 36, 'latin1');
      return { label: 'wav without samples', bytes: b };
    }
  }
}

// ---- what every answer must be ----

const CJK = /[\u3400-\u9FFF\uF900-\uFAFF\u3000-\u303F\uFF00-\uFFEF]/;

/** Words that may stay Latin in a Chinese answer: names the user types or reads elsewhere, formats, units. */
function identifiers(): Set<string> {
  const words = new Set(
    [
      'number string int float undefined null boolean object array bigint nan infinity instanceof symbol',
      'png jpeg jpg webp gif mp mp3 wav ogg opus m4a flac mb comfyui gpu codeformer worker workers',
      'imagine edit upscale blend sketch talk video faceswap gallery remix cancel models help status start',
      'ReActorFaceSwap job page id ref url dark light on off',
    ]
      .join(' ')
      .toLowerCase()
      .split(/\s+/),
  );
  for (const wf of loadWorkflows('workflows').values()) {
    words.add(wf.name.toLowerCase());
    for (const p of wf.manifest.params) for (const n of [p.name, ...p.aliases]) words.add(n.toLowerCase());
  }
  return words;
}
const IDENTIFIERS = identifiers();

/**
 * Why `text` is not a proper answer to someone speaking `locale`, or undefined. `echo` is what the user typed: it
 * may come back (an unknown option's name, a job id) and does not count as the bot's own words.
 */
export function languageProblem(text: string, locale: Locale, echo: string): string | undefined {
  if (!text.trim()) return 'empty answer';
  if (/Something went wrong \(ref|發生錯誤（參考編號/.test(text)) return 'internal error answer';
  const typed = new Set((echo.match(/[A-Za-z]+/g) ?? []).map((w) => w.toLowerCase()));
  if (locale === 'en') {
    const withoutEcho = [...echo].reduce((s, c) => (CJK.test(c) ? s.replaceAll(c, '') : s), text);
    return CJK.test(withoutEcho) ? 'Chinese in an English answer' : undefined;
  }
  // The Chinese must be the bot's own, not a quote of what the user typed; job ids are hex, not words.
  const echoFree = [...new Set(echo.split(/\s+/).filter((w) => CJK.test(w)))]
    .sort((a, b) => b.length - a.length)
    .reduce((s, w) => s.replaceAll(w, ' '), text)
    .replace(/\b[0-9a-f][0-9a-f-]{7,35}\b/gi, ' ');
  if (!CJK.test(echoFree)) return 'no Chinese in a zh-TW answer';
  // Example command lines (`/imagine a red fox in snow`) are meant to be copied as they are: prompts stay English.
  const prose = echoFree
    .split('\n')
    .filter((line) => !/^\/[a-z]/.test(line.trim()))
    .join('\n');
  const english = (prose.match(/[A-Za-z]{2,}/g) ?? []).filter(
    (w) => !typed.has(w.toLowerCase()) && !IDENTIFIERS.has(w.toLowerCase()),
  );
  return english.length ? `English in a zh-TW answer: ${english.slice(0, 8).join(' ')}` : undefined;
}

/**
 * A pattern for the catalog texts of `keys` in `locale`: each text up to its first parameter (the wording differs with
 * optional parts, so only what comes before is pinned), or the whole text when it has none. Keys a catalog does not
 * (or no longer) have are left out; when none is left, anything matches.
 */
export function textOf(locale: Locale, keys: readonly string[]): RegExp {
  const HOLE = '\u0001';
  const params = new Proxy({} as Record<string, string>, { get: () => HOLE, has: () => true });
  const catalog: Record<string, string | ((p: Record<string, string>) => string)> = locale === 'en' ? en : zhTW;
  const literal = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alternatives = keys.flatMap((key) => {
    const entry = catalog[key];
    if (entry === undefined) return [];
    const text = typeof entry === 'function' ? entry(params) : entry;
    const at = text.indexOf(HOLE);
    if (at < 0) return [`${literal(text)}$`];
    return [at > 0 ? literal(text.slice(0, at)) : text.split(HOLE).map(literal).join('[\\s\\S]*')];
  });
  return alternatives.length ? new RegExp(`^(?:${alternatives.join('|')})`) : /[\s\S]*/;
}

/** Counts per category, printed with the seed so a failing run can be replayed (FUZZ_SEED=…). */
export function tally() {
  const counts = new Map<string, number>();
  return {
    add(category: string) {
      counts.set(category, (counts.get(category) ?? 0) + 1);
    },
    get total() {
      return [...counts.values()].reduce((a, b) => a + b, 0);
    },
    summary: () =>
      [...counts.entries()]
        .sort()
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
  };
}

// ---- typed values that a parameter must refuse ----

/** A bad value for `p`, as typed in a chat (`text`, no spaces) and as a raw option value (`value`, any JSON type). */
export function badValue(rng: Rng, p: Param): { text: string; value: unknown } {
  const typedJunk = ['abc', 'NaN', 'Infinity', '0x10', '５', '1_0', '½', '١٢', '--', '"', 'null', 'true'];
  const rawJunk: unknown[] = ['abc', '', true, null, {}, [], ['1'], { value: 1 }, 'NaN'];
  const junk = () =>
    rng.chance(0.5)
      ? { text: rng.pick(typedJunk), value: rng.pick(rawJunk) }
      : { text: rng.pick(typedJunk), value: rng.pick(typedJunk) };
  switch (p.type) {
    case 'int': {
      const nums = [p.min - 1, p.max + 1, p.min - rng.int(2, 1000), p.max + rng.int(2, 1e6), 1e9, -(2 ** 31), 2 ** 60];
      const n = rng.pick(nums);
      if (rng.chance(0.15)) return { text: `${p.min}.5`, value: p.min + 0.5 };
      if (rng.chance(0.1)) return { text: '9'.repeat(rng.int(20, 400)), value: Number('9'.repeat(30)) };
      if (rng.chance(0.1)) return { text: `${p.max}e3`, value: `${p.max}` };
      return rng.chance(0.8) ? { text: String(n), value: n } : junk();
    }
    case 'float': {
      const nums = [p.min - 1, p.max + 1, p.min - 0.001, p.max + 0.5, -1e308, 1e308];
      const n = rng.pick(nums);
      if (rng.chance(0.1)) return { text: `${'9'.repeat(400)}.5`, value: 'Infinity' };
      if (rng.chance(0.1)) return { text: '1e400', value: '1e400' };
      if (rng.chance(0.1)) return { text: `${Math.floor(p.max)},5`, value: `${p.max}` };
      return rng.chance(0.8) ? { text: String(n), value: n } : junk();
    }
    case 'seed': {
      const v = rng.pick<[string, unknown]>([
        ['-1', -1],
        [String(2 ** 60), 2 ** 60],
        [String(2 ** 48), 2 ** 48],
        [String(2 ** 53 + 2), 2 ** 53 + 2],
        ['1.5', 1.5],
        ['-99999', -99999],
        ['9'.repeat(30), '9'.repeat(30)],
      ]);
      return rng.chance(0.8) ? { text: v[0], value: v[1] } : junk();
    }
    case 'choice': {
      // A model name is checked by ComfyUI when the job runs (a clear failure, by design); only its length here.
      if (p.dynamic) return { text: 'm'.repeat(rng.int(257, 400)), value: rng.pick(['', 'm'.repeat(257)]) };
      const values = p.choices.map((c) => c.value);
      const near = [
        ...values.map((v) => `${v}x`),
        ...values.map((v) => v.toUpperCase()),
        '5:7',
        '16/9',
        '1:1:1',
        '１:１',
        '0',
        'x',
      ];
      const bad = near.filter((v) => !values.includes(v));
      const v = rng.pick(bad.length ? bad : ['nope']);
      return rng.chance(0.85)
        ? { text: v, value: v }
        : { text: rng.pick(typedJunk.filter((x) => !values.includes(x))), value: rng.pick([7, null, true, [v]]) };
    }
    default:
      return { text: 'x', value: 1 };
  }
}

/** A prompt with nothing visible in it: zero-width, bidi, C0 controls, fillers or spaces, alone or mixed. */
export function invisiblePrompt(rng: Rng): { label: string; text: string } {
  const kinds: Array<[string, readonly string[]]> = [
    ['zero-width only', ZERO_WIDTH],
    ['bidi only', BIDI],
    ['NUL and C0 only', CONTROLS],
    ['fillers only', FILLERS],
    ['invisible mix', [...ZERO_WIDTH, ...BIDI, ...CONTROLS, ...FILLERS, ...SPACES]],
  ];
  const [label, alphabet] = rng.pick(kinds);
  const text = rng.from(alphabet, rng.int(1, 40));
  // Telegram and the tokenizer trim ordinary spaces; a leading zero-width keeps a spaces-only case typed at all.
  return { label, text: label === 'invisible mix' ? `\u200B${text}` : text };
}

/** A prompt over `max` characters, of one kind. */
export function longPrompt(rng: Rng, max: number): { label: string; text: string } {
  const n = rng.pick([max + 1, max + rng.int(2, 50), 10_000, rng.int(max + 1, 10_000)]);
  const kinds: Array<[string, () => string]> = [
    ['latin', () => 'x'],
    ['emoji', () => rng.pick(['🦊', '👩‍👩‍👧‍👦', '🏳️‍🌈'])],
    ['cjk', () => rng.pick(['狐', '狸', '雪'])],
    ['zero-width padded', () => rng.pick(['\u200B', 'a'])],
  ];
  const [label, unit] = rng.pick(kinds);
  let text = '';
  while (text.length < n) text += unit();
  return { label: `${label} ${text.length} chars`, text };
}

/** Visible but odd text: emoji, scripts, combining marks, a lone surrogate, NUL or bidi inside words. */
export function weirdPrompt(rng: Rng): string {
  return Array.from({ length: rng.int(1, 5) }, () => rng.pick(VISIBLE_WEIRD)).join(rng.pick([' ', '', '\u200B', '\t']));
}

/** A flag name no parameter of `names` answers to (compared as the parser does: lower case, '-' as '_'). */
export function unknownFlag(rng: Rng, names: Set<string>): string {
  for (;;) {
    const name =
      rng.pick(['colour', 'image', 'img', 'style', 'n_', 'steps2', 'lora', 'x', 'size', 'width', 'q']) +
      (rng.chance(0.4) ? rng.from([...'abcdefghijklmnopqrstuvwxyz0123456789_-'], rng.int(1, 12)) : '');
    if (!names.has(name.toLowerCase().replace(/-/g, '_'))) return name;
  }
}
