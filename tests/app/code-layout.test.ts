import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codeLayout, isEntryModule, staleSource } from '../../src/app/code-layout.js';

const root = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const url = (...parts: string[]) => pathToFileURL(path.join(root, ...parts)).href;

describe('code layout', () => {
  it('finds the package root from a module under src/ and from its build under dist/', () => {
    expect(codeLayout(url('src', 'app', 'code-layout.ts'))).toEqual({ root, dir: 'src' });
    expect(codeLayout(url('dist', 'app', 'code-layout.js'))).toEqual({ root, dir: 'dist' });
    expect(codeLayout(url('dist', 'main.js'))).toEqual({ root, dir: 'dist' });
    // This very test runs the source, as vitest does.
    expect(codeLayout(new URL('../../src/app/code-layout.ts', import.meta.url).href).dir).toBe('src');
  });

  it('resolves a path written relative to a module (config.ts → ../workflows) to the same folder from both', () => {
    const fromSrc = fileURLToPath(new URL('../workflows', url('src', 'config.ts')));
    const fromDist = fileURLToPath(new URL('../workflows', url('dist', 'config.js')));
    expect(fromDist).toBe(fromSrc);
    expect(fromSrc).toBe(path.join(root, 'workflows'));
  });

  it('refuses a module that is under neither folder', () => {
    expect(() => codeLayout(pathToFileURL('/opt/elsewhere/main.js').href)).toThrow(
      'neither under src/ nor under dist/',
    );
  });

  it('recognises the entry module whether node runs the .ts or the built .js', () => {
    expect(isEntryModule(url('src', 'cli', 'main.ts'), path.join(root, 'src', 'cli', 'main.ts'))).toBe(true);
    expect(isEntryModule(url('dist', 'cli', 'main.js'), path.join(root, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(isEntryModule(url('dist', 'cli', 'main.js'), path.join(root, 'dist', 'main.js'))).toBe(false);
    expect(isEntryModule(url('src', 'cli', 'main.ts'), undefined)).toBe(false);
  });
});

describe('stale build check', () => {
  /** A package with src/ and dist/ whose files have the given ages (seconds before now). */
  function tree(files: Record<string, number>): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'relay-layout-'));
    const now = Date.now() / 1000;
    for (const [rel, age] of Object.entries(files)) {
      const file = path.join(dir, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, '');
      utimesSync(file, now - age, now - age);
    }
    return dir;
  }

  it('says nothing when every source is older than its build', async () => {
    const dir = tree({ 'src/main.ts': 60, 'src/app/x.ts': 60, 'dist/main.js': 10, 'dist/app/x.js': 10 });
    expect(await staleSource(dir)).toBeUndefined();
  });

  it('names a source edited after the last build', async () => {
    const dir = tree({ 'src/main.ts': 60, 'src/app/x.ts': 5, 'dist/main.js': 10, 'dist/app/x.js': 10 });
    expect(await staleSource(dir)).toBe(path.join('src', 'app', 'x.ts'));
  });

  it('names a source added since the last build, and ignores declaration files', async () => {
    expect(await staleSource(tree({ 'src/main.ts': 60, 'src/new.ts': 60, 'dist/main.js': 10 }))).toBe(
      path.join('src', 'new.ts'),
    );
    expect(await staleSource(tree({ 'src/main.ts': 60, 'src/types.d.ts': 1, 'dist/main.js': 10 }))).toBeUndefined();
  });

  it('says nothing without a src/ (the Docker image ships dist/ alone)', async () => {
    expect(await staleSource(tree({ 'dist/main.js': 10 }))).toBeUndefined();
  });
});
