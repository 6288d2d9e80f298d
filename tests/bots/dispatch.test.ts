import { describe, expect, it } from 'vitest';
import { createAccess } from '../../src/bots/access.js';
import { encodeAction } from '../../src/bots/actions.js';
import { type CommandDefinition, defineCommand } from '../../src/bots/command.js';
import { option } from '../../src/bots/commands/common.js';
import { type ActionHandler, createDispatcher, defineAction } from '../../src/bots/dispatch.js';
import { isValidParams } from '../../src/bots/validate.js';
import { UserError } from '../../src/errors.js';
import type { JobRecord } from '../../src/history/jobs-repo.js';
import { strictCommandDeps } from '../support/command-deps.js';
import {
  dispatcherFor,
  memoryRepo,
  quotasDouble,
  recordingContext,
  seedJob,
  tempStorage,
  trackerDouble,
  user,
} from '../support/doubles.js';
import { memoryLogger } from '../support/logger.js';

const closed = { allowedUsers: ['telegram:1'], allowedChats: [] };

/** A dispatcher over hand-made commands and actions that record what reached them. */
function custom(opts: { commands?: CommandDefinition[]; actions?: ActionHandler[]; admins?: string[] } = {}) {
  const repo = memoryRepo();
  const { logger, lines } = memoryLogger();
  const seen: Array<{ kind: string; record?: JobRecord; answer?: string }> = [];
  const reroll = defineAction({
    kind: 'reroll',
    async run(_action, _ctx, extra) {
      seen.push({ kind: 'reroll', ...extra });
    },
  });
  const d = createDispatcher({
    commands: opts.commands ?? [],
    actions: opts.actions ?? [reroll],
    access: createAccess({ admins: opts.admins ?? [], allowedUsers: [], allowedChats: [] }),
    repo,
    logger,
    maxPromptChars: 1000,
    suggest: async () => {
      throw new Error('unexpected use of suggest');
    },
  });
  return { d, repo, lines, seen };
}

const failing = (err: unknown) =>
  defineCommand({
    name: 'boom',
    description: { en: 'x', 'zh-TW': 'x' },
    options: [],
    async run() {
      throw err;
    },
  });

