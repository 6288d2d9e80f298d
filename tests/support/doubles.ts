import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ActionRow, CommandContext, Identity, MediaRef, Reply } from '../../src/bots/command.js';
import type { Submitted, JobTracker } from '../../src/bots/jobs/tracker.js';
import type { FailureView, ProgressSink, ProgressView, ResultView } from '../../src/bots/progress/sink.js';
import { createAccess, type AccessConfig } from '../../src/bots/access.js';
import type { Action } from '../../src/bots/actions.js';
import { createActions, createCommands } from '../../src/bots/commands/index.js';
import type { CommandDeps } from '../../src/bots/commands/deps.js';
import { createDispatcher, type Suggester } from '../../src/bots/dispatch.js';
import type { Param } from '../../src/comfy/manifest.js';
import { UserError } from '../../src/errors.js';
import { openDb } from '../../src/history/db.js';
import { createJobsRepo, type JobRecord, type JobsRepo, type Owner } from '../../src/history/jobs-repo.js';
import type { Logger } from '../../src/logger.js';
import type { QuotaLeft, Quotas } from '../../src/queue/quotas.js';
import type { OutputFile } from '../../src/queue/contracts.js';
import { createStorage, type Storage } from '../../src/storage.js';
import { memoryLogger } from './logger.js';

/**
 * Hand-written doubles of the command layer's ports. Each throws on any call the test did not script, and records
 * the calls it did, in order, into an optional shared journal (`['tracker.ensureRunnable', 'quotas.check', …]`) so a
 * test can pin the order across doubles.
 */

/** `impl` as a T whose every other member throws when touched. */
export function strict<T extends object>(name: string, impl: Partial<T> = {}): T {
  return new Proxy(impl as T, {
    get(target, key) {
      if (key in target) return target[key as keyof T];
      if (key === 'then' || typeof key === 'symbol') return undefined;
      throw new Error(`unexpected use of ${name}.${String(key)}`);
    },
  });
}

export type Journal = string[];

export const user = (over: Partial<Identity> = {}): Identity => ({
  platform: 'telegram',
  userId: '1',
  chatId: '100',
  locale: 'en',
  isAdmin: false,
  ...over,
});

export type CtxCall =
  | { op: 'defer'; opts?: { private?: boolean; update?: boolean } }
  | { op: 'fail'; text: string }
  | { op: 'reply'; reply: Reply }
  | { op: 'update'; reply: Reply }
  | { op: 'ask'; question: { text: string; title: string; label: string; prefill: string; action: Action } }
  | { op: 'media'; params: string[] }
  | { op: 'progressSink' }
  | { op: 'relabel'; label: string };

/**
 * A CommandContext that records what the command did. `media` is the files that came with the command (by param
 * name); without it, asking for media throws. The progress sink it hands out throws when used: the tracker double
 * never shows progress.
 */
export function recordingContext(
  opts: {
    user?: Partial<Identity>;
    maxText?: number;
    commandPrefix?: string;
    media?: Record<string, MediaRef>;
    messageId?: string;
    journal?: Journal;
    /** Selects are dropdowns here (Discord); default false. */
    dropdowns?: boolean;
    /** What `isChatAdmin` answers; without it, asking throws. */
    chatAdmin?: boolean;
  } = {},
) {
  const calls: CtxCall[] = [];
  /** What each `progressSink` call asked for (private, locale). */
  const sinkOpts: Array<Parameters<CommandContext['progressSink']>[0]> = [];
  const note = (c: CtxCall) => {
    calls.push(c);
    opts.journal?.push(`ctx.${c.op}`);
  };
  const sink = strict<ProgressSink>('sink');
  const ctx: CommandContext = {
    user: user(opts.user),
    maxText: opts.maxText ?? 4096,
    commandPrefix: opts.commandPrefix ?? '/',
    defer: async (o) => note(o === undefined ? { op: 'defer' } : { op: 'defer', opts: o }),
    fail: async (text) => note({ op: 'fail', text }),
    reply: async (reply) => note({ op: 'reply', reply }),
    update: async (reply) => note({ op: 'update', reply }),
    ask: async (question) => note({ op: 'ask', question }),
    media(params: readonly Param[]) {
      if (!opts.media) throw new Error('unexpected use of ctx.media');
      note({ op: 'media', params: params.map((p) => p.name) });
      return opts.media;
    },
    mediaHint: (p) => ({ key: 'media.how_terminal', params: { name: p.name, file: `./${p.name}.file` } }),
    progressSink: async (o) => {
      note({ op: 'progressSink' });
      sinkOpts.push(o);
      return { sink, messageId: opts.messageId };
    },
    dropdowns: opts.dropdowns ?? false,
    async isChatAdmin() {
      if (opts.chatAdmin === undefined) throw new Error('unexpected use of ctx.isChatAdmin');
      return opts.chatAdmin;
    },
    relabel: async (label) => note({ op: 'relabel', label }),
  };
  return {
    ctx,
    calls,
    sink,
    sinkOpts,
    get ops() {
      return calls.map((c) => c.op);
    },
    get failures() {
      return calls.flatMap((c) => (c.op === 'fail' ? [c.text] : []));
    },
    get replies() {
      return calls.flatMap((c) => (c.op === 'reply' || c.op === 'update' ? [c.reply] : []));
    },
  };
}

