import { createAccess } from '../bots/access.js';
import { createBotService } from '../bots/service.js';
import { createDiscordFrontend } from '../bots/discord/frontend.js';
import { createTelegramFrontend } from '../bots/telegram/frontend.js';
import { createComfyClient, type ObjectInfo } from '../comfy/client.js';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import type { Config } from '../config.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import { createQuotas } from '../queue/quotas.js';
import { connectProducer } from '../queue/redis.js';
import { createLinkSigner, loadLinkSecret } from '../ops/links.js';
import { sqliteCheck } from '../ops/readiness.js';
import { startRetention } from '../ops/retention.js';
import { startFrontendCore } from './frontend-core.js';
import type { HttpServer } from './http-role.js';

/** History + queue client + every configured chat frontend; unfinished jobs are picked up again at start. */
export async function startBotRole(deps: {
  config: Config;
  redisUrl: string;
  workflows: WorkflowRegistry;
  logger: Logger;
  lifecycle: Lifecycle;
  /** The process's HTTP server (main.ts starts it): download links, readiness, queue depth. */
  http?: Pick<HttpServer, 'metrics' | 'addReadiness' | 'setLinkSigner'>;
}) {
  const { config, logger, lifecycle } = deps;
  const core = await startFrontendCore({
    config,
    redisUrl: deps.redisUrl,
    logger,
    lifecycle,
    workflows: deps.workflows,
  });
  const quotaRedis = await connectProducer(deps.redisUrl, logger);
  lifecycle.onShutdown('quota redis', () => void quotaRedis.disconnect());
  const access = createAccess(config.access);
  const quotas = createQuotas({
    redis: quotaRedis,
    prefix: config.queuePrefix,
    perMinute: config.rateLimitPerMinute,
    maxQueued: config.maxQueuedPerUser,
  });

  // Model lists for /models: read from the first ComfyUI, refreshed every OBJECT_INFO_REFRESH_S.
  const comfy = createComfyClient({ baseUrl: config.comfyUrls[0] as string, logger });
  let info: { at: number; value: ObjectInfo } | undefined;
  const objectInfo = async () => {
    if (!info || Date.now() - info.at > config.objectInfoRefreshMs) {
      try {
        info = { at: Date.now(), value: await comfy.objectInfo() };
      } catch (err) {
        logger.warn({ err }, 'could not read /object_info');
      }
    }
    return info?.value;
  };

  const service = createBotService({ ...core, access, quotas, logger, objectInfo });
  const retention = startRetention({
    storage: core.storage,
    repo: core.repo,
    logger,
    inputMaxAgeMs: config.inputRetentionMs,
    outputMaxAgeMs: config.outputRetentionMs,
  });
  lifecycle.onShutdown('retention', () => retention.stop());

  deps.http?.addReadiness('sqlite', sqliteCheck(core.db));
  deps.http?.metrics.setQueueDepthSource(() => core.producer.counts());
  // Download links, when this deployment has a public address; the process's HTTP server serves them.
  let linkFor: ((rel: string) => { url: string; hours: number }) | undefined;
  if (config.publicUrl) {
    const signer = createLinkSigner({
      secret: loadLinkSecret(config.storageDir),
      publicUrl: config.publicUrl,
      ttlMs: config.linkTtlMs,
    });
    deps.http?.setLinkSigner(signer);
    linkFor = (rel) => ({ url: signer.url(rel), hours: Math.round(config.linkTtlMs / 3_600_000) });
  }
  const frontends: string[] = [];
  if (config.telegram) {
    const tg = createTelegramFrontend({
      token: config.telegram.token,
      apiRoot: config.telegram.apiRoot,
      isLocalApi: config.telegram.isLocalApi,
      service,
      tracker: core.tracker,
      repo: core.repo,
      storage: core.storage,
      workflows: deps.workflows,
      isAdmin: (id) => access.isAdmin('telegram', id),
      logger,
      linkFor,
    });
    await tg.start();
    lifecycle.onShutdown('telegram', () => tg.stop());
    void Promise.all(core.tracker.reconcile('telegram', (r) => tg.sinkForRecord(r)));
    frontends.push('telegram');
  }
  if (config.discord) {
    const dc = createDiscordFrontend({
      ...config.discord,
      service,
      tracker: core.tracker,
      repo: core.repo,
      storage: core.storage,
      workflows: deps.workflows,
      isAdmin: (id) => access.isAdmin('discord', id),
      logger,
      linkFor,
      maxPromptChars: config.maxPromptChars,
    });
    await dc.start();
    lifecycle.onShutdown('discord', () => dc.stop());
    void Promise.all(core.tracker.reconcile('discord', (r) => dc.sinkForRecord(r)));
    frontends.push('discord');
  }
  logger.info({ frontends }, 'bot role started');
  return { core, service, frontends };
}
