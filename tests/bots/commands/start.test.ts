import { describe, expect, it } from 'vitest';
import { strictCommandDeps } from '../../support/command-deps.js';
import { dispatcherFor, recordingContext } from '../../support/doubles.js';

describe('/start', () => {
  it('greets in the user’s language, in the chat, touching nothing else', async () => {
    const d = dispatcherFor(strictCommandDeps());
    const en = recordingContext();
    const zh = recordingContext({ user: { locale: 'zh-TW' } });
    await d.command('start', { text: '' }, en.ctx);
    await d.command('start', { text: '' }, zh.ctx);
    expect([...en.calls, ...zh.calls]).toMatchInlineSnapshot(`
      [
        {
          "op": "reply",
          "reply": {
            "text": "Hi! I turn text and pictures into images with ComfyUI. Try /imagine a red fox in snow — or /help.",
          },
        },
        {
          "op": "reply",
          "reply": {
            "text": "嗨！我用 ComfyUI 把文字和圖片變成新圖片。試試 /imagine 雪地裡的紅狐狸，或輸入 /help。",
          },
        },
      ]
    `);
  });

  it('greets someone who came through a deep link (`/start <payload>`)', async () => {
    const d = dispatcherFor(strictCommandDeps());
    const plain = recordingContext();
    const linked = recordingContext();
    await d.command('start', { text: '' }, plain.ctx);
    await d.command('start', { text: 'ref_abc-123 --x' }, linked.ctx);
    expect(linked.calls).toEqual(plain.calls);
  });
});