/** A file that came with a command; `fetched` counts downloads. */
export function mediaRef(
  bytes: Buffer,
  opts: { kind?: 'image' | 'audio'; size?: number; maxBytes?: number; journal?: Journal } = {},
) {
  const ref = {
    kind: opts.kind ?? 'image',
    size: opts.size,
    maxBytes: opts.maxBytes ?? 20e6,
    fetched: 0,
    async fetch() {
      ref.fetched += 1;
      opts.journal?.push('ref.fetch');
      return bytes;
    },
  } satisfies MediaRef & { fetched: number };
  return ref;
}

type SubmitReq = Parameters<JobTracker['submit']>[0];

/**
 * A JobTracker that records submissions and cancels. `ensureRunnable` passes unless told to throw; `cancel` finds
 * the job in `repo` the way the tracker does (owner or admin) and answers `outcome`.
 */
export function trackerDouble(
  opts: { journal?: Journal; refuse?: Error; repo?: JobsRepo; outcome?: 'removed' | 'signalled' | 'gone' } = {},
) {
  const submitted: SubmitReq[] = [];
  const cancelled: Array<{ id: string; owner: Owner }> = [];
  const tracker = strict<JobTracker>('tracker', {
    async ensureRunnable(workflow: string) {
      opts.journal?.push(`tracker.ensureRunnable:${workflow}`);
      if (opts.refuse) throw opts.refuse;
    },
    async submit(req: SubmitReq): Promise<Submitted> {
      opts.journal?.push('tracker.submit');
      submitted.push(req);
      const jobId = randomUUID();
      return { jobId, shortId: jobId.slice(0, 8), position: 0, params: req.params, done: Promise.resolve() };
    },
    async cancel(id: string, owner: Owner) {
      opts.journal?.push('tracker.cancel');
      cancelled.push({ id, owner });
      const record = opts.repo?.getOwned(id, owner);
      if (!record) throw new UserError('error.job_not_found', { id: id.slice(0, 36) });
      return { record, outcome: opts.outcome ?? 'signalled' };
    },
  });
  return { tracker, submitted, cancelled };
}

/** Quotas that pass (or throw `refuse`) and record what they were asked; `remaining` answers `left` when given. */
export function quotasDouble(opts: { journal?: Journal; refuse?: Error; left?: QuotaLeft } = {}) {
  const checks: Array<{ userId: string; unfinished: number }> = [];
  const quotas: Quotas = {
    async check(u, unfinished) {
      opts.journal?.push('quotas.check');
      checks.push({ userId: u.userId, unfinished });
      if (opts.refuse) throw opts.refuse;
    },
    async remaining() {
      if (!opts.left) throw new Error('unexpected use of quotas.remaining');
      return opts.left;
    },
  };
  return { quotas, checks };
}

/** History on a real in-memory SQLite database. */
export function memoryRepo(now: () => number = Date.now): JobsRepo {
  return createJobsRepo({ db: openDb(':memory:'), now });
}

export const tempStorage = (): Storage => createStorage(mkdtempSync(path.join(tmpdir(), 'relay-cmd-')));

/** A history row, optionally finished; `at` orders the rows (newest last). */
export function seedJob(
  repo: JobsRepo,
  job: {
    userId?: string;
    platform?: string;
    workflow?: string;
    params?: Record<string, unknown>;
    status?: JobRecord['status'];
    outputs?: OutputFile[];
    at?: number;
    id?: string;
  } = {},
): JobRecord {
  const id = job.id ?? randomUUID();
  repo.insert({
    id,
    platform: job.platform ?? 'telegram',
    userId: job.userId ?? '1',
    workflow: job.workflow ?? 'imagine',
    params: job.params ?? { prompt: 'a red fox' },
    createdAt: job.at,
  });
  const status = job.status ?? 'succeeded';
  if (status === 'running') repo.markRunning(id);
  if (status === 'succeeded' || status === 'failed' || status === 'cancelled')
    repo.finish(id, { status, outputs: job.outputs ?? [] });
  return repo.get(id) as JobRecord;
}

export const imageOutput = (jobId: string, n: number): OutputFile => ({
  path: `outputs/${jobId}/0${n}.png`,
  kind: 'image',
  mime: 'image/png',
  bytes: 10,
  node: 'save',
});

/** A ProgressSink that records every view it was shown. */
export function recordingSink() {
  const progress: ProgressView[] = [];
  const results: ResultView[] = [];
  const failures: FailureView[] = [];
  const sink: ProgressSink = {
    showProgress: async (v) => void progress.push(v),
    showResult: async (v) => void results.push(v),
    showFailure: async (v) => void failures.push(v),
  };
  return { sink, progress, results, failures };
}

/** The actions under a reply, flattened (buttons and select options alike). */
export const actionsOf = (rows: ActionRow[] | undefined): Action[] =>
  (rows ?? []).flatMap((r) => (r.kind === 'buttons' ? r.buttons.map((b) => b.action) : r.options.map((o) => o.action)));

/**
 * The real dispatcher over the real command list, built from `deps` (usually `strictCommandDeps`): open access
 * unless `access` says otherwise, and a suggester that throws unless given.
 */
export function dispatcherFor(
  deps: CommandDeps,
  opts: { access?: Partial<AccessConfig>; logger?: Logger; suggest?: Suggester } = {},
) {
  return createDispatcher({
    commands: createCommands(deps),
    actions: createActions(deps),
    access: createAccess({ admins: [], allowedUsers: [], allowedChats: [], ...opts.access }),
    // Read only when an action names a job, so a test without history fails loudly only then.
    get repo() {
      return deps.repo;
    },
    logger: opts.logger ?? memoryLogger().logger,
    maxPromptChars: deps.maxPromptChars,
    suggest:
      opts.suggest ??
      (async () => {
        throw new Error('unexpected use of suggest');
      }),
  });
}
