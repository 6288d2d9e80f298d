import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { localized, mainText, option, ownedJob, paramsSummary } from '../../../src/bots/commands/common.js';
import { loadWorkflows } from '../../../src/comfy/workflows.js';
import { UserError } from '../../../src/errors.js';
import { memoryRepo, seedJob, user } from '../../support/doubles.js';

const workflows = loadWorkflows(path.resolve('workflows'));

describe('command helpers', () => {
  it('describe a built-in in both languages', () => {
    expect(localized('menu.cancel')).toEqual({ en: 'Cancel a job', 'zh-TW': expect.any(String) });
    expect(localized('menu.cancel')['zh-TW']).not.toBe('Cancel a job');
  });

  it('build options through the manifest schema, with their suggestion source', () => {
    const o = option({ name: 'job', type: 'text', maxLength: 36, description: 'discord.option_job' }, 'jobs');
    expect(o).toMatchObject({
      name: 'job',
      type: 'text',
      required: false,
      aliases: [],
      maxLength: 36,
      suggest: 'jobs',
    });
    expect(o.description.en).toBe('Job id (from a message or /gallery)');
    expect(
      option({ name: 'page', type: 'int', min: 1, max: 9, description: 'discord.option_page' }),
    ).not.toHaveProperty('suggest');
    expect(() => option({ name: 'Bad-Name', type: 'text', description: 'discord.option_job' })).toThrow();
  });

  it('find the caller’s own job by full or short id, and any job for an admin', () => {
    const repo = memoryRepo();
    const mine = seedJob(repo);
    const theirs = seedJob(repo, { userId: '2' });
    expect(ownedJob(repo, user(), mine.id).id).toBe(mine.id);
    expect(ownedJob(repo, user(), mine.shortId).id).toBe(mine.id);
    expect(ownedJob(repo, user({ isAdmin: true }), theirs.id).id).toBe(theirs.id);
  });

  it('refuse a job that is not the caller’s, quoting at most 36 characters of the id', () => {
    const repo = memoryRepo();
    const theirs = seedJob(repo, { userId: '2' });
    const refusal = (id: string) => {
      try {
        ownedJob(repo, user(), id);
      } catch (err) {
        return err as UserError;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal(theirs.id)).toMatchObject({ key: 'error.job_not_found', params: { id: theirs.id } });
    expect(refusal('x'.repeat(80)).params.id).toHaveLength(36);
    expect(refusal(theirs.id)).toBeInstanceOf(UserError);
  });

  it('read what a job was about under whatever name its manifest uses', () => {
    expect(mainText(workflows, { workflow: 'imagine', params: { prompt: 'a fox', negative: 'blur' } })).toBe('a fox');
    expect(mainText(workflows, { workflow: 'edit', params: { instruction: 'make it blue' } })).toBe('make it blue');
    expect(mainText(workflows, { workflow: 'faceswap', params: { face: 'a.png' } })).toBe('');
    expect(mainText(workflows, { workflow: 'gone', params: { prompt: 'x' } })).toBe('');
  });

  it('summarise params one per line, leaving out empty ones and cutting long text', () => {
    expect(paramsSummary({ prompt: 'a fox', negative: '', seed: 5, size: [1, 2], n: undefined })).toBe(
      'prompt: a fox\nseed: 5\nsize: [1,2]',
    );
    const long = paramsSummary({ prompt: 'x'.repeat(50) }, 20);
    expect(long).toHaveLength(20);
    expect(long.endsWith('…')).toBe(true);
  });
});
