import type { Manifest, Param } from '../../src/comfy/manifest.js';
import { isMediaParam } from '../../src/comfy/param-kinds.js';
import type { DcMessage, DcUser, FakeDiscord } from '../fakes/discord/server.js';
import { type Rng, badAudio, badImage, badValue, invisiblePrompt, longPrompt, weirdPrompt } from './fuzz.js';

/**
 * Bad Discord inputs, drawn up front from the seeded PRNG and sent later by one user: slash commands with values
 * Discord's own checks would stop (out of range, wrong JSON types, unknown or missing options: what a stale command
 * registration or a modified client sends), invisible and oversized prompts, attachments that are not what they
 * claim, other people's job ids, forged and stale custom ids on buttons, menus and forms, and autocomplete.
 * Over 300 lines: one list of generators, each a few lines, read top to bottom like the categories they make.
 */
export interface DcFuzzUser {
  user: DcUser;
  /** The interaction locale ("zh-TW", "en-US", …). */
  locale: string;
  /** Where the user is: a server channel, or a DM (no guild). */
  where: { channelId: string; guildId?: string };
  /** A message of the bot's, for component clicks. */
  carrier: DcMessage;
  /** A finished job of this user's (no files). */
  ownJob: { id: string; shortId: string };
}
export interface DcCase {
  category: string;
  /** The answer is one of these texts (any text when empty). */
  expect: string[];
  /** `refusal`: a private answer; `autocomplete`: choices; `update`: the clicked message is edited. */
  answer: 'refusal' | 'autocomplete' | 'update';
  echo: string;
  send(dc: FakeDiscord, u: DcFuzzUser): { token: string };
}

type Opt = { name: string; type: number; value: unknown };
const TYPE: Record<Param['type'], number> = {
  text: 3,
  int: 4,
  float: 10,
  seed: 4,
  choice: 3,
  bool: 5,
  image: 11,
  audio: 11,
};
const INVALID = ['error.invalid_options'];
const MISSING_TEXT = ['input.missing_text', 'error.invalid_options'];
const NOT_FOUND = ['error.job_not_found'];
const BAD_FILE = ['input.not_image', 'input.corrupt_image', 'input.too_many_pixels'];

