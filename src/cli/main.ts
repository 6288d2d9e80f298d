import { existsSync } from 'node:fs';
import path from 'node:path';
import { codeLayout, isEntryModule, staleSource } from '../app/code-layout.js';
import { findEmbeddedRedis, startEmbeddedRedis } from '../app/embedded-redis.js';
import type { CommandDefinition } from '../bots/command.js';
import { listCommands } from '../bots/commands/index.js';
import { commandHelp, helpText } from '../bots/commands/help.js';
import { userErrorText } from '../bots/error-text.js';
import { parseArgs, takeMediaPaths } from '../bots/parse-args.js';
import { createTerminalContext, type TerminalIo } from '../bots/terminal/context.js';
import { helpExample } from '../bots/usage.js';
import { parseOptions } from '../bots/validate.js';
import { loadWorkflows, type WorkflowRegistry } from '../comfy/workflows.js';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { isUserError } from '../errors.js';
import { type Locale, pickLocale, t } from '../i18n/index.js';
import { createLifecycle, type Lifecycle } from '../lifecycle.js';
import { createLogger, type Logger } from '../logger.js';

/**
 * `npm run cli -- <command> …`: every chat command (workflows, gallery, remix, cancel, models, status, help) through the
 * same dispatcher as the bots, with the terminal as its context; plus `doctor` and `workflows`.
 * Exit codes: 0 success, 1 the job or a check failed, 2 bad usage or settings.
 */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
  io: TerminalIo & { in?: NodeJS.ReadableStream },
): Promise<number> {
  const locale = pickLocale(env.LC_ALL ?? env.LC_MESSAGES ?? env.LANG);
  let config: Config;
  try {
    // The CLI logs only warnings unless asked: the progress bar is the interface.
    config = loadConfig({ LOG_LEVEL: 'warn', ...env });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel }, io.err as never);
  const lifecycle = createLifecycle(logger);
  const [command, ...rest] = argv;
  try {
    const workflows = loadWorkflows(config.workflowsDir);
    const listed = listCommands(workflows, config.maxPromptChars);
    if (!command || command === '--help' || command === '-h') {
      io.out.write(`${usage(locale, listed)}\n`);
      return command ? 0 : 2;
    }
    const helpFor = command === 'help' ? rest[0] : rest.some((a) => a === '--help' || a === '-h') ? command : undefined;
    if (command === 'help' || helpFor) {
      const def = listed.find((d) => d.name === helpFor);
      io.out.write(
        `${def ? commandHelp(def, locale, CLI_PREFIX, cliOptions(locale, def)) : helpText(listed, locale, CLI_PREFIX)}\n`,
      );
      return 0;
    }
    if (command === 'workflows') {
      for (const wf of workflows.values()) io.out.write(`${wf.name.padEnd(12)} ${wf.manifest.description[locale]}\n`);
      return 0;
    }
    if (command === 'doctor') {
      const redisUrl = config.redisUrl ?? (await findEmbeddedRedis(config.storageDir));
      const { runDoctor } = await import('../ops/doctor.js');
      const lines = await runDoctor({ config, redisUrl, workflows, logger });
      for (const l of lines) io.out.write(`${l.ok ? '✔' : '✘'} ${l.text}\n`);
      return lines.every((l) => l.ok) ? 0 : 1;
    }
    return await runCommand({ config, logger, lifecycle, workflows, listed, locale, io, env, command, args: rest });
  } catch (err) {
    if (isUserError(err)) {
      io.err.write(`✘ ${userErrorText(err, locale, { command, prefix: CLI_PREFIX })}\n`);
      return 2;
    }
    io.err.write(`✘ ${(err as Error).message}\n`);
    return 1;
  } finally {
    await lifecycle.shutdown('cli done');
  }
}

const CLI_PREFIX = 'npm run cli -- ';

