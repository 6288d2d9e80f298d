import { describe, expect, it } from 'vitest';
import { decodeAction, encodeAction, type Action } from '../../../src/bots/actions.js';
import type { ActionRow, Reply } from '../../../src/bots/command.js';
import { modelToken } from '../../../src/bots/commands/settings-menu.js';
import { t } from '../../../src/i18n/index.js';
import { actionsOf, recordingContext } from '../../support/doubles.js';
import { MODELS, personalSetup } from './settings-support.js';

const replyOf = (c: ReturnType<typeof recordingContext>) => c.replies.at(-1) as Reply;
const selects = (r: Reply) =>
  (r.rows ?? []).filter((x): x is Extract<ActionRow, { kind: 'select' }> => x.kind === 'select');
const buttons = (r: Reply) => (r.rows ?? []).flatMap((x) => (x.kind === 'buttons' ? x.buttons : []));
const tg = (o: Parameters<typeof recordingContext>[0] = {}) => recordingContext({ chatAdmin: false, media: {}, ...o });

describe('/settings: the menu', () => {
  it('shows the summary privately with a button per setting (Telegram), in place of a long keyboard', async () => {
    const s = personalSetup();
    const c = tg();
    await s.d.command('settings', { text: '' }, c.ctx);
    expect(c.failures).toEqual([]);
    const r = replyOf(c);
    expect(r.private).toBe(true);
    expect(r.text).toMatchInlineSnapshot(`
      "⚙️ Your settings
      Language: auto (English)
      Aspect ratio: default
      Model: default
      Images per job: default
      Steps: default
      Results: public
      Ping when done: on
      Spoilers: off

      Type a change: /settings aspect 16:9 · /settings reset"
    `);
    expect(buttons(r).map((b) => b.label)).toEqual([
      'Language',
      'Aspect ratio',
      'Model',
      'Images per job',
      'Steps',
      'Results: public',
      'Ping when done: on',
      'Spoilers: off',
      '↺ Reset all',
    ]);
    expect(selects(r)).toEqual([]);
  });

  it('offers dropdowns where the platform has them (Discord): five at most, distinct ids, every pick within 64 bytes', async () => {
    const s = personalSetup();
    const c = tg({ dropdowns: true });
    await s.d.command('settings', { text: '' }, c.ctx);
    const menus = selects(replyOf(c));
    expect(menus.map((m) => m.placeholder)).toEqual([
      'Language: auto (English)',
      'Aspect ratio: default',
      'Model: default',
      'Images per job: default · Steps: default',
      'Results: public · Ping when done: on · Spoilers: off',
    ]);
    expect(menus.every((m) => m.options.length <= 25)).toBe(true);
    // Discord names a select by its picks' shared prefix: each must differ from the others.
    const prefixes = menus.map((m) => encodeAction(m.options[0]!.action).replace(/[^:]*$/, ''));
    expect(new Set(prefixes).size).toBe(menus.length);
    for (const m of menus)
      for (const o of m.options) {
        const data = encodeAction(o.action);
        expect(data.replace(/[^:]*$/, '')).toBe(encodeAction(m.options[0]!.action).replace(/[^:]*$/, ''));
        expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
        expect(decodeAction(data)).toEqual(o.action);
      }
    expect(menus[2]!.options.map((o) => o.label)).toEqual(['✓ default', ...MODELS]);
  });

  it('opens one setting’s choices in place and goes back', async () => {
    const s = personalSetup();
    const c = tg();
    await s.d.action({ kind: 'settings', view: 'aspect' }, c.ctx);
    const r = replyOf(c);
    expect(c.calls[0]).toEqual({ op: 'defer', opts: { update: true } });
    expect(c.calls[1]?.op).toBe('update');
    expect(r.text).toBe('Aspect ratio — pick one:\nAspect ratio: default');
    expect(selects(r)[0]!.options.map((o) => o.short)).toEqual([
      '✓ default',
      '1:1',
      '16:9',
      '9:16',
      '4:3',
      '3:4',
      '3:2',
      '2:3',
    ]);
    expect(buttons(r)).toEqual([{ label: '« Back', action: { kind: 'settings', view: 'main' } }]);
    await s.d.command('settings', { text: 'steps' }, c.ctx);
    expect(replyOf(c).text).toBe('Steps — pick one:\nSteps: default');
  });
});

