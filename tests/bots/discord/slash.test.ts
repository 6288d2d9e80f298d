import { describe, expect, it } from 'vitest';
import { createCommands } from '../../../src/bots/commands/index.js';
import { buildSlashCommands } from '../../../src/bots/discord/slash.js';
import { strictCommandDeps } from '../../support/command-deps.js';

describe('slash commands rendered from the manifests', () => {
  const commands = buildSlashCommands(createCommands(strictCommandDeps()), 1000);

  it('stay within Discord’s limits for every command', () => {
    for (const c of commands) {
      expect(c.name).toMatch(/^[a-z0-9_-]{1,32}$/);
      expect(c.description.length).toBeLessThanOrEqual(100);
      expect(c.description_localizations['zh-TW']?.length).toBeGreaterThan(0);
      expect(c.options.length).toBeLessThanOrEqual(25);
      const required = c.options.map((o) => Boolean(o.required));
      expect(required).toEqual([...required].sort((a, b) => Number(b) - Number(a))); // required first
      for (const o of c.options) {
        expect(o.name).toMatch(/^[a-z0-9_-]{1,32}$/);
        expect(o.description.length).toBeLessThanOrEqual(100);
        expect((o.choices ?? []).length).toBeLessThanOrEqual(25);
        expect(o.choices && o.autocomplete).toBeFalsy();
      }
      const chars =
        c.name.length +
        c.description.length +
        c.options.reduce(
          (n, o) =>
            n +
            o.name.length +
            o.description.length +
            (o.choices ?? []).reduce((m, ch) => m + ch.name.length + ch.value.length, 0),
          0,
        );
      expect(chars).toBeLessThanOrEqual(8000);
    }
  });

  it('types options by parameter kind', () => {
    const imagine = commands.find((c) => c.name === 'imagine')!;
    const byName = Object.fromEntries(imagine.options.map((o) => [o.name, o]));
    expect(byName.prompt).toMatchObject({ type: 3, required: true, max_length: 1000 });
    expect(byName.count).toMatchObject({ type: 4, min_value: 1, max_value: 4 });
    expect(byName.cfg).toMatchObject({ type: 10, min_value: 1, max_value: 20 });
    expect(byName.model).toMatchObject({ type: 3, autocomplete: true });
    expect(byName.aspect?.choices?.map((c) => c.value)).toEqual(['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3']);
    expect(commands.find((c) => c.name === 'talk')!.options.find((o) => o.name === 'audio')).toMatchObject({
      type: 11,
      required: true,
    });
    expect(commands.find((c) => c.name === 'status')!.default_member_permissions).toBe('0');
  });
});
