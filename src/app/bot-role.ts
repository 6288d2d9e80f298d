import { createDiscordFrontend } from '../bots/discord/frontend.js';
import { createTelegramFrontend } from '../bots/telegram/frontend.js';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import type { Config } from '../config.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
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
      dispatcher: core.dispatcher,
      repo: core.repo,
      asks: core.asks,
      canUpscale: core.workflows.has('upscale'),
      isAdmin: (id) => core.access.isAdmin('telegram', id),
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
      dispatcher: core.dispatcher,
      canUpscale: core.workflows.has('upscale'),
      isAdmin: (id) => core.access.isAdmin('discord', id),
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
  return { core, frontends };
}
