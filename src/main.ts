import { existsSync } from 'node:fs';
import { codeLayout, staleSource } from './app/code-layout.js';
import { EmbeddedRedisError, startEmbeddedRedis } from './app/embedded-redis.js';
import { startHttpServer } from './app/http-role.js';
import { startupSummary } from './app/startup-summary.js';
import { loadWorkflows } from './comfy/workflows.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLifecycle } from './lifecycle.js';
import { createLogger, type Logger, scrubSecrets } from './logger.js';
import { createMetrics } from './ops/metrics.js';
import { isExpectedOutage, reasonOf } from './ops/outage-log.js';
import { redisCheck } from './ops/readiness.js';
import { createRedis } from './queue/redis.js';
import { createStorage } from './storage.js';

/** `npm start` runs every role the settings allow; `npm start -- worker` runs one. */
const roles = ['all', 'worker', 'bot'] as const;
type Role = (typeof roles)[number];

async function main() {
  const role = (process.argv[2] ?? 'all') as Role;
  if (!roles.includes(role)) {
    process.stderr.write(`unknown role "${role}"; use one of: ${roles.join(', ')}\n`);
    process.exit(2);
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  const lifecycle = createLifecycle(logger, { deadlineMs: config.shutdownTimeoutMs });
  lifecycle.installSignalHandlers();
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  warnIfStale(logger);

  // Each role's modules (and the SDKs behind them) load only when the role runs, and start loading now, while the
  // HTTP server and Redis start. The bot role runs when a chat platform is configured (or was asked for by name).
  const workerRole = role === 'all' || role === 'worker' ? import('./app/worker-role.js') : undefined;
  const botRole =
    role === 'bot' || (role === 'all' && (config.telegram || config.discord)) ? import('./app/bot-role.js') : undefined;
  // Awaited below; a failed load is reported there, not as an unhandled rejection now.
  void workerRole?.catch(() => undefined);
  void botRole?.catch(() => undefined);
  const workflows = loadWorkflows(config.workflowsDir);
  logger.info({ workflows: [...workflows.keys()], comfy: config.comfyUrls }, 'starting');
  // One HTTP server per process, whatever the role: /healthz answers while the roles start; each role adds its
  // readiness checks (and the bot role its download links) to it. Closed last.
  const http = await startHttpServer({
    port: config.httpPort,
    host: config.httpHost,
    storage: createStorage(config.storageDir),
    metrics: createMetrics({ workflows: workflows.keys() }),
    logger,
  });
  lifecycle.onShutdown('http', () => http.close());
  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    const embedded = await startEmbeddedRedis(config.storageDir, logger, {
      // Without its queue the relay takes no jobs: exit non-zero (docker/systemd restart it) rather than sit idle.
      onFatal: () => void lifecycle.exit('embedded Redis could not be restarted', 1),
    });
    lifecycle.onShutdown('embedded redis', () => embedded.stop(), { lastResort: () => embedded.kill() });
    redisUrl = embedded.url;
  }
  // A fail-fast connection of its own: PING answers at once while Redis is away, and it reconnects by itself.
  const readinessRedis = createRedis(redisUrl, 'producer', logger);
  readinessRedis.connect().catch(() => undefined);
  lifecycle.onShutdown('readiness redis', () => readinessRedis.disconnect());
  http.addReadiness('redis', redisCheck(readinessRedis));
  const workers = workerRole
    ? await (await workerRole).startWorkerRole({ config, redisUrl, workflows, logger, lifecycle, http })
    : [];
  if (botRole) await (await botRole).startBotRole({ config, redisUrl, workflows, logger, lifecycle, http });
  logger.info(startupSummary({ role, config, comfy: workers.map((w) => w.firstCheck) }));
  logger.info({ role }, 'ready');
}

/** `npm start` runs dist/: in a checkout where src/ changed after the last build, that is old code. */
function warnIfStale(logger: Logger) {
  const layout = codeLayout(import.meta.url);
  if (layout.dir !== 'dist') return;
  staleSource(layout.root)
    .then(
      (file) => file && logger.warn({ file }, 'dist/ is older than src/: this runs the last build; run npm run build'),
    )
    .catch((err) => logger.debug({ err }, 'could not compare src/ with dist/'));
}

main().catch((err) => {
  // What we can explain (no redis-server, a Redis that does not answer) is one line; anything else keeps its stack.
  const isExplained = err instanceof EmbeddedRedisError || isExpectedOutage(err);
  const text = isExplained ? reasonOf(err) : ((err as Error).stack ?? String(err));
  process.stderr.write(`fatal: ${scrubSecrets(text)}\n`);
  process.exit(1);
});
