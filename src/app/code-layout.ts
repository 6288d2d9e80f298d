import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the running code sits: `src/` under tsx and vitest, `dist/` once `npm run build` (tsconfig.build.json) has
 * compiled it. Both are folders of the package root at the same depth, so a path written relative to a module (as
 * config.ts does for `../workflows`) resolves to the same place from either.
 */
export type CodeLayout = { root: string; dir: 'src' | 'dist' };

/** The layout of the module at `moduleUrl` (its `import.meta.url`): its nearest ancestor folder named src or dist. */
export function codeLayout(moduleUrl: string): CodeLayout {
  const file = fileURLToPath(moduleUrl);
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const name = path.basename(dir);
    if (name === 'src' || name === 'dist') return { root: path.dirname(dir), dir: name };
  }
  throw new Error(`${file} is neither under src/ nor under dist/`);
}

/** True when `moduleUrl` is the file node was started with (`node dist/cli/main.js`, `tsx src/cli/main.ts`). */
export function isEntryModule(moduleUrl: string, argv1: string | undefined): boolean {
  if (!argv1) return false;
  const strip = (p: string) => path.resolve(p).replace(/\.(ts|js)$/, '');
  return strip(argv1) === strip(fileURLToPath(moduleUrl));
}

/**
 * The first source file edited after the last build (its `.ts` newer than its `.js`, or no `.js` at all), or undefined
 * when dist/ is current. Only mtimes: a build compiles every file (tsconfig.build.json is not incremental), so each
 * output is newer than its source right after it. Without a src/ (the Docker image ships dist/ alone) there is nothing
 * to compare and the answer is undefined. Dependencies, tsconfig and deleted sources are not looked at.
 */
export async function staleSource(root: string): Promise<string | undefined> {
  const src = path.join(root, 'src');
  const files = await readdir(src, { recursive: true }).catch(() => [] as string[]);
  for (const rel of files) {
    if (!rel.endsWith('.ts') || rel.endsWith('.d.ts')) continue;
    const [from, to] = await Promise.all([
      stat(path.join(src, rel)),
      stat(path.join(root, 'dist', rel.replace(/\.ts$/, '.js'))).catch(() => undefined),
    ]);
    if (!to || from.mtimeMs > to.mtimeMs) return path.join('src', rel);
  }
  return undefined;
}
