import { loadWorkflows } from '../comfy/workflows.js';
import type { Config } from '../config.js';
import { createJobTracker } from '../bots/jobs.js';
import { openDb } from '../history/db.js';
import { createJobsRepo } from '../history/jobs-repo.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import { createJobEvents } from '../queue/events.js';
import { createProducer } from '../queue/producer.js';
import { connectProducer, createRedis } from '../queue/redis.js';
import { createStorage } from '../storage.js';

/** What every frontend (bot role, CLI) shares: history, the producer, job events and the job tracker. */
export async function startFrontendCore(deps: {
  config: Config;
  redisUrl: string;
  logger: Logger;
  lifecycle: Lifecycle;
  workflows?: ReturnType<typeof loadWorkflows>;
}) {
  const { config, logger, lifecycle } = deps;
  const workflows = deps.workflows ?? loadWorkflows(config.workflowsDir);
  const storage = createStorage(config.storageDir);
  const db = openDb(config.databasePath);
  lifecycle.onShutdown('sqlite', () => void db.close());
  const repo = createJobsRepo({ db });
  const producerRedis = await connectProducer(deps.redisUrl, logger);
  lifecycle.onShutdown('producer redis', () => void producerRedis.disconnect());
  const producer = createProducer({ redis: producerRedis, prefix: config.queuePrefix, workflows: workflows.keys() });
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
    maxPromptChars: config.maxPromptChars,
  });
  lifecycle.onShutdown('tracker', () => tracker.close());
  return { workflows, storage, db, repo, producer, events, tracker };
}
