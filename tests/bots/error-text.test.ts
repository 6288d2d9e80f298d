import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorText, userErrorText } from '../../src/bots/error-text.js';
import { parseOptions } from '../../src/bots/validate.js';
import type { Manifest } from '../../src/comfy/manifest.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import { UserError } from '../../src/errors.js';
import { memoryLogger } from '../support/logger.js';

const workflows = loadWorkflows(path.resolve('workflows'));
const manifest = (name: string) => workflows.get(name)!.manifest;

function refusal(m: Manifest, raw: Record<string, unknown>): UserError {
  try {
    parseOptions(m.params, raw, 1000);
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('error texts', () => {
  it('answers a missing prompt with the command’s usage and an example to copy, in both languages', () => {
    const err = refusal(manifest('imagine'), {});
    expect(userErrorText(err, 'en', { command: 'imagine' })).toMatchInlineSnapshot(`
      "Please add what to draw after /imagine, for example:
      /imagine a red fox in snow"
    `);
    expect(userErrorText(err, 'zh-TW', { command: 'imagine' })).toMatchInlineSnapshot(`
      "請在 /imagine 後面加上要畫的內容，例如：
      /imagine a red fox in snow"
    `);
  });

  it('types the usage the way commands are typed there, and adds what else was wrong', () => {
    const err = refusal(manifest('edit'), { instruction: ' ', guidance: 11 });
    expect(userErrorText(err, 'en', { command: 'edit', prefix: 'npm run cli -- ' })).toMatchInlineSnapshot(`
      "Please add what to change after npm run cli -- edit, for example:
      npm run cli -- edit make it night

      Some options are not valid:
      • guidance must be 1–10"
    `);
  });

  it('gives the usage without an example for a command it has none for', () => {
    const mine: Manifest = { ...manifest('imagine'), command: 'mine' };
    expect(userErrorText(refusal(mine, {}), 'en', { command: 'mine' })).toBe('Please add what to draw after /mine.');
  });

  it('lists the missing text like any other problem when no command is known (a button, say)', () => {
    expect(userErrorText(refusal(manifest('imagine'), {}), 'en')).toBe(
      'Some options are not valid:\n• prompt is missing',
    );
  });

  it('takes the command from the dispatcher’s context, logs the refusal at info, and hides anything else behind a ref', () => {
    const { logger, lines } = memoryLogger('info');
    expect(errorText(refusal(manifest('video'), {}), 'en', logger, { command: 'video', userId: '1' })).toBe(
      'Please add what happens in the video after /video, for example:\n/video waves rolling onto a beach at sunset',
    );
    expect(lines.at(-1)).toMatchObject({ level: 30, key: 'error.invalid_options', command: 'video', msg: 'refused' });
    const internal = errorText(new Error('boom at http://10.0.0.5:8188'), 'zh-TW', logger, {});
    expect(internal).toMatch(/^發生錯誤（參考編號 [0-9a-f]{6}）。$/);
    expect(lines.at(-1)).toMatchObject({ level: 50, msg: 'handler failed', ref: /[0-9a-f]{6}/.exec(internal)?.[0] });
  });
});