describe('/settings: changing them', () => {
  it('stores a typed pair, a --flag or a Discord option, and says so', async () => {
    const s = personalSetup();
    const c = tg();
    await s.d.command('settings', { text: 'aspect 16:9' }, c.ctx);
    await s.d.command('settings', { text: '--steps 30 --count 2' }, c.ctx);
    await s.d.command('settings', { values: { visibility: 'private', pings: 'off', model: MODELS[0] } }, c.ctx);
    expect(c.failures).toEqual([]);
    expect(s.settings.get('telegram', '1')).toEqual({
      aspect: '16:9',
      steps: 30,
      count: 2,
      visibility: 'private',
      pings: false,
      model: MODELS[0],
    });
    expect(replyOf(c).text.split('\n').slice(0, 2)).toEqual(['✅ Saved.', '']);
  });

  it('refuses what no workflow accepts, naming the problem, and stores nothing', async () => {
    const s = personalSetup();
    const c = tg();
    await s.d.command('settings', { text: 'aspect 7:5' }, c.ctx);
    await s.d.command('settings', { text: 'steps 500' }, c.ctx);
    await s.d.command('settings', { text: 'model nope.safetensors' }, c.ctx);
    await s.d.command('settings', { text: 'steps' }, c.ctx);
    expect(c.failures).toHaveLength(3);
    expect(c.failures[2]).toBe('ComfyUI has no model called "nope.safetensors". See /models.');
    expect(s.settings.get('telegram', '1')).toEqual({});
  });

  it('puts one setting back with "default", and all of them with /settings reset', async () => {
    const s = personalSetup();
    const c = tg();
    s.settings.set('telegram', '1', { aspect: '16:9', steps: 30, language: 'zh-TW' });
    await s.d.command('settings', { text: 'steps default' }, c.ctx);
    expect(s.settings.get('telegram', '1')).toEqual({ aspect: '16:9', language: 'zh-TW' });
    await s.d.command('settings', { text: 'reset' }, c.ctx);
    expect(s.settings.get('telegram', '1')).toEqual({});
    // Back to the platform's language at once.
    expect(replyOf(c).text.split('\n')[0]).toBe('↺ Your settings are back to the defaults.');
  });

  it('applies a menu pick and redraws the menu in place; a model pick carries only its hash', async () => {
    const s = personalSetup();
    const c = tg();
    await s.d.action({ kind: 'setting', key: 'aspect', value: '9:16' }, c.ctx);
    await s.d.action(encodeAction({ kind: 'setting', key: 'model', value: modelToken(MODELS[1]!) }), c.ctx);
    await s.d.action({ kind: 'setting', key: 'pings', value: 'off' }, c.ctx);
    expect(c.failures).toEqual([]);
    expect(s.settings.get('telegram', '1')).toEqual({ aspect: '9:16', model: MODELS[1], pings: false });
    expect(c.ops).toEqual(['defer', 'update', 'defer', 'update', 'defer', 'update']);
    expect(buttons(replyOf(c)).find((b) => b.label.startsWith('Ping'))).toEqual({
      label: 'Ping when done: off',
      action: { kind: 'setting', key: 'pings', value: 'on' },
    });
  });

  it('answers a pick from an outdated menu with a clear refusal', async () => {
    const s = personalSetup();
    const c = tg();
    await s.d.action({ kind: 'setting', key: 'model', value: '#00000000' }, c.ctx);
    await s.d.action({ kind: 'setting', key: 'colour', value: 'red' }, c.ctx);
    expect(c.failures).toEqual([
      'This menu is out of date. Open /settings again.',
      'This menu is out of date. Open /settings again.',
    ]);
  });
});

