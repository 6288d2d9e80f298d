import { existsSync } from 'node:fs';
import { startEmbeddedRedis } from './app/embedded-redis.js';
import { startBotRole } from './app/bot-role.js';
import { startWorkerRole } from './app/worker-role.js';
import { loadWorkflows } from './comfy/workflows.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLifecycle } from './lifecycle.js';
import { createLogger } from './logger.js';

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

  const workflows = loadWorkflows(config.workflowsDir);
  logger.info({ workflows: [...workflows.keys()], comfy: config.comfyUrls }, 'starting');
  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    const embedded = await startEmbeddedRedis(config.storageDir, logger, {
      // Without its queue the relay takes no jobs: exit non-zero (docker/systemd restart it) rather than sit idle.
      onFatal: () => void lifecycle.exit('embedded Redis could not be restarted', 1),
    });
    lifecycle.onShutdown('embedded redis', () => embedded.stop(), { lastResort: () => embedded.kill() });
    redisUrl = embedded.url;
  }
  if (role === 'all' || role === 'worker') await startWorkerRole({ config, redisUrl, workflows, logger, lifecycle });
  // The bot role runs when a chat platform is configured (or was asked for by name).
  if (role === 'bot' || (role === 'all' && (config.telegram || config.discord)))
    await startBotRole({ config, redisUrl, workflows, logger, lifecycle });
  logger.info({ role }, 'ready');
}

main().catch((err) => {
  process.stderr.write(`fatal: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
