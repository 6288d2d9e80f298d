import { createAccess } from '../bots/access.js';
import { createActions, createCommands } from '../bots/commands/index.js';
import type { CommandDeps } from '../bots/commands/deps.js';
import { createSuggester } from '../bots/commands/suggest.js';
import { createDispatcher } from '../bots/dispatch.js';
import { createJobTracker } from '../bots/jobs/tracker.js';
import { createComfyClient, type ObjectInfo } from '../comfy/client.js';
import { loadWorkflows } from '../comfy/workflows.js';
import type { Config } from '../config.js';
import { createAsksRepo } from '../history/asks-repo.js';
import { openDb } from '../history/db.js';
import { createJobsRepo } from '../history/jobs-repo.js';
import { createSettingsRepo } from '../history/settings-repo.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../ops/metrics.js';
import { createJobEvents } from '../queue/events.js';
import { createProducer } from '../queue/producer.js';
import { createQuotas } from '../queue/quotas.js';
import { connectProducer, createRedis } from '../queue/redis.js';
import { createStorage } from '../storage.js';
import { createFrontendFiles } from '../transfer/frontend-files.js';
import { openTransfer } from './transfer.js';

/**
 * What every frontend (the chat bots and the terminal) shares: history, the producer, job events, the job tracker,
 * and the one command dispatcher built from the command list.
 */
export async function startFrontendCore(deps: {
  config: Config;
  redisUrl: string;
  logger: Logger;
  lifecycle: Lifecycle;
  workflows?: ReturnType<typeof loadWorkflows>;
  metrics?: Metrics;
}) {
  const { config, logger, lifecycle } = deps;
  const workflows = deps.workflows ?? loadWorkflows(config.workflowsDir);
  const storage = createStorage(config.storageDir);
  const db = openDb(config.databasePath);
  lifecycle.onShutdown('sqlite', () => void db.close());
  const repo = createJobsRepo({ db });
  const asks = createAsksRepo({ db });
  // /settings; `settings.settingsFor(platform, userId, chatId?)` is the read API for sinks (pings, spoilers).
  const settings = createSettingsRepo({ db });
  const producerRedis = await connectProducer(deps.redisUrl, logger);
  lifecycle.onShutdown('producer redis', () => void producerRedis.disconnect());
  const transfer = await openTransfer({ config, redisUrl: deps.redisUrl, logger, side: 'frontend' });
  lifecycle.onShutdown('transfer', () => transfer.close());
  // A worker on another disk gets the inputs through the transfer store, and sends the outputs back through it.
  const files = createFrontendFiles({ ...transfer, storage, workflows, logger });
  const producer = files.wrapProducer(
    createProducer({
      redis: producerRedis,
      prefix: config.queuePrefix,
      workflows: workflows.keys(),
      // Admins' jobs jump the fair-share queue.
      isAdmin: (platform, userId) => config.access.admins.includes(`${platform}:${userId}`),
    }),
  );
  lifecycle.onShutdown('producer', () => producer.close());
  const events = createJobEvents({
    connection: () => createRedis(deps.redisUrl, 'worker', logger),
    prefix: config.queuePrefix,
    workflows: workflows.keys(),
    logger,
  });
  lifecycle.onShutdown('job events', () => events.close());
  await events.ready();
  const tracker = createJobTracker({
    producer,
    events,
    repo,
    storage,
    workflows,
    logger,
    progressIntervalMs: config.progressIntervalMs,
    heartbeatMs: config.heartbeatMs,
    previewIntervalMs: config.previewIntervalMs,
    notifyAfterMs: config.notifyAfterMs,
    // A long job's completion ping, unless its user turned pings off in /settings.
    shouldPing: (r) => settings.settingsFor(r.platform, r.userId, r.chatId).pings,
    wantsSpoiler: (r) => settings.settingsFor(r.platform, r.userId, r.chatId).spoilers,
    maxPromptChars: config.maxPromptChars,
    onDeliveryRetry: (platform) => deps.metrics?.deliveryRetry(platform === 'discord' ? 'discord' : 'telegram'),
    onProgressEdit: (result) => deps.metrics?.progressEdit(result),
    // Handed on to the follower, which fetches the outputs before delivery.
    ...{ transfer: files },
  });
  lifecycle.onShutdown('tracker', () => tracker.close());
  const quotas = createQuotas({
    redis: producerRedis,
    prefix: config.queuePrefix,
    perMinute: config.rateLimitPerMinute,
    maxQueued: config.maxQueuedPerUser,
    gpuSecondsPerDay: config.gpuSecondsPerDay,
  });
  const access = createAccess(config.access);
  const commandDeps: CommandDeps = {
    tracker,
    repo,
    settings,
    producer,
    workflows,
    storage,
    access,
    quotas,
    logger,
    maxPromptChars: config.maxPromptChars,
    jobTimeoutMs: config.jobTimeoutMs,
    objectInfo: objectInfoReader(config, logger),
  };
  const dispatcher = createDispatcher({
    commands: createCommands(commandDeps),
    actions: createActions(commandDeps),
    access,
    repo,
    logger,
    maxPromptChars: config.maxPromptChars,
    suggest: createSuggester(commandDeps),
    settings,
  });
  return { transfer, workflows, storage, db, repo, asks, settings, producer, events, tracker, access, dispatcher };
}

/** Model lists for /models: read from the first ComfyUI, refreshed every OBJECT_INFO_REFRESH_S. */
function objectInfoReader(config: Config, logger: Logger) {
  const comfy = createComfyClient({ baseUrl: config.comfyUrls[0] as string, logger });
  let info: { at: number; value: ObjectInfo } | undefined;
  return async () => {
    if (!info || Date.now() - info.at > config.objectInfoRefreshMs) {
      try {
        info = { at: Date.now(), value: await comfy.objectInfo() };
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'could not read /object_info');
      }
    }
    return info?.value;
  };
}