describe('/settings: language', () => {
  it('switches the replies (and the job’s progress) to the chosen language, and back to the platform’s on auto', async () => {
    const s = personalSetup();
    const c = tg();
    await s.d.command('settings', { text: 'language zh-TW' }, c.ctx);
    expect(replyOf(c).text.split('\n')[0]).toBe('✅ 已儲存。');
    await s.d.command('gallery', { text: '' }, c.ctx);
    expect(replyOf(c).text).toBe(t('zh-TW', 'bot.gallery_empty'));
    await s.d.command('imagine', { text: 'a fox' }, c.ctx);
    expect(s.submitted[0]!.requester.locale).toBe('zh-TW');
    expect(c.sinkOpts.at(-1)).toEqual({ private: false, locale: 'zh-TW' });
    await s.d.command('nope', { text: '' }, c.ctx);
    expect(c.failures.at(-1)).toBe('沒有名為「nope」的工作流程。');
    await s.d.action({ kind: 'setting', key: 'language', value: '-' }, c.ctx);
    expect(replyOf(c).text.split('\n').slice(2, 4)).toEqual(['⚙️ Your settings', 'Language: auto (English)']);
  });

  it('understands the language by its usual names', async () => {
    const s = personalSetup();
    await s.d.command('settings', { text: 'language 繁體中文' }, tg().ctx);
    await s.d.command('settings', { text: 'language zh' }, tg().ctx);
    expect(s.settings.get('telegram', '1').language).toBe('zh-TW');
    await s.d.command('settings', { text: 'language English' }, tg().ctx);
    expect(s.settings.get('telegram', '1').language).toBe('en');
  });
});

describe('/settings: defaults in workflow commands', () => {
  it('fill the options a command leaves out; a typed option wins', async () => {
    const s = personalSetup();
    s.settings.set('telegram', '1', { aspect: '16:9', steps: 30, count: 2, model: MODELS[0] });
    await s.d.command('imagine', { text: 'a fox' }, tg().ctx);
    await s.d.command('imagine', { text: 'a fox --ar 1:1 --steps 12' }, tg().ctx);
    await s.d.command('imagine', { values: { prompt: 'a fox', count: 1 } }, tg().ctx);
    expect(s.submitted.map((r) => [r.params.aspect, r.params.steps, r.params.count, r.params.model])).toEqual([
      ['16:9', 30, 2, MODELS[0]],
      ['1:1', 12, 2, MODELS[0]],
      ['16:9', 30, 1, MODELS[0]],
    ]);
  });

  it('apply only where a workflow has the option and accepts the value', async () => {
    const s = personalSetup();
    s.settings.set('telegram', '1', { aspect: '3:2', steps: 50 });
    const c = tg();
    // video has aspects, but not 3:2, and no steps.
    await s.d.command('video', { text: 'waves' }, c.ctx);
    expect(c.failures).toEqual([]);
    expect(s.submitted.at(-1)!.params.aspect).toBe('1:1');
    expect(s.submitted.at(-1)!.params).not.toHaveProperty('steps');
  });
});

describe('/settings: results only for me', () => {
  it('acknowledges privately and asks the platform for a private progress message', async () => {
    const s = personalSetup();
    s.settings.set('telegram', '1', { visibility: 'private' });
    const c = tg();
    await s.d.command('imagine', { text: 'a fox' }, c.ctx);
    expect(c.calls.find((x) => x.op === 'defer')).toEqual({ op: 'defer', opts: { private: true } });
    expect(c.sinkOpts).toEqual([{ private: true, locale: 'en' }]);
  });
});

describe('/settings: a chat’s spoiler policy', () => {
  it('is offered to and set by the chat’s admins only', async () => {
    const s = personalSetup();
    const member = tg({ user: { chatId: '-100' } });
    await s.d.command('settings', { text: 'chat_spoilers on' }, member.ctx);
    expect(member.failures).toEqual(['Only the admins of this chat can set its spoiler policy.']);
    expect(actionsOf(replyOf(member)?.rows)).toEqual([]);
    const admin = tg({ user: { chatId: '-100', userId: '9' }, chatAdmin: true });
    await s.d.command('settings', { text: 'chat_spoilers on' }, admin.ctx);
    expect(admin.failures).toEqual([]);
    expect(replyOf(admin).text).toContain('Spoilers in this chat: on');
    expect(buttons(replyOf(admin)).map((b) => b.label)).toContain('Spoilers in this chat');
    expect(s.settings.chat('telegram', '-100')).toEqual({ spoilers: 'on' });
    expect(s.settings.settingsFor('telegram', '1', '-100')).toMatchObject({ spoilers: true, spoilersBy: 'chat' });
    await s.d.action({ kind: 'setting', key: 'chat_spoilers', value: '-' } satisfies Action, admin.ctx);
    expect(s.settings.chat('telegram', '-100')).toEqual({});
  });
});
