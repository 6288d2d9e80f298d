import type { Manifest } from '../../src/comfy/manifest.js';
import { isMediaParam } from '../../src/comfy/param-kinds.js';
import type { FakeTelegram, TgChat, TgMessage, TgUser } from '../fakes/telegram/server.js';
import {
  type Rng,
  badAudio,
  badImage,
  badValue,
  invisiblePrompt,
  longPrompt,
  unknownFlag,
  weirdPrompt,
} from './fuzz.js';
import { until } from './pipeline.js';

/**
 * Bad Telegram inputs, each drawn from the seeded PRNG up front (so the run is the same whatever the timing) and
 * sent later by one user in their own private chat: commands typed wrong, invisible and oversized prompts, files
 * that are not what they claim, other people's job ids, stale and forged button payloads, bad answers to Remix.
 * Over 300 lines: one list of generators, each a few lines, read top to bottom like the categories they make.
 */
export interface TgFuzzUser {
  user: TgUser;
  chat: TgChat;
  /** A message of the bot's in this chat, for button presses. */
  carrier: TgMessage;
  /** A finished job of this user's (no files), for Remix and Upscale on their own work. */
  ownJob: { id: string; shortId: string };
}
export interface TgSent {
  msg?: TgMessage;
  pressId?: string;
  at: number;
  /** Where the answer goes, when not the user's own chat. */
  chatId?: number;
  /** A press whose answer is the pressed message itself, already showing what was asked for (a repeated tap). */
  inPlace?: TgMessage;
}
export interface TgCase {
  category: string;
  /** The answer is one of these texts (any text when empty). */
  expect: string[];
  /** What the user typed, which the answer may quote. */
  echo: string;
  send(tg: FakeTelegram, u: TgFuzzUser): Promise<TgSent>;
}

const INVALID: string[] = ['error.invalid_options'];
/** A required text left out: its usage (newer catalogs) or the options refusal. */
const MISSING_TEXT: string[] = ['input.missing_text', 'error.invalid_options'];
const PARSE: string[] = [
  'error.invalid_options',
  'error.unknown_option',
  'error.prompt_too_long',
  'input.missing_text',
];
const NOT_FOUND: string[] = ['error.job_not_found'];
const BAD_FILE: string[] = ['input.not_image', 'input.corrupt_image', 'input.too_many_pixels'];