/** The usage: every command from the one list the bots use, plus the terminal's own, and an example to copy. */
function usage(locale: Locale, listed: readonly CommandDefinition[]): string {
  const rows: Array<[string, string]> = [
    ...listed.filter((d) => !d.hidden).map((d): [string, string] => [d.name, d.description[locale]]),
    ['doctor', t(locale, 'cli.doctor')],
    ['workflows', t(locale, 'cli.workflows')],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const example = helpExample(listed, CLI_PREFIX);
  return [
    t(locale, 'cli.usage'),
    ...rows.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`),
    t(locale, 'cli.more'),
    ...(example ? [t(locale, 'bot.help_example'), example] : []),
  ].join('\n');
}

/** What the terminal adds to a command's options: `--out`, for commands that make files. */
const cliOptions = (locale: Locale, def: CommandDefinition): Array<[string, string]> =>
  def.workflow ? [['--out <folder>', t(locale, 'cli.option_out')]] : [];

async function runCommand(c: {
  config: Config;
  logger: Logger;
  lifecycle: Lifecycle;
  workflows: WorkflowRegistry;
  listed: readonly CommandDefinition[];
  locale: Locale;
  io: TerminalIo;
  env: Record<string, string | undefined>;
  command: string;
  args: string[];
}): Promise<number> {
  const { config, logger, lifecycle, io } = c;
  const def = c.listed.find((d) => d.name === c.command);
  if (!def) {
    io.err.write(`${t(c.locale, 'error.unknown_workflow', { name: c.command })}\n${usage(c.locale, c.listed)}\n`);
    return 2;
  }
  const { outDir, tokens } = takeOut(c.args);
  const { paths, rest } = takeMediaPaths(def.options, tokens);
  const text = rest.map((x) => (/\s/.test(x) ? `"${x}"` : x)).join(' ');
  // Bad options are refused before anything else starts (Redis, a worker), as the dispatcher would refuse them.
  parseOptions(def.options, parseArgs(def, text), config.maxPromptChars);
  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    const embedded = await startEmbeddedRedis(config.storageDir, logger);
    lifecycle.onShutdown('embedded redis', () => embedded.stop());
    redisUrl = embedded.url;
  }
  // The queue, history and a worker load only for a command that runs a job: usage, help and workflows stay quick.
  const { startFrontendCore } = await import('../app/frontend-core.js');
  const core = await startFrontendCore({ config, redisUrl, logger, lifecycle, workflows: c.workflows });
  const ctx = createTerminalContext({
    io,
    locale: c.locale,
    userId: c.env.USER ?? 'local',
    outDir,
    scratchDir: path.join(config.storageDir, 'cli'),
    mediaPaths: paths,
    answer: (action, answer, context) => core.dispatcher.action(action, context, answer),
    // A job needs a worker: with none online (no heartbeat), run one here for this job, so the CLI works on its own.
    async beforeJob() {
      if ((await core.producer.onlineWorkers()).length > 0) return;
      io.err.write(`${t(c.locale, 'cli.local_worker')}\n`);
      const { startWorkerRole } = await import('../app/worker-role.js');
      await startWorkerRole({ config, redisUrl, workflows: c.workflows, logger, lifecycle });
    },
  });
  await core.dispatcher.command(def.name, { text }, ctx);
  if (ctx.failed) return 2;
  const job = ctx.job;
  if (!job) return 0;
  // Ctrl-C cancels the job (ComfyUI interrupt); a second Ctrl-C leaves at once.
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    io.err.write(`\n${t(c.locale, 'cli.cancelling')}\n`);
    if (job.jobId)
      void core.tracker
        .cancel(job.jobId, { platform: 'cli', userId: '', isAdmin: true })
        .catch((err) => logger.warn({ err }, 'cancel failed'));
  };
  process.on('SIGINT', onSigint);
  try {
    return (await job.done) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function takeOut(tokens: string[]): { outDir?: string; tokens: string[] } {
  const i = tokens.findIndex((x) => x === '--out' || x.startsWith('--out='));
  if (i < 0) return { tokens };
  const tok = tokens[i] as string;
  const value = tok.includes('=') ? tok.slice(tok.indexOf('=') + 1) : tokens[i + 1];
  const rest = [...tokens];
  rest.splice(i, tok.includes('=') ? 1 : 2);
  return { outDir: value ? path.resolve(value) : undefined, tokens: rest };
}

if (isEntryModule(import.meta.url, process.argv[1])) {
  if (existsSync('.env')) process.loadEnvFile('.env');
  warnIfStale()
    .then(() =>
      runCli(process.argv.slice(2), process.env, {
        out: process.stdout,
        err: process.stderr,
        in: process.stdin.isTTY ? process.stdin : undefined,
      }),
    )
    .then(
      (code) => process.exit(code),
      (err) => {
        process.stderr.write(`fatal: ${(err as Error).stack ?? String(err)}\n`);
        process.exit(1);
      },
    );
}

/** `npm run cli` runs dist/: in a checkout where src/ changed after the last build, that is old code. */
async function warnIfStale() {
  const layout = codeLayout(import.meta.url);
  const file = layout.dir === 'dist' ? await staleSource(layout.root).catch(() => undefined) : undefined;
  if (file) process.stderr.write(`warning: dist/ is older than ${file}: this runs the last build; run npm run build\n`);
}
