import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { startEmbeddedRedis, findEmbeddedRedis } from '../app/embedded-redis.js';
import { startFrontendCore } from '../app/frontend-core.js';
import { startWorkerRole } from '../app/worker-role.js';
import { parseWorkflowArgs } from '../bots/parse-args.js';
import { createTerminalSink } from '../bots/terminal/sink.js';
import { loadWorkflows } from '../comfy/workflows.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { isUserError, UserError } from '../errors.js';
import { MAX_INPUT_BYTES } from '../images/limits.js';
import { storeInputs } from '../media/store-inputs.js';
import { pickLocale, t, type Locale } from '../i18n/index.js';
import { createLifecycle, type Lifecycle } from '../lifecycle.js';
import { createLogger, type Logger } from '../logger.js';
import { runDoctor } from '../ops/doctor.js';

/**
 * `npm run cli -- <workflow> "prompt" [--option value …] [--out DIR]`, `doctor`, `workflows`.
 * Exit codes: 0 success, 1 the job or a check failed, 2 bad usage or settings.
 */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
  io: { out: NodeJS.WritableStream & { isTTY?: boolean }; err: NodeJS.WritableStream },
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
    if (!command || command === 'help' || command === '--help') {
      io.out.write(`${t(locale, 'cli.usage')}\n`);
      return command ? 0 : 2;
    }
    if (command === 'workflows') {
      for (const wf of workflows.values()) io.out.write(`${wf.name.padEnd(12)} ${wf.manifest.description[locale]}\n`);
      return 0;
    }
    if (command === 'doctor') {
      const redisUrl = config.redisUrl ?? (await findEmbeddedRedis(config.storageDir));
      const lines = await runDoctor({ config, redisUrl, workflows, logger });
      for (const l of lines) io.out.write(`${l.ok ? '✔' : '✘'} ${l.text}\n`);
      return lines.every((l) => l.ok) ? 0 : 1;
    }
    const workflow = workflows.get(command);
    if (!workflow) {
      io.err.write(`${t(locale, 'error.unknown_workflow', { name: command })}\n${t(locale, 'cli.usage')}\n`);
      return 2;
    }
    const { outDir, tokens } = takeOut(rest);
    const params = parseWorkflowArgs(workflow.manifest, tokens, { allowMedia: true });
    return await runJob({ config, logger, lifecycle, workflows, locale, io, workflowName: command, params, outDir });
  } catch (err) {
    if (isUserError(err)) {
      io.err.write(`✘ ${t(locale, err.key as never, err.params)}\n`);
      return 2;
    }
    io.err.write(`✘ ${(err as Error).message}\n`);
    return 1;
  } finally {
    await lifecycle.shutdown('cli done');
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

async function runJob(ctx: {
  config: Config;
  logger: Logger;
  lifecycle: Lifecycle;
  workflows: ReturnType<typeof loadWorkflows>;
  locale: Locale;
  io: { out: NodeJS.WritableStream & { isTTY?: boolean }; err: NodeJS.WritableStream };
  workflowName: string;
  params: Record<string, unknown>;
  outDir?: string;
}): Promise<number> {
  const { config, logger, lifecycle } = ctx;
  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    const embedded = await startEmbeddedRedis(config.storageDir, logger);
    lifecycle.onShutdown('embedded redis', () => embedded.stop());
    redisUrl = embedded.url;
  }
  const core = await startFrontendCore({ config, redisUrl, logger, lifecycle, workflows: ctx.workflows });
  // No worker online (no heartbeat): run one here for this job, so the CLI works on its own.
  if ((await core.producer.onlineWorkers()).length === 0) {
    ctx.io.err.write(`${t(ctx.locale, 'cli.local_worker')}\n`);
    await startWorkerRole({ config, redisUrl, workflows: ctx.workflows, logger, lifecycle });
  }
  let failed = false;
  const sink = createTerminalSink({ out: ctx.io.out, outDir: ctx.outDir });
  const wrapped = {
    ...sink,
    showFailure: async (v: Parameters<typeof sink.showFailure>[0]) => {
      failed = true;
      await sink.showFailure(v);
    },
  };
  // Media options are file paths on this machine: read them and store them like any upload.
  const workflow = ctx.workflows.get(ctx.workflowName)!;
  const media: Record<string, Buffer> = {};
  const params = { ...ctx.params };
  for (const p of workflow.manifest.params) {
    if ((p.type !== 'image' && p.type !== 'audio') || typeof params[p.name] !== 'string') continue;
    const file = path.resolve(String(params[p.name]));
    if ((await stat(file)).size > MAX_INPUT_BYTES)
      throw new UserError('input.file_too_big', {
        size: ((await stat(file)).size / 1e6).toFixed(1),
        max: MAX_INPUT_BYTES / 1e6,
      });
    media[p.name] = await readFile(file);
    delete params[p.name];
  }
  const submitted = await core.tracker.submit({
    workflow: ctx.workflowName,
    params: await storeInputs(workflow, params, media, core.storage),
    requester: { platform: 'cli', userId: process.env.USER ?? 'local', locale: ctx.locale },
    sink: wrapped,
  });
  // Ctrl-C cancels the job (ComfyUI interrupt); a second Ctrl-C leaves at once.
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    ctx.io.err.write(`\n${t(ctx.locale, 'cli.cancelling')}\n`);
    void core.tracker
      .cancel(submitted.jobId, { platform: 'cli', userId: '', isAdmin: true })
      .catch((err) => logger.warn({ err }, 'cancel failed'));
  };
  process.on('SIGINT', onSigint);
  try {
    await submitted.done;
  } finally {
    process.off('SIGINT', onSigint);
  }
  return failed ? 1 : 0;
}

const isEntry =
  process.argv[1] &&
  path.resolve(process.argv[1]).replace(/\.ts$/, '') ===
    path.resolve(new URL(import.meta.url).pathname).replace(/\.ts$/, '');
if (isEntry) {
  if (existsSync('.env')) process.loadEnvFile('.env');
  runCli(process.argv.slice(2), process.env, { out: process.stdout, err: process.stderr }).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`fatal: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