export function telegramCases(
  rng: Rng,
  env: { manifests: Manifest[]; png: Buffer; victims: Array<{ id: string; shortId: string }> },
): TgCase[] {
  const cases: TgCase[] = [];
  const text = (category: string, typed: string, expect: string[]) =>
    cases.push({
      category,
      expect,
      echo: typed,
      send: async (tg, u) => ({ at: Date.now(), msg: tg.userSends(u.user, u.chat, { text: typed }) }),
    });
  const byName = new Map(env.manifests.map((m) => [m.command, m]));
  const withText = env.manifests.filter((m) => m.params.some((p) => p.type === 'text' && p.required));
  const typedNames = (m: Manifest) =>
    new Set(m.params.filter((p) => !isMediaParam(p)).flatMap((p) => [p.name, ...p.aliases]));
  const prompt = () => rng.pick(['a red fox', 'fox', 'a cat in snow', '雪地裡的狐狸', weirdPrompt(rng)]);
  const lead = (m: Manifest, p = prompt()) =>
    `/${m.command}${m.params.some((x) => x.type === 'text' && x.required) ? ` ${p}` : ''}`;
  const flag = (name: string, value: string) =>
    rng.pick([`--${name} ${value}`, `--${name}=${value}`, `—${name} ${value}`]);
  const optionParams = (m: Manifest) => m.params.filter((p) => ['int', 'float', 'seed', 'choice'].includes(p.type));

  // Random option values, typed.
  for (let i = 0; i < 60; i++) {
    const m = rng.pick(env.manifests.filter((x) => optionParams(x).length));
    const p = rng.pick(optionParams(m));
    const name = rng.pick([p.name, ...p.aliases]);
    text('option value', `${lead(m)} ${flag(name, badValue(rng, p).text)}`, INVALID);
  }
  for (const page of ['abc', '0', '-1', '1001', '2.5', '1e3', '９']) text('option value', `/gallery ${page}`, INVALID);
  // Flags nobody defined (media flags included: files come as attachments in chats).
  for (let i = 0; i < 24; i++) {
    const m = rng.pick(env.manifests);
    const f = unknownFlag(rng, typedNames(m));
    text('unknown flag', `${lead(m)} --${f} ${rng.pick(['1', 'red', 'x y', '--'])}`, ['error.unknown_option']);
  }
  // Flags without a value, and flags given twice (the last one wins, and is bad).
  for (let i = 0; i < 16; i++) {
    const m = rng.pick(env.manifests.filter((x) => optionParams(x).length));
    const p = rng.pick(optionParams(m));
    const other = rng.pick(optionParams(m));
    text(
      'flag without value',
      rng.chance(0.5)
        ? `${lead(m)} --${p.name}`
        : `${lead(m)} --${p.name} --${other.name} ${badValue(rng, other).text}`,
      INVALID,
    );
  }
  for (let i = 0; i < 16; i++) {
    const m = rng.pick(env.manifests.filter((x) => optionParams(x).length));
    const p = rng.pick(optionParams(m));
    const first = rng.chance(0.5) ? badValue(rng, p).text : String(p.type === 'choice' ? p.choices[0]?.value : 1);
    text(
      'duplicated flag',
      `${lead(m)} --${p.name} ${first} --${rng.pick([p.name, ...p.aliases])} ${badValue(rng, p).text}`,
      INVALID,
    );
  }
  // Text where a command takes none.
  for (const cmd of ['upscale', 'faceswap'])
    if (byName.has(cmd)) text('stray text', `/${cmd} ${prompt()} ${prompt()}`, INVALID);
  // Empty, invisible and oversized prompts.
  for (const m of withText) text('empty prompt', `/${m.command}`, MISSING_TEXT);
  text('empty prompt', '/imagine ""', MISSING_TEXT);
  text('empty prompt', '/imagine --steps 10', MISSING_TEXT);
  text('empty prompt', "/imagine '' --count 2", MISSING_TEXT);
  for (let i = 0; i < 50; i++) {
    const m = rng.pick(withText);
    const inv = invisiblePrompt(rng);
    const steps = m.params.find((p) => p.type === 'int' || p.type === 'seed');
    const tail = steps && rng.chance(0.3) ? ` --${steps.name} 10` : '';
    text(`invisible prompt: ${inv.label}`, `/${m.command} ${inv.text}${tail}`, MISSING_TEXT);
  }
  for (let i = 0; i < 14; i++) {
    const m = rng.pick(withText);
    text(`long prompt`, `/${m.command} ${longPrompt(rng, 1000).text}`, ['error.prompt_too_long']);
  }
  text('long prompt', `/imagine fox --neg ${'n'.repeat(1001)}`, ['error.prompt_too_long']);
  // Odd but visible text, with a bad option so it must still be refused.
  for (let i = 0; i < 20; i++)
    text('weird prompt + bad option', `/imagine ${weirdPrompt(rng)} --count ${rng.pick(['0', '9', 'x'])}`, INVALID);

  // Files that are not pictures, are damaged, claim too many pixels, or are too big to fetch.
  const imageCommands = ['edit', 'upscale', 'sketch'].filter((c) => byName.has(c));
  const captionOf = (cmd: string) =>
    cmd === 'upscale' ? '/upscale' : `/${cmd} ${rng.pick(['fix', 'night', 'a fox'])}`;
  for (let i = 0; i < 40; i++) {
    const cmd = rng.pick(imageCommands);
    const bad = badImage(rng, env.png);
    const caption = captionOf(cmd);
    const how = rng.int(0, 2);
    cases.push({
      category: `bad image: ${bad.label}`,
      expect: BAD_FILE,
      echo: caption,
      send: async (tg, u) => {
        const at = Date.now();
        if (how === 0) return { at, msg: tg.userSends(u.user, u.chat, { photo: bad.bytes, caption }) };
        const doc = { bytes: bad.bytes, name: rng.pick(['cat.png', 'x.jpg', 'photo.webp', 'a']), mime: 'image/png' };
        if (how === 1) return { at, msg: tg.userSends(u.user, u.chat, { document: doc, caption }) };
        const sent = tg.userSends(u.user, u.chat, { document: doc });
        return { at, msg: tg.userSends(u.user, u.chat, { text: caption, replyTo: sent }) };
      },
    });
  }
  for (let i = 0; i < 8; i++) {
    const size = rng.pick([20_000_001, 25_000_000, rng.int(20_000_001, 2_000_000_000)]);
    const caption = captionOf(rng.pick(imageCommands));
    cases.push({
      category: 'declared size over the 20 MB getFile cap',
      expect: ['input.file_too_big'],
      echo: caption,
      send: async (tg, u) => {
        const doc = tg.userSends(u.user, u.chat, {
          document: { bytes: env.png, name: 'big.png', mime: 'image/png', size },
        });
        return { at: Date.now(), msg: tg.userSends(u.user, u.chat, { text: caption, replyTo: doc }) };
      },
    });
  }
  if (byName.has('talk'))
    for (let i = 0; i < 14; i++) {
      const bad = badAudio(rng, env.png);
      const asDocument = rng.chance(0.4);
      cases.push({
        category: `not audio: ${bad.label}`,
        expect: ['input.not_audio'],
        echo: '/talk',
        send: async (tg, u) => {
          const audio = asDocument
            ? tg.userSends(u.user, u.chat, { document: { bytes: bad.bytes, name: 'voice.mp3', mime: 'audio/mpeg' } })
            : tg.userSends(u.user, u.chat, { voice: bad.bytes });
          return {
            at: Date.now(),
            msg: tg.userSends(u.user, u.chat, { photo: env.png, caption: '/talk', replyTo: audio }),
          };
        },
      });
    }
  for (const typed of ['/edit fix', '/upscale', '/sketch a cat', '/blend two cats', '/faceswap', '/talk'])
    if (byName.has(typed.split(' ')[0]?.slice(1) ?? ''))
      text('missing file', typed, ['input.missing_image', 'input.missing_audio', 'error.no_capable_worker']);
  cases.push({
    category: 'missing file',
    expect: ['input.missing_image'],
    echo: '/blend two cats',
    send: async (tg, u) => ({
      at: Date.now(),
      msg: tg.userSends(u.user, u.chat, { photo: env.png, caption: '/blend two cats' }),
    }),
  });

  // Other people's jobs, and ids that are nobody's.
  for (let i = 0; i < 24; i++) {
    const v = rng.pick(env.victims);
    const id = rng.chance(0.5) ? v.shortId : v.id;
    const typed = rng.pick([
      `/remix ${id} a cat`,
      `/remix ${id}`,
      `/cancel ${id}`,
      `/remix ${id.toUpperCase()} --steps 5`,
    ]);
    text('other user’s job id', typed, NOT_FOUND);
  }
  for (const id of [
    '00000000',
    'deadbeef',
    'zzzz',
    '%',
    '_',
    '%%%%%%%%',
    "' OR 1=1 --",
    '../../etc/passwd',
    '\u200Bdeadbeef',
  ])
    text('unknown job id', `/${rng.pick(['remix', 'cancel'])} ${id} x`, [...NOT_FOUND, ...PARSE]);
  for (let i = 0; i < 4; i++) text('unknown job id', `/cancel ${rng.hex(rng.int(37, 80))}`, ['error.prompt_too_long']);
  text('unknown job id', '/remix', MISSING_TEXT);

  // Button payloads: forged, stale, from older versions, other people's jobs.
  const press = (category: string, data: string, expect: string[]) =>
    cases.push({
      category,
      expect,
      echo: data,
      send: async (tg, u) => ({ at: Date.now(), pressId: tg.userPresses(u.user, u.carrier, data) }),
    });
  const ascii = [...'abcdefghijklmnopqrstuvwxyz0123456789:-_/ v'];
  for (let i = 0; i < 24; i++) {
    const data = rng.pick([
      () => rng.from(ascii, rng.int(1, 64)),
      () => `v1:${rng.from(ascii, rng.int(0, 61))}`,
      () => rng.from(['狐', '🦊', 'é', '\u200B', 'ا'], rng.int(1, 16)),
      () => `v${rng.int(0, 9)}:${rng.pick(['x', 'r', 'c', 'u1'])}:${rng.hex(8)}`.replace(/^v1:(?=[rc]:)/, 'v2:'),
    ])();
    press('forged callback_data', data, ['error.unknown_button']);
  }
  for (const data of [
    'v0:x',
    'v1:x:deadbeef',
    'v1:u:deadbeef',
    'v1:u100:deadbeef',
    'v1:g:1234567', // past the six digits a page may have
    'v1:g:-1',
    'v1:g:',
    'v1:',
    'v1:c:',
    '',
  ])
    press('forged callback_data', data, ['error.unknown_button']);
  for (const data of [
    'v1:r:deadbeef',
    'v1:c:deadbeef',
    'v1:m:00000000',
    'v1:u1:ffffffff',
    'v1:o:12345678',
    `v1:c:${'f'.repeat(36)}`,
  ])
    press('stale button (job gone)', data, NOT_FOUND);
  for (let i = 0; i < 24; i++) {
    const v = rng.pick(env.victims);
    const kind = rng.pick(['c', 'r', 'm', 'u1', 'u2', 'o']);
    press('other user’s button', `v1:${kind}:${rng.chance(0.7) ? v.id : v.shortId}`, NOT_FOUND);
  }
  for (const kind of ['u1', 'u2', 'u9'])
    cases.push({
      category: 'upscale button on own job without images',
      expect: NOT_FOUND,
      echo: '',
      send: async (tg, u) => ({
        at: Date.now(),
        pressId: tg.userPresses(u.user, u.carrier, `v1:${kind}:${u.ownJob.id}`),
      }),
    });
  for (const page of ['0', '1', '7', '9999'])
    press('stale gallery page', `v1:g:${page}`, ['bot.gallery_empty', 'bot.gallery_caption']);
  // Paging twice to the same page of an empty gallery (a double tap, or a stranger's gallery in a group).
  for (let i = 0; i < 3; i++) {
    const page = rng.pick(['0', '1', '2']);
    cases.push({
      category: 'stale gallery page pressed twice, nothing in the gallery',
      expect: ['bot.gallery_empty'],
      echo: '',
      send: async (tg, u) => {
        const stranger: TgUser = { ...u.user, id: u.user.id + 100_000 };
        const chat: TgChat = { ...u.chat, id: stranger.id };
        const hello = tg.userSends(stranger, chat, { text: '/help' });
        const carrier = await until(
          () => tg.botMessages(chat.id).find((m) => m.reply_to_message?.message_id === hello.message_id),
          'the /help answer',
        );
        tg.userPresses(stranger, carrier, `v1:g:${page}`);
        await until(() => tg.callsTo('editMessageText').some((c) => c.chatId === chat.id), 'the first page');
        const pressId = tg.userPresses(stranger, carrier, `v1:g:${page}`);
        return { at: Date.now(), pressId, chatId: chat.id, inPlace: carrier };
      },
    });
  }
  // Cancel under a job that has finished since (the button outlived it).
  for (let i = 0; i < 3; i++)
    cases.push({
      category: 'cancel button of own finished job',
      expect: [],
      echo: '',
      send: async (tg, u) => ({ at: Date.now(), pressId: tg.userPresses(u.user, u.carrier, `v1:c:${u.ownJob.id}`) }),
    });

  // Bad answers to the Remix question (a reply to the bot's ForceReply message).
  for (let i = 0; i < 14; i++) {
    const imagine = byName.get('imagine') as Manifest;
    const answer = rng.pick([
      () => `a fox ${flag('steps', badValue(rng, imagine.params.find((p) => p.name === 'steps')!).text)}`,
      () => `a fox --${unknownFlag(rng, typedNames(imagine))} 1`,
      () => longPrompt(rng, 1000).text,
      () => invisiblePrompt(rng).text,
      () => `${weirdPrompt(rng)} --count`,
    ])();
    cases.push({
      category: 'bad answer to Remix',
      expect: PARSE,
      echo: answer,
      send: async (tg, u) => {
        const before = tg.botMessages(u.chat.id).at(-1)?.message_id ?? 0;
        tg.userPresses(u.user, u.carrier, `v1:m:${u.ownJob.id}`);
        const ask = await until(
          () =>
            tg
              .botMessages(u.chat.id)
              .find((m) => m.message_id > before && m.reply_markup && 'force_reply' in m.reply_markup),
          'the Remix question',
        );
        await new Promise((r) => setTimeout(r, 5)); // so the question is not taken for the answer
        return { at: Date.now(), msg: tg.userSends(u.user, u.chat, { text: answer, replyTo: ask }) };
      },
    });
  }
  return cases;
}
