import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `npm start` and `npm run cli` run dist/, which `npm ci` builds (the `prepare` script). These run the built entries
 * the way the scripts do, in commands that stop before Redis or ComfyUI: the files load, and paths that were
 * written relative to the source (the shipped workflows/) resolve from dist/ too.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const { WORKFLOWS_DIR: _, ...env } = process.env;
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      args,
      { cwd: root, env: { ...env, STORAGE_DIR: mkdtempSync(path.join(tmpdir(), 'relay-dist-')) }, timeout: 20_000 },
      (_err, out, err) => resolve({ code: child.exitCode, out, err }),
    );
  });
}

describe('the built entry points', () => {
  it('exist once npm ci (or npm run build) has run', () => {
    const missing = ['dist/main.js', 'dist/cli/main.js'].filter((f) => !existsSync(path.join(root, f)));
    expect(missing, 'dist/ is built by `npm ci` (prepare) or `npm run build`').toEqual([]);
  });

  it('npm run cli -- workflows lists the shipped workflows, found from dist/', async () => {
    const shipped = readdirSync(path.join(root, 'workflows'))
      .filter((f) => f.endsWith('.manifest.json'))
      .map((f) => f.slice(0, -'.manifest.json'.length));
    const { code, out } = await run(['dist/cli/main.js', 'workflows']);
    expect(code).toBe(0);
    expect(out.split('\n').map((l) => l.split(' ')[0])).toEqual(expect.arrayContaining(shipped));
  });

  it('npm start refuses an unknown role before starting anything', async () => {
    const { code, err } = await run(['dist/main.js', 'nope']);
    expect([code, err.trim()]).toEqual([2, 'unknown role "nope"; use one of: all, worker, bot']);
  });
});