describe('commands through the dispatcher', () => {
  it('parses typed text once and hands the workflow validated options', async () => {
    const t = trackerDouble();
    const deps = strictCommandDeps({
      tracker: t.tracker,
      quotas: quotasDouble().quotas,
      repo: memoryRepo(),
      storage: tempStorage(),
    });
    const c = recordingContext({ media: {} });
    await dispatcherFor(deps).command('imagine', { text: 'a red fox --ar 16:9 --steps 8' }, c.ctx);
    expect(c.failures).toEqual([]);
    const params = t.submitted[0]?.params;
    expect(params).toMatchObject({ prompt: 'a red fox', aspect: '16:9', steps: 8, count: 1, cfg: 7 });
    expect(isValidParams(params!)).toBe(true);
  });

  it('takes platform-parsed values as they are (Discord options)', async () => {
    const got: unknown[] = [];
    const cmd = defineCommand<{ n: number }>({
      name: 'echo',
      description: { en: 'x', 'zh-TW': 'x' },
      options: [option({ name: 'n', type: 'int', min: 1, max: 9, default: 3, description: 'discord.option_page' })],
      async run(input) {
        got.push(input);
      },
    });
    const { d } = custom({ commands: [cmd] });
    await d.command('echo', { values: {} }, recordingContext().ctx);
    await d.command('echo', { values: { n: 5 } }, recordingContext().ctx);
    expect(got).toEqual([{ n: 3 }, { n: 5 }]);
  });

  it('answers bad options with their text and runs nothing', async () => {
    const c = recordingContext();
    await dispatcherFor(strictCommandDeps()).command('imagine', { text: 'a fox --steps 0 --bogus 1' }, c.ctx);
    expect(c.calls).toMatchInlineSnapshot(`
      [
        {
          "op": "fail",
          "text": "Unknown option --bogus.",
        },
      ]
    `);
  });

  it('refuses an unknown command by name', async () => {
    const c = recordingContext({ user: { locale: 'zh-TW' } });
    await dispatcherFor(strictCommandDeps()).command('nope', { text: '' }, c.ctx);
    expect(c.failures).toMatchInlineSnapshot(`
      [
        "沒有名為「nope」的工作流程。",
      ]
    `);
  });

  it('keeps a user off the allowlist out of commands, before their options are read', async () => {
    const c = recordingContext({ user: { userId: '2' } });
    await dispatcherFor(strictCommandDeps(), { access: closed }).command('gallery', { text: '--bogus' }, c.ctx);
    expect(c.calls).toEqual([{ op: 'fail', text: 'Sorry, this bot is not open to you here.' }]);
  });

  it('lets a chat in by any of its ids (a Discord guild)', async () => {
    const d = dispatcherFor(strictCommandDeps(), { access: { allowedChats: ['discord:guild-1'] } });
    const inGuild = recordingContext({ user: { platform: 'discord', chatId: 'chan-9', chatAliases: ['guild-1'] } });
    const elsewhere = recordingContext({ user: { platform: 'discord', chatId: 'chan-9' } });
    await d.command('start', { text: '' }, inGuild.ctx);
    await d.command('cancel', { text: '' }, elsewhere.ctx);
    expect(inGuild.failures).toEqual([]);
    expect(elsewhere.failures).toEqual(['Sorry, this bot is not open to you here.']);
  });

  it('still tells a refused user what the bot is (/start, /help)', async () => {
    const d = dispatcherFor(strictCommandDeps(), { access: closed });
    const c = recordingContext({ user: { userId: '2' } });
    await d.command('start', { text: '' }, c.ctx);
    await d.command('help', { text: '' }, c.ctx);
    expect(c.ops).toEqual(['reply', 'reply']);
  });

  it('refuses admin-only commands to everyone else, in their language', async () => {
    const d = dispatcherFor(strictCommandDeps());
    const en = recordingContext();
    const zh = recordingContext({ user: { locale: 'zh-TW' } });
    await d.command('status', { text: '' }, en.ctx);
    await d.command('status', { text: '' }, zh.ctx);
    expect([...en.calls, ...zh.calls]).toEqual([
      { op: 'fail', text: 'Only admins can use this command.' },
      { op: 'fail', text: '只有管理員可以使用這個指令。' },
    ]);
  });

  it('answers a refusal in the user’s language', async () => {
    const { d } = custom({ commands: [failing(new UserError('error.queue_cap', { max: 2 }))] });
    const en = recordingContext();
    const zh = recordingContext({ user: { locale: 'zh-TW' } });
    await d.command('boom', { text: '' }, en.ctx);
    await d.command('boom', { text: '' }, zh.ctx);
    expect([...en.failures, ...zh.failures]).toMatchInlineSnapshot(`
      [
        "You already have 2 jobs waiting or running. Wait for one to finish, or /cancel one.",
        "你已有 2 個任務在排隊或執行中。請等其中一個完成，或用 /cancel 取消。",
      ]
    `);
  });

  it('answers an unexpected error with a reference that is also in the error log', async () => {
    const { d, lines } = custom({ commands: [failing(new Error('disk on fire'))] });
    const en = recordingContext();
    const zh = recordingContext({ user: { locale: 'zh-TW' } });
    await d.command('boom', { text: '' }, en.ctx);
    await d.command('boom', { text: '' }, zh.ctx);
    const refs = lines.filter((l) => l.msg === 'handler failed').map((l) => l.ref);
    expect(refs).toHaveLength(2);
    expect(en.failures).toEqual([`Something went wrong (ref ${refs[0]}).`]);
    expect(zh.failures).toEqual([`發生錯誤（參考編號 ${refs[1]}）。`]);
    expect(refs[0]).toMatch(/^[0-9a-f]{6}$/);
    expect(JSON.stringify(lines)).not.toContain('"refused"');
  });

  it('logs, and does not throw, when even the error cannot be sent', async () => {
    const { d, lines } = custom({ commands: [failing(new UserError('error.admin_only'))] });
    const c = recordingContext();
    c.ctx.fail = async () => {
      throw new Error('chat gone');
    };
    await expect(d.command('boom', { text: '' }, c.ctx)).resolves.toBeUndefined();
    expect(lines.map((l) => l.msg)).toEqual(['refused', 'could not send the error']);
  });
});

