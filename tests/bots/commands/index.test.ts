import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/bots/actions.js';
import { createActions, createCommands, listCommands } from '../../../src/bots/commands/index.js';
import { loadWorkflows } from '../../../src/comfy/workflows.js';
import { strictCommandDeps } from '../../support/command-deps.js';
import { recordingContext } from '../../support/doubles.js';

const workflows = loadWorkflows(path.resolve('workflows'));

describe('the command list', () => {
  it('has one command per workflow, then the built-ins, in menu order', () => {
    expect(createCommands(strictCommandDeps()).map((c) => c.name)).toEqual([
      ...[...workflows.keys()],
      'gallery',
      'show',
      'remix',
      'cancel',
      'me',
      'settings',
      'models',
      'help',
      'status',
      'start',
    ]);
  });

  it('uses names every platform accepts, each once', () => {
    const names = createCommands(strictCommandDeps()).map((c) => c.name);
    for (const n of names) expect(n).toMatch(/^[a-z0-9_]{1,32}$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it('marks only /status as admin-only, /start as hidden, /help and /start as public', () => {
    const cs = createCommands(strictCommandDeps());
    expect(cs.filter((c) => c.adminOnly).map((c) => c.name)).toEqual(['status']);
    expect(cs.filter((c) => c.hidden).map((c) => c.name)).toEqual(['start']);
    expect(cs.filter((c) => c.public).map((c) => c.name)).toEqual(['help', 'start']);
  });

  it('is listed without a running bot, and a listed command names what it lacked when run', async () => {
    const listed = listCommands(workflows, 500);
    expect(listed.map((c) => c.name)).toEqual(createCommands(strictCommandDeps()).map((c) => c.name));
    expect(listed.find((c) => c.name === 'remix')?.options.find((o) => o.name === 'prompt')).toMatchObject({
      maxLength: 500,
    });
    const gallery = listed.find((c) => c.name === 'gallery')!;
    await expect(gallery.run({}, recordingContext().ctx)).rejects.toThrow('a listed command used deps.');
  });
});

describe('the action list', () => {
  it('handles every kind of button exactly once', () => {
    const kinds = createActions(strictCommandDeps()).map((a) => a.kind);
    // `satisfies` makes this list fail to compile when a kind is added to Action.
    const every = {
      cancel: 1,
      reroll: 1,
      remix: 1,
      upscale: 1,
      follow_up: 1,
      original: 1,
      page: 1,
      open: 1,
      star: 1,
      withdraw: 1,
      me: 1,
      setting: 1,
      settings: 1,
    } satisfies Record<Action['kind'], 1>;
    expect([...kinds].sort()).toEqual(Object.keys(every).sort());
  });
});
