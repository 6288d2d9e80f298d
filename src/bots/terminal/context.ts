import { statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { MAX_INPUT_BYTES } from '../../images/limits.js';
import type { Locale } from '../../i18n/index.js';
import type { Action } from '../actions.js';
import type { CommandContext, Identity, MediaRef, Reply } from '../command.js';
import type { ProgressSink } from '../progress/sink.js';
import { samplePath } from '../usage.js';
import { createTerminalSink } from './sink.js';

/**
 * CommandContext for `npm run cli -- <command>`: answers are printed, pictures written to a folder, a question is
 * asked on the terminal (or read from piped input), media options are file paths. The person at the terminal runs
 * the deployment, so they are an admin.
 */
export interface TerminalIo {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream;
  in?: NodeJS.ReadableStream;
}

export interface TerminalContextDeps {
  io: TerminalIo;
  locale: Locale;
  userId: string;
  /** Results and pictures are written here (results are also kept under STORAGE_DIR). */
  outDir?: string;
  /** Where pictures go when no --out was given. */
  scratchDir: string;
  /** `--image ./photo.png` and the like, by parameter name. */
  mediaPaths: Record<string, string>;
  /** An answer to `ask`, run as the action it stands for. */
  answer: (action: Action, text: string, ctx: CommandContext) => Promise<void>;
  /** Called before a job is queued (the terminal starts a worker of its own when none is online). */
  beforeJob?: () => Promise<void>;
}

export interface TerminalContext extends CommandContext {
  /** Set by `fail`: the command was refused. */
  readonly failed: boolean;
  /** The job this command started, once its sink was made; resolves with whether it succeeded. */
  readonly job?: { jobId?: string; done: Promise<boolean> };
}

export function createTerminalContext(deps: TerminalContextDeps): TerminalContext {
  const { io } = deps;
  const user: Identity = { platform: 'cli', userId: deps.userId, chatId: 'local', locale: deps.locale, isAdmin: true };
  let failed = false;
  let job: { jobId?: string; done: Promise<boolean> } | undefined;

  async function reply(r: Reply) {
    io.out.write(`${r.text}\n`);
    if (r.image) {
      const dir = deps.outDir ?? deps.scratchDir;
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, r.image.name);
      await writeFile(file, r.image.data);
      io.out.write(`  ${file}\n`);
    }
    for (const f of r.files ?? []) io.out.write(`  ${f}\n`);
    for (const row of r.rows ?? [])
      if (row.kind === 'select')
        for (const o of row.options) io.out.write(`${o.label}${o.description ? ` — ${o.description}` : ''}\n`);
  }

  const ctx: TerminalContext = {
    user,
    maxText: 100_000,
    commandPrefix: 'npm run cli -- ',
    get failed() {
      return failed;
    },
    get job() {
      return job;
    },
    async defer() {},
    async fail(text) {
      failed = true;
      io.err.write(`✘ ${text}\n`);
    },
    reply,
    update: reply,
    async ask(q) {
      if (!deps.io.in) return ctx.fail(q.text);
      const rl = createInterface({ input: deps.io.in, output: io.err as NodeJS.WritableStream, terminal: false });
      const text = await rl.question(`${q.label}${q.prefill ? ` [${q.prefill}]` : ''}: `).finally(() => rl.close());
      await deps.answer(q.action, text.trim() || q.prefill, ctx);
    },
    mediaHint: (p) => ({ key: 'media.how_terminal', params: { name: p.name, file: samplePath(p) } }),
    media(params) {
      const out: Record<string, MediaRef> = {};
      for (const p of params) {
        const file = deps.mediaPaths[p.name];
        if (!file || (p.type !== 'image' && p.type !== 'audio')) continue;
        const abs = path.resolve(file);
        out[p.name] = { kind: p.type, size: sizeOf(abs), maxBytes: MAX_INPUT_BYTES, fetch: () => readFile(abs) };
      }
      return out;
    },
    dropdowns: false,
    isChatAdmin: async () => false,
    // Nothing on a terminal has buttons to relabel.
    relabel: async () => {},
    async progressSink() {
      await deps.beforeJob?.();
      const inner = createTerminalSink({ out: io.out, outDir: deps.outDir });
      let settle!: (ok: boolean) => void;
      const current: { jobId?: string; done: Promise<boolean> } = { done: new Promise((r) => (settle = r)) };
      job = current;
      const sink: ProgressSink = {
        showProgress: (v) => ((current.jobId = v.jobId), inner.showProgress(v)),
        showResult: (v) => inner.showResult(v).finally(() => settle(true)),
        showFailure: (v) => inner.showFailure(v).finally(() => settle(false)),
      };
      return { sink };
    },
  };
  return ctx;
}

function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}