describe('actions through the dispatcher', () => {
  it('says a button we did not make is from an older message', async () => {
    const { d, seen } = custom();
    const en = recordingContext();
    const zh = recordingContext({ user: { locale: 'zh-TW' } });
    await d.action('v0:r:1234abcd', en.ctx);
    await d.action('v1:u:1234abcd-1234', zh.ctx);
    await d.action({ kind: 'page', page: 1 }, en.ctx); // a kind with no handler here
    expect([...en.failures, ...zh.failures]).toMatchInlineSnapshot(`
      [
        "This button is from an older message and no longer works.",
        "This button is from an older message and no longer works.",
        "這個按鈕來自較舊的訊息，已無法使用。",
      ]
    `);
    expect(seen).toEqual([]);
  });

  it('hands the handler the caller’s job and the typed answer', async () => {
    const { d, repo, seen } = custom();
    const job = seedJob(repo, { userId: '1' });
    const c = recordingContext();
    await d.action(encodeAction({ kind: 'reroll', jobId: job.id }), c.ctx, 'a blue fox');
    expect(c.failures).toEqual([]);
    expect(seen).toEqual([{ kind: 'reroll', record: job, answer: 'a blue fox' }]);
  });

  it('refuses a stranger’s job before the handler runs', async () => {
    const { d, repo, seen } = custom();
    const job = seedJob(repo, { userId: '2' });
    const c = recordingContext();
    await d.action({ kind: 'reroll', jobId: job.id }, c.ctx);
    expect(c.failures).toEqual([`No job ${job.id} of yours was found.`]);
    expect(seen).toEqual([]);
  });

  it('lets an admin act on anyone’s job', async () => {
    const { d, repo, seen } = custom();
    const job = seedJob(repo, { userId: '2' });
    await d.action({ kind: 'reroll', jobId: job.id }, recordingContext({ user: { isAdmin: true } }).ctx);
    expect(seen.map((s) => s.record?.id)).toEqual([job.id]);
  });

  it('keeps a user off the allowlist away from buttons, even their own', async () => {
    const repo = memoryRepo();
    const job = seedJob(repo, { userId: '2' });
    const d = dispatcherFor(strictCommandDeps({ repo }), { access: closed });
    const c = recordingContext({ user: { userId: '2' } });
    await d.action({ kind: 'reroll', jobId: job.id }, c.ctx);
    await d.action({ kind: 'page', page: 0 }, c.ctx);
    expect(c.failures).toEqual([
      'Sorry, this bot is not open to you here.',
      'Sorry, this bot is not open to you here.',
    ]);
  });
});

describe('suggestions while typing', () => {
  it('come from the option’s source, with what was typed', async () => {
    const asked: unknown[] = [];
    const d = dispatcherFor(strictCommandDeps(), {
      suggest: async (source, q) => {
        asked.push({ source, command: q.command, option: q.option, query: q.query });
        return [{ name: 'abc', value: 'abc' }];
      },
    });
    expect(await d.suggest('remix', 'job', 'ab', user())).toEqual([{ name: 'abc', value: 'abc' }]);
    expect(await d.suggest('imagine', 'model', 'dream', user())).toHaveLength(1);
    expect(asked).toEqual([
      { source: 'jobs', command: 'remix', option: 'job', query: 'ab' },
      { source: 'models', command: 'imagine', option: 'model', query: 'dream' },
    ]);
  });

  it('are empty for options without a source and for users the bot is closed to', async () => {
    const d = dispatcherFor(strictCommandDeps(), { access: closed }); // its suggester throws if asked
    expect(await d.suggest('imagine', 'prompt', 'a', user())).toEqual([]);
    expect(await d.suggest('nope', 'job', 'a', user())).toEqual([]);
    expect(await d.suggest('remix', 'job', 'a', user({ userId: '2' }))).toEqual([]);
  });
});