export function discordCases(
  rng: Rng,
  env: {
    manifests: Manifest[];
    png: Buffer;
    wav: Buffer;
    huge: Buffer;
    victims: Array<{ id: string; shortId: string }>;
  },
): DcCase[] {
  const cases: DcCase[] = [];
  const byName = new Map(env.manifests.map((m) => [m.command, m]));
  const prompt = () => rng.pick(['a red fox', 'fox', '雪地裡的狐狸', weirdPrompt(rng)]);
  /** The required texts of a command, filled (files are added by the case). */
  const base = (m: Manifest): Opt[] =>
    m.params.filter((p) => p.type === 'text' && p.required).map((p) => ({ name: p.name, type: 3, value: prompt() }));
  const slash = (
    category: string,
    name: string,
    options: Opt[],
    expect: string[],
    files?: Record<string, { bytes: Buffer; filename: string; contentType?: string }>,
  ) =>
    cases.push({
      category,
      expect,
      answer: 'refusal',
      echo: JSON.stringify(options),
      send: (dc, u) => dc.slash(u.user, name, options, { ...u.where, locale: u.locale, files }),
    });
  const valued = (m: Manifest) => m.params.filter((p) => ['int', 'float', 'seed', 'choice'].includes(p.type));
  const withValues = env.manifests.filter((m) => valued(m).length);
  const withText = env.manifests.filter((m) => m.params.some((p) => p.type === 'text' && p.required));

  // Values Discord's own checks would stop: out of range, and of the wrong JSON type.
  for (let i = 0; i < 70; i++) {
    const m = rng.pick(withValues);
    const p = rng.pick(valued(m));
    const { value } = badValue(rng, p);
    const typed =
      typeof value === 'number'
        ? Number.isInteger(value)
          ? 4
          : 10
        : typeof value === 'string'
          ? 3
          : (TYPE[p.type] ?? 3);
    const category = typeof value === (p.type === 'choice' ? 'string' : 'number') ? 'option value' : 'wrong type';
    slash(
      category,
      m.command,
      [...base(m), { name: p.name, type: rng.chance(0.7) ? (TYPE[p.type] ?? 3) : typed, value }],
      INVALID,
    );
  }
  for (const value of [0, -1, 1001, 2.5, 'abc', null, true])
    slash(
      typeof value === 'number' ? 'option value' : 'wrong type',
      'gallery',
      [{ name: 'page', type: 4, value }],
      INVALID,
    );
  // Texts of the wrong type.
  for (let i = 0; i < 10; i++) {
    const m = rng.pick(withText);
    const p = m.params.find((x) => x.type === 'text' && x.required) as Param;
    slash(
      'wrong type',
      m.command,
      [{ name: p.name, type: 3, value: rng.pick([42, true, ['a fox'], { text: 'a fox' }, 1e21]) }],
      [...INVALID, 'input.missing_text'],
    );
  }
  // Options the command does not have (a stale registration), a file typed as text.
  for (let i = 0; i < 20; i++) {
    const m = rng.pick(env.manifests);
    const known = new Set(m.params.map((p) => p.name));
    const name = rng.pick(['colour', 'style', 'lora', 'width', 'prompt2', 'image', 'audio', 'face', 'x']);
    if (known.has(name) && !isMediaParam(m.params.find((p) => p.name === name) as Param)) continue;
    slash(
      'unknown option',
      m.command,
      [...base(m), { name, type: 3, value: rng.pick(['red', '1', 'https://x/y.png']) }],
      INVALID,
    );
  }
  // Required texts left out, empty, invisible, oversized.
  for (const m of withText) slash('missing required text', m.command, [], MISSING_TEXT);
  slash('missing required text', 'remix', [], MISSING_TEXT);
  for (let i = 0; i < 45; i++) {
    const m = rng.pick(withText);
    const p = m.params.find((x) => x.type === 'text' && x.required) as Param;
    const inv = rng.chance(0.15)
      ? { label: 'empty or spaces', text: rng.pick(['', ' ', '   \t ', '\u3000']) }
      : invisiblePrompt(rng);
    slash(`invisible prompt: ${inv.label}`, m.command, [{ name: p.name, type: 3, value: inv.text }], MISSING_TEXT);
  }
  for (let i = 0; i < 14; i++) {
    const m = rng.pick(withText);
    const p = m.params.find((x) => x.type === 'text' && x.required) as Param;
    slash(
      'long prompt',
      m.command,
      [{ name: p.name, type: 3, value: longPrompt(rng, 1000).text }],
      ['error.prompt_too_long'],
    );
  }
  const imagine = byName.get('imagine') as Manifest;
  for (let i = 0; i < 14; i++)
    slash(
      'weird prompt + bad option',
      'imagine',
      [
        { name: 'prompt', type: 3, value: weirdPrompt(rng) },
        { name: 'count', type: 4, value: rng.pick([0, 9, 99]) },
      ],
      INVALID,
    );

  // Attachments that are not pictures or recordings, too big, or missing.
  const imageParams = env.manifests
    .flatMap((m) => m.params.filter((p) => p.type === 'image').map((p) => ({ m, p })))
    .filter(({ m }) => m.command !== 'faceswap');
  for (let i = 0; i < 36; i++) {
    const { m, p } = rng.pick(imageParams);
    const bad = badImage(rng, env.png);
    const files: Record<string, { bytes: Buffer; filename: string; contentType?: string }> = {};
    for (const other of m.params.filter((x) => x.type === 'image' && x.required))
      files[other.name] = { bytes: env.png, filename: 'ok.png', contentType: 'image/png' };
    for (const other of m.params.filter((x) => x.type === 'audio' && x.required))
      files[other.name] = { bytes: env.wav, filename: 'ok.wav', contentType: 'audio/wav' };
    files[p.name] = {
      bytes: bad.bytes,
      filename: rng.pick(['cat.png', 'x.jpg', 'a.webp', 'noext']),
      contentType: rng.pick(['image/png', undefined, 'text/plain']),
    };
    slash(`bad image: ${bad.label}`, m.command, base(m), BAD_FILE, files);
  }
  const talk = byName.get('talk');
  if (talk)
    for (let i = 0; i < 12; i++) {
      const bad = badAudio(rng, env.png);
      slash(`not audio: ${bad.label}`, 'talk', [], ['input.not_audio'], {
        portrait: { bytes: env.png, filename: 'me.png', contentType: 'image/png' },
        audio: { bytes: bad.bytes, filename: rng.pick(['voice.ogg', 'a.mp3', 'x.wav']), contentType: 'audio/ogg' },
      });
    }
  for (const cmd of ['edit', 'upscale'])
    slash('attachment over 50 MB', cmd, base(byName.get(cmd) as Manifest), ['input.file_too_big'], {
      image: { bytes: env.huge, filename: 'huge.png', contentType: 'image/png' },
    });
  for (const cmd of ['edit', 'upscale', 'sketch', 'blend', 'talk']) {
    const m = byName.get(cmd);
    if (!m) continue;
    slash('missing attachment', cmd, base(m), ['input.missing_image', 'input.missing_audio']);
    // An attachment option pointing at nothing Discord resolved.
    const first = m.params.find((p) => p.type === 'image') as Param;
    slash(
      'missing attachment',
      cmd,
      [...base(m), { name: first.name, type: 11, value: '123456789012345678' }],
      ['input.missing_image', 'input.missing_audio'],
    );
  }

  // Other people's jobs, ids that are nobody's.
  for (let i = 0; i < 22; i++) {
    const v = rng.pick(env.victims);
    const id = rng.chance(0.5) ? v.shortId : v.id;
    const cmd = rng.pick(['remix', 'cancel']);
    const options: Opt[] = [{ name: 'job', type: 3, value: rng.chance(0.2) ? id.toUpperCase() : id }];
    if (cmd === 'remix' && rng.chance(0.6)) options.push({ name: 'prompt', type: 3, value: 'a cat --steps 5' });
    slash('other user’s job id', cmd, options, NOT_FOUND);
  }
  for (const id of [
    '00000000',
    'deadbeef',
    'zzzz',
    '%',
    '_',
    "' OR 1=1 --",
    '../../etc/passwd',
    '\u200Bdeadbeef',
    'ｄｅａｄｂｅｅｆ',
  ])
    slash(
      'unknown job id',
      rng.pick(['remix', 'cancel']),
      [{ name: 'job', type: 3, value: id }],
      [...NOT_FOUND, ...INVALID, 'input.missing_text'],
    );
  slash('unknown job id', 'cancel', [{ name: 'job', type: 3, value: rng.hex(60) }], ['error.prompt_too_long']);

  // Custom ids: forged, stale, other people's; menus and forms.
  const click = (category: string, customId: string, expect: string[], values?: string[]) =>
    cases.push({
      category,
      expect,
      answer: 'refusal',
      echo: customId + (values ? ` ${values.join(' ')}` : ''),
      send: (dc, u) => dc.component(u.user, u.carrier, customId, { ...u.where, locale: u.locale, values }),
    });
  const ascii = [...'abcdefghijklmnopqrstuvwxyz0123456789:-_/ v'];
  for (let i = 0; i < 26; i++) {
    const id = rng.pick([
      () => rng.from(ascii, rng.int(1, 100)),
      () => `v1:${rng.from(ascii, rng.int(0, 97))}`,
      () => rng.from(['狐', '🦊', 'é', '\u200B', 'ا', '\u202E'], rng.int(1, 40)),
      () => `v${rng.int(2, 9)}:${rng.pick(['x', 'r', 'c', 'u1'])}:${rng.hex(8)}`,
    ])();
    click('forged custom_id', id, ['error.unknown_button']);
  }
  for (const id of [
    'v0:x',
    'v1:x:deadbeef',
    'v1:u:deadbeef',
    'v1:u100:deadbeef',
    'v1:g:1234567', // past the six digits a page may have
    'v1:g:-1',
    'v1:',
    'old:button',
  ])
    click('forged custom_id', id, ['error.unknown_button']);
  for (const id of ['v1:r:deadbeef', 'v1:c:deadbeef', 'v1:m:00000000', 'v1:u1:ffffffff', `v1:o:${'f'.repeat(36)}`])
    click('stale button (job gone)', id, NOT_FOUND);
  for (let i = 0; i < 24; i++) {
    const v = rng.pick(env.victims);
    click(
      'other user’s button',
      `v1:${rng.pick(['c', 'r', 'm', 'u1', 'u2', 'o'])}:${rng.chance(0.7) ? v.id : v.shortId}`,
      NOT_FOUND,
    );
  }
  for (let i = 0; i < 10; i++) {
    const v = rng.pick(env.victims);
    const pick = rng.pick([
      () => ({ id: 'v1:o:select', values: [v.id], expect: NOT_FOUND }),
      () => ({
        id: 'v1:o:select',
        values: [rng.from(ascii, rng.int(1, 90))],
        expect: ['error.unknown_button', ...NOT_FOUND],
      }),
      () => ({ id: 'v1:o:select', values: [] as string[], expect: ['error.unknown_button'] }),
      () => ({ id: `${rng.from(ascii, rng.int(1, 20))}select`, values: ['x'], expect: ['error.unknown_button'] }),
    ])();
    click('menu pick', pick.id, pick.expect, pick.values);
  }
  for (let i = 0; i < 3; i++)
    cases.push({
      category: 'cancel button of own finished job',
      expect: ['error.unknown_button'],
      answer: 'refusal',
      echo: '',
      send: (dc, u) => dc.component(u.user, u.carrier, `v1:c:${u.ownJob.id}`, { ...u.where, locale: u.locale }),
    });
  for (const n of ['1', '2', '9'])
    cases.push({
      category: 'upscale button on own job without images',
      expect: NOT_FOUND,
      answer: 'refusal',
      echo: '',
      send: (dc, u) => dc.component(u.user, u.carrier, `v1:u${n}:${u.ownJob.id}`, { ...u.where, locale: u.locale }),
    });
  for (const page of ['0', '3', '9999'])
    cases.push({
      category: 'stale gallery page',
      expect: ['bot.gallery_caption', 'bot.gallery_empty'],
      answer: 'update',
      echo: '',
      send: (dc, u) => dc.component(u.user, u.carrier, `v1:g:${page}`, { ...u.where, locale: u.locale }),
    });

  // Forms: Remix of someone else's job, of one's own with a bad answer, and forged form ids.
  const steps = imagine.params.find((p) => p.name === 'steps') as Param;
  for (let i = 0; i < 10; i++) {
    const v = rng.pick(env.victims);
    cases.push({
      category: 'Remix form for someone else’s job',
      expect: NOT_FOUND,
      answer: 'refusal',
      echo: 'a blue fox',
      send: (dc, u) =>
        dc.modalSubmit(
          u.user,
          `v1:m:${rng.chance(0.5) ? v.id : v.shortId}`,
          { prompt: 'a blue fox' },
          { ...u.where, locale: u.locale },
        ),
    });
  }
  for (let i = 0; i < 16; i++) {
    const answer = rng.pick([
      () => `a fox --steps ${badValue(rng, steps).text}`,
      () => `a fox --colour${rng.hex(3)} 1`,
      () => longPrompt(rng, 1000).text,
      () => invisiblePrompt(rng).text,
      () => `${weirdPrompt(rng)} --count`,
    ])();
    cases.push({
      category: 'bad answer in the Remix form',
      expect: ['error.invalid_options', 'error.unknown_option', 'error.prompt_too_long', 'input.missing_text'],
      answer: 'refusal',
      echo: answer,
      send: (dc, u) =>
        dc.modalSubmit(u.user, `v1:m:${u.ownJob.id}`, { prompt: answer }, { ...u.where, locale: u.locale }),
    });
  }
  for (let i = 0; i < 8; i++) {
    const id = rng.pick([
      () => rng.from(ascii, rng.int(1, 100)),
      () => 'v1:m:',
      () => `v1:r:${rng.hex(8)}`,
      () => `v1:c:${rng.hex(8)}`,
    ])();
    cases.push({
      category: 'forged form id',
      expect: ['error.unknown_button', ...NOT_FOUND],
      answer: 'refusal',
      echo: id,
      send: (dc, u) => dc.modalSubmit(u.user, id, { prompt: 'x' }, { ...u.where, locale: u.locale }),
    });
  }

  // Autocomplete: whatever is typed, the choices are the asker's own (or models), never someone else's jobs.
  for (let i = 0; i < 16; i++) {
    const v = rng.pick(env.victims);
    const [cmd, option] = rng.pick([
      ['remix', 'job'],
      ['cancel', 'job'],
      ['imagine', 'model'],
      ['imagine', 'prompt'],
      ['nosuchcommand', 'job'],
      ['remix', 'nosuchoption'],
    ] as const);
    const value = rng.pick([
      v.shortId.slice(0, rng.int(1, 8)),
      'secret',
      '',
      '%',
      rng.from(ascii, rng.int(1, 100)),
      weirdPrompt(rng),
    ]);
    cases.push({
      category: 'autocomplete',
      expect: [],
      answer: 'autocomplete',
      echo: value,
      send: (dc, u) =>
        dc.autocomplete(u.user, cmd, [{ name: option, type: 3, value, focused: true }], {
          ...u.where,
          locale: u.locale,
        }),
    });
  }
  return cases;
}
