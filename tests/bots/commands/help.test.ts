import { describe, expect, it } from 'vitest';
import { howToSend } from '../../../src/bots/command.js';
import { commandHelp, helpText } from '../../../src/bots/commands/help.js';
import { createCommands } from '../../../src/bots/commands/index.js';
import type { Param } from '../../../src/comfy/manifest.js';
import { t } from '../../../src/i18n/index.js';
import { strictCommandDeps } from '../../support/command-deps.js';
import { dispatcherFor, recordingContext } from '../../support/doubles.js';

const commands = createCommands(strictCommandDeps());
const command = (name: string) => commands.find((c) => c.name === name)!;
const telegramHint = (p: Param) =>
  t('en', p.type === 'audio' ? 'media.how_telegram_audio' : 'media.how_telegram_image');

describe('/help', () => {
  it('lists every workflow with its options, marks those that take files, says how to send them, ends with an example', () => {
    // A fixed set, so commands added later do not change this picture of the layout.
    const shown = ['edit', 'imagine', 'talk', 'upscale', 'gallery', 'remix', 'cancel', 'models'];
    const some = commands.filter((c) => shown.includes(c.name));
    expect(helpText(some, 'en', '/', telegramHint)).toMatchInlineSnapshot(`
      "Commands:
      /edit <instruction> 📎 — Change a picture with an instruction
         --seed <number> · --steps 1–50 (20) · --guidance 1–10 (2.5)
      /imagine <prompt> — Create images from a text prompt
         --negative/--neg "…" · --aspect/--ar 1:1 | 16:9 | 9:16 | 4:3 | 3:4 | 3:2 | 2:3 · --count/--n 1–4 (1) · --seed <number> · --model/--m <name> (/models) · --steps 1–60 (25) · --cfg 1–20 (7)
      /talk 📎 — Make a portrait speak a voice recording
         --prompt "…" · --seconds 5 | 10 | 15 | 30 | 60 · --seed <number>
      /upscale 📎 — Enlarge a picture 2× or 4× with an upscale model
         --factor 2 | 4

      /gallery [page] — Your past work
      /remix <job> [prompt] — Run a job again with changes
      /cancel [job] — Cancel a job
      /models — Models you can pick

      📎 Pictures: Send the picture with the command as its caption, or reply to a picture with the command.
      📎 Recordings: Send a voice message or an audio file with the command as its caption, or reply to one with the command.

      Options go after the text, as --name value.
      Example:
      /imagine a red fox in snow --aspect 16:9 --count 2"
    `);
  });

  it('ends with an example that copies cleanly: on its own line, no punctuation after it, in both languages', () => {
    for (const locale of ['en', 'zh-TW'] as const) {
      const lines = helpText(commands, locale, '/', telegramHint).split('\n');
      expect(lines.at(-1)).toBe('/imagine a red fox in snow --aspect 16:9 --count 2');
    }
  });

  it('says how files are sent on each platform, by the platform’s own hint', () => {
    const discord = helpText(commands, 'zh-TW', '/', () => t('zh-TW', 'media.how_discord'));
    expect(discord).toContain('/edit <instruction> 📎 — 用一句指示修改圖片');
    expect(discord).toContain('📎 圖片：請在指令的附件選項中加入檔案。');
    expect(discord).toContain('📎 錄音：請在指令的附件選項中加入檔案。');
  });

  it('shows files as options where they are typed (the terminal), in the user’s language and way of typing commands', () => {
    const zh = helpText(commands, 'zh-TW', 'npm run cli -- ');
    expect(zh.split('\n')[0]).toBe('指令：');
    expect(zh).toContain('npm run cli -- imagine <prompt> — ');
    expect(zh).toContain('npm run cli -- cancel [job] — ');
    expect(zh).toContain('   --image <file> · --seed <number>');
    expect(zh).not.toContain('📎');
    expect(zh).not.toMatch(/^\//m);
    expect(zh.split('\n').slice(-3)).toEqual([
      '選項寫在文字後面，用英文選項名稱：--選項 值',
      '例如：',
      'npm run cli -- imagine a red fox in snow --aspect 16:9 --count 2',
    ]);
  });

  it('leaves out hidden and admin-only commands', () => {
    const text = helpText(commands, 'en');
    expect(text).not.toContain('/start');
    expect(text).not.toContain('/status');
    expect(text).not.toContain('/help');
  });

  it('answers privately with the context’s own file hint', async () => {
    const d = dispatcherFor(strictCommandDeps());
    const c = recordingContext();
    await d.command('help', { text: '' }, c.ctx);
    expect(c.calls).toEqual([
      { op: 'reply', reply: { text: helpText(d.commands, 'en', '/', (p) => howToSend(c.ctx, p)), private: true } },
    ]);
    expect(c.replies[0]?.text).toContain(
      '📎 Pictures: Add --image1 followed by the file’s path, e.g. --image1 ./image1.file',
    );
  });

  it('drops the option lines when the whole help does not fit one message, and cuts only what still does not', async () => {
    const d = dispatcherFor(strictCommandDeps());
    const full = helpText(d.commands, 'en', '/', () => 'hint');
    const compact = helpText(d.commands, 'en', '/', () => 'hint', true);
    expect(compact.length).toBeLessThan(full.length);
    expect(compact).not.toContain('--seed <number>');
    expect(compact.split('\n').at(-1)).toBe('/imagine a red fox in snow --aspect 16:9 --count 2');
    const short = recordingContext({ maxText: full.length - 1 });
    await d.command('help', { text: '' }, short.ctx);
    expect(short.replies[0]?.text).not.toContain('--seed <number>');
    const tiny = recordingContext({ maxText: 50, commandPrefix: '!' });
    await d.command('help', { text: '' }, tiny.ctx);
    expect(tiny.replies[0]?.text).toHaveLength(50);
  });
});

describe('the help of one command (npm run cli -- <command> --help)', () => {
  it('lists each option with what it is, files as --name <file>, and an example with the files to pass', () => {
    expect(
      commandHelp(command('edit'), 'en', 'npm run cli -- ', [['--out <folder>', 'Also save the results here']]),
    ).toMatchInlineSnapshot(`
        "npm run cli -- edit <instruction> — Change a picture with an instruction
          <instruction>          What to change
          --image <file>         The picture to edit (required)
          --seed <number>        Seed (random when empty)
          --steps 1–50 (20)      Sampling steps (1-50)
          --guidance 1–10 (2.5)  How strongly to follow the instruction (1-10)
          --out <folder>         Also save the results here
        Example:
        npm run cli -- edit make it night --image ./photo.png"
      `);
  });

  it('speaks the user’s language, and shows a built-in’s free words as <required> and [optional]', () => {
    expect(commandHelp(command('remix'), 'zh-TW', 'npm run cli -- ')).toMatchInlineSnapshot(`
      "npm run cli -- remix <job> [prompt] — 修改後重新生成
        <job>     任務編號（見訊息或 /gallery）
        [prompt]  新的提示詞（留空則在表單中編輯）
      例如：
      npm run cli -- remix 1a2b3c4d a blue fox"
    `);
    expect(commandHelp(command('talk'), 'zh-TW', 'npm run cli -- ').split('\n').at(-1)).toBe(
      'npm run cli -- talk --seconds 10 --portrait ./photo.png --audio ./voice.ogg',
    );
  });
});
