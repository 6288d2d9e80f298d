import { describe, expect, it } from 'vitest';
import { helpText } from '../../../src/bots/commands/help.js';
import { createCommands } from '../../../src/bots/commands/index.js';
import { strictCommandDeps } from '../../support/command-deps.js';
import { dispatcherFor, recordingContext } from '../../support/doubles.js';

const commands = createCommands(strictCommandDeps());

describe('/help', () => {
  it('lists every workflow with its options, then the built-ins, from the command list', () => {
    expect(helpText(commands, 'en')).toMatchInlineSnapshot(`
      "Commands:
      /blend <prompt> — Combine 2 to 4 pictures into one, guided by a prompt
         --seed <number> · --steps 1–50 (20)
      /edit <instruction> — Change a picture with an instruction
         --seed <number> · --steps 1–50 (20) · --guidance 1–10 (2.5)
      /faceswap — Put a face onto the people in a picture
         --restore on | off
      /imagine <prompt> — Create images from a text prompt
         --negative/--neg "…" · --aspect/--ar 1:1 | 16:9 | 9:16 | 4:3 | 3:4 | 3:2 | 2:3 · --count/--n 1–4 (1) · --seed <number> · --model/--m <name> (/models) · --steps 1–60 (25) · --cfg 1–20 (7)
      /sketch <prompt> — Turn a sketch into a picture
         --lines dark | light · --strength 0.1–2 (0.9) · --aspect/--ar 1:1 | 4:3 | 3:4 | 16:9 | 9:16 · --seed <number>
      /talk — Make a portrait speak a voice recording
         --prompt "…" · --seconds 5 | 10 | 15 | 30 | 60 · --seed <number>
      /upscale — Enlarge a picture 2× or 4× with an upscale model
         --factor 2 | 4
      /video <prompt> — Make a short video from a prompt, optionally starting from a picture
         --seconds 2 | 3 | 5 · --aspect/--ar 1:1 | 16:9 | 9:16 · --seed <number>

      Options go after the text as --name value, e.g. /imagine a fox --aspect 16:9 --count 2.
      /gallery [page] — Your past work
      /remix <job> [prompt] — Run a job again with changes
      /cancel [job] — Cancel a job
      /models — Models you can pick"
    `);
  });

  it('speaks the user’s language and the platform’s way of typing commands', () => {
    const zh = helpText(commands, 'zh-TW', 'npm run cli -- ');
    expect(zh.split('\n')[0]).toBe('指令：');
    expect(zh).toContain('npm run cli -- imagine <prompt> — ');
    expect(zh).toContain('npm run cli -- cancel [job] — ');
    expect(zh).not.toMatch(/^\//m);
  });

  it('leaves out hidden and admin-only commands', () => {
    const text = helpText(commands, 'en');
    expect(text).not.toContain('/start');
    expect(text).not.toContain('/status');
    expect(text).not.toContain('/help');
  });

  it('answers privately, cut to what one message may hold', async () => {
    const d = dispatcherFor(strictCommandDeps());
    const c = recordingContext({ maxText: 50, commandPrefix: '!' });
    await d.command('help', { text: '' }, c.ctx);
    expect(c.calls).toEqual([
      { op: 'reply', reply: { text: helpText(d.commands, 'en', '!').slice(0, 50), private: true } },
    ]);
    expect(c.replies[0]?.text).toHaveLength(50);
  });
});
