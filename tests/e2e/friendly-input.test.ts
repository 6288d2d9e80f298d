import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { startFakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { startDiscordHarness } from '../support/discord-harness.js';
import { png } from '../support/media.js';
import { until } from '../support/pipeline.js';
import { captureStream } from '../support/streams.js';
import { startTelegramHarness } from '../support/telegram-harness.js';

/**
 * What a person reads when they type a command wrong, on every frontend: a bare command gets its usage and an
 * example, bad values are worded by our catalogs in their language, an unknown option names the closest one, and a
 * missing file is asked for the way this platform sends files. Nothing is queued for any of it.
 */
const USAGE_EN = 'Please add what to draw after /imagine, for example:\n/imagine a red fox in snow';
const USAGE_ZH = '請在 /imagine 後面加上要畫的內容，例如：\n/imagine a red fox in snow';

describe('friendly input on Telegram', () => {
  let h: Awaited<ReturnType<typeof startTelegramHarness>>;
  afterEach(async () => h?.close());

  it('answers bare commands, bad values, unknown options and missing files in the user’s language', async () => {
    h = await startTelegramHarness();
    const { alice, bob } = h.users;
    const { dmAlice, dmBob } = h.chats;
    const answer = async (msg: ReturnType<typeof h.telegram.userSends>) =>
      h.textOf(await until(() => h.repliesTo(msg)[0], 'an answer'));
    const en = (text: string) => answer(h.telegram.userSends(alice, dmAlice, { text }));
    const zh = (text: string) => answer(h.telegram.userSends(bob, dmBob, { text }));

    // A bare /imagine, as tapped from the command menu.
    expect(await en('/imagine')).toBe(USAGE_EN);
    expect(await zh('/imagine')).toBe(USAGE_ZH);
    expect(await en('/imagine   --count 2')).toBe(USAGE_EN);
    expect(await zh('/imagine --count 9')).toBe(`${USAGE_ZH}\n\n部分選項無效：\n• count 必須介於 1–4`);
    expect(await en('/remix')).toBe(
      'Please add job id (from a message or /gallery) after /remix, for example:\n/remix 1a2b3c4d a blue fox',
    );

    expect(await en('/imagine a fox --count 9 --aspect 2:1')).toBe(
      'Some options are not valid:\n• aspect must be one of 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3\n• count must be 1–4',
    );
    expect(await zh('/imagine a fox --seed 1.5')).toBe('部分選項無效：\n• seed 必須是整數');
    expect(await en('/imagine a fox --ratio 16:9')).toBe('Unknown option --ratio — did you mean --aspect?');
    expect(await zh('/imagine a fox --setps 30')).toBe('未知的選項 --setps，你是不是要用 --steps？');

    expect(await en('/edit make it night')).toBe(
      'This command needs a picture: “The picture to edit”. Send the picture with the command as its caption, or reply to a picture with the command.',
    );
    expect(await zh('/edit 改成晚上')).toBe(
      '這個指令需要一張圖片：「要修改的圖片」。傳送圖片時把指令寫在說明文字裡，或用指令回覆一張圖片。',
    );
    const photo = await png();
    expect(await answer(h.telegram.userSends(alice, dmAlice, { photo, caption: '/talk' }))).toBe(
      'This command needs a recording: “Voice (up to 60 s; voice messages work)”. Send a voice message or an audio file with the command as its caption, or reply to one with the command.',
    );

    const help = (await zh('/help')).split('\n');
    expect(help).toContain('📎 圖片：傳送圖片時把指令寫在說明文字裡，或用指令回覆一張圖片。');
    expect(help.at(-1)).toBe('/imagine a red fox in snow --aspect 16:9 --count 2');
    expect(h.comfy.submissions()).toBe(0);
  });
});

describe('friendly input on Discord', () => {
  let h: Awaited<ReturnType<typeof startDiscordHarness>>;
  afterEach(async () => h?.close());

  it('answers a command without its text, bad values and a missing attachment privately, in the user’s language', async () => {
    h = await startDiscordHarness();
    const { alice } = h.users;
    const S = (name: string, value: unknown, type = 3) => ({ name, type, value });
    const answer = async (token: string) => {
      const call = await until(
        () =>
          h.discord.calls.find(
            (c) =>
              c.path.includes(token) && (c.body.type === 4 || (c.method === 'POST' && c.path.includes('/webhooks/'))),
          ),
        'an answer',
      );
      const body = (call.body.type === 4 ? call.body.data : call.body) as { content: string; flags: number };
      expect(body.flags & 64).toBe(64);
      return body.content;
    };
    const slash = (name: string, options: ReturnType<typeof S>[], locale = 'en-US') =>
      answer(h.discord.slash(alice, name, options, { ...h.ctx, locale }).token);

    expect(await slash('imagine', [])).toBe(USAGE_EN);
    expect(await slash('imagine', [], 'zh-TW')).toBe(USAGE_ZH);
    expect(await slash('imagine', [S('prompt', ' \u200b ')], 'zh-TW')).toBe(USAGE_ZH);
    expect(await slash('imagine', [S('prompt', 'a fox'), S('count', 9, 4)])).toBe(
      'Some options are not valid:\n• count must be 1–4',
    );
    expect(await slash('edit', [S('instruction', 'night')])).toBe(
      'This command needs a picture: “The picture to edit”. Add the file in the command’s attachment option.',
    );
    expect(await slash('edit', [S('instruction', 'night')], 'zh-TW')).toBe(
      '這個指令需要一張圖片：「要修改的圖片」。請在指令的附件選項中加入檔案。',
    );
    const help = (await slash('help', [])).split('\n');
    expect(help).toContain('📎 Pictures: Add the file in the command’s attachment option.');
    expect(help.at(-1)).toBe('/imagine a red fox in snow --aspect 16:9 --count 2');
    expect(h.comfy.submissions()).toBe(0);
  });
});

describe('friendly input in the terminal', () => {
  const run = async (argv: string[], env: Record<string, string> = {}) => {
    const out = captureStream();
    const err = captureStream();
    const code = await runCli(
      argv,
      { LOG_LEVEL: 'silent', STORAGE_DIR: testConfig().storageDir, ...env },
      { out, err },
    );
    return { code, out: out.text(), err: err.text() };
  };

  it('prints the usage generated from the manifests for --help and -h', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out.split('\n')[0]).toBe('Usage: npm run cli -- <command> [text] [--option value …] [--out DIR]');
    expect(help.out).toMatch(/^ {2}imagine +Create images from a text prompt$/m);
    expect(help.out).toMatch(/^ {2}doctor +Check the settings, Redis, ComfyUI and the workflows$/m);
    expect(help.out.trimEnd().split('\n').slice(-3)).toEqual([
      'The options of one command: npm run cli -- <command> --help',
      'Example:',
      'npm run cli -- imagine a red fox in snow --aspect 16:9 --count 2',
    ]);
    expect((await run(['-h'])).out).toBe(help.out);
    const zh = await run(['-h'], { LANG: 'zh_TW.UTF-8' });
    expect(zh.out.split('\n')[0]).toBe('用法：npm run cli -- <指令> [文字] [--選項 值 …] [--out 目錄]');
  });

  it('prints one command’s options, its files as --image <file>, and an example', async () => {
    const imagine = await run(['imagine', '--help']);
    expect(imagine.code).toBe(0);
    expect(imagine.out).toMatchInlineSnapshot(`
      "npm run cli -- imagine <prompt> — Create images from a text prompt
        <prompt>                                                 What to draw
        --negative/--neg "…"                                     What to avoid
        --aspect/--ar 1:1 | 16:9 | 9:16 | 4:3 | 3:4 | 3:2 | 2:3  Aspect ratio
        --count/--n 1–4 (1)                                      How many images (1-4)
        --seed <number>                                          Seed (random when empty)
        --model/--m <name> (/models)                             Checkpoint model
        --steps 1–60 (25)                                        Sampling steps (1-60)
        --cfg 1–20 (7)                                           Prompt strength, CFG (1-20)
        --out <folder>                                           Also save the results in this folder
      Example:
      npm run cli -- imagine a red fox in snow --aspect 16:9
      "
    `);
    const edit = await run(['edit', '-h'], { LANG: 'zh_TW.UTF-8' });
    expect(edit.out).toContain('  --image <file>         要修改的圖片（必填）');
    expect(edit.out.trimEnd().split('\n').slice(-2)).toEqual([
      '例如：',
      'npm run cli -- edit make it night --image ./photo.png',
    ]);
    expect((await run(['help', 'edit'], { LANG: 'zh_TW.UTF-8' })).out).toBe(edit.out);
  });

  it('refuses a bare command and an unknown option with usage and a suggestion, before starting anything', async () => {
    const bare = await run(['imagine']);
    expect(bare.code).toBe(2);
    expect(bare.err).toBe(
      '✘ Please add what to draw after npm run cli -- imagine, for example:\nnpm run cli -- imagine a red fox in snow\n',
    );
    const zh = await run(['imagine', 'fox', '--ratio', '16:9'], { LANG: 'zh_TW.UTF-8' });
    expect(zh.err).toBe('✘ 未知的選項 --ratio，你是不是要用 --aspect？\n');
  });

  it('asks for a missing file as a path to pass, and queues nothing', async () => {
    const comfy = await startFakeComfy({ models: fakeModels });
    try {
      const cfg = testConfig();
      const res = await run(['edit', 'make it night'], {
        REDIS_URL: cfg.redisUrl as string,
        QUEUE_PREFIX: cfg.queuePrefix,
        STORAGE_DIR: cfg.storageDir,
        COMFY_URL: comfy.url,
      });
      expect(res.code).toBe(2);
      expect(res.err).toBe(
        '✘ This command needs a picture: “The picture to edit”. Add --image followed by the file’s path, e.g. --image ./photo.png\n',
      );
      expect(comfy.submissions()).toBe(0);
    } finally {
      await comfy.close();
    }
  });
});
