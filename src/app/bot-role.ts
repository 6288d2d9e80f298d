import type { WorkflowRegistry } from '../comfy/workflows.js';
import type { Config } from '../config.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import { createLinkSigner, loadLinkSecret } from '../ops/links.js';
import { sqliteCheck } from '../ops/readiness.js';
import { startRetention } from '../ops/retention.js';
import { renderRestarting } from '../bots/progress/render.js';
import { launch } from '../bots/keep-trying.js';
import type { ProgressSink } from '../bots/progress/sink.js';
import type { JobRecord } from '../history/jobs-repo.js';
import { startFrontendCore } from './frontend-core.js';

type SinkFor = (r: JobRecord) => ProgressSink | undefined;
import type { HttpServer } from './http-role.js';

/** History + queue client + every configured chat frontend; unfinished jobs are picked up again at start. */
export async function startBotRole(deps: {
  config: Config;
  redisUrl: string;
  workflows: WorkflowRegistry;
  logger: Logger;
  lifecycle: Lifecycle;
  /** The process's HTTP server (main.ts starts it): download links, readiness, queue depth. */
  http?: Pick<HttpServer, 'metrics' | 'addReadiness' | 'setLinkSigner' | 'addRoute'>;
}) {
  const { config, logger, lifecycle } = deps;
  // Each platform's SDK (grammY, discord.js) loads only when it is configured, while history and the queue open.
  const telegramModule = config.telegram ? import('../bots/telegram/frontend.js') : undefined;
  const discordModule = config.discord ? import('../bots/discord/frontend.js') : undefined;
  // Awaited below; a failed load is reported there, not as an unhandled rejection now.
  void telegramModule?.catch(() => undefined);
  void discordModule?.catch(() => undefined);
  const core = await startFrontendCore({
    config,
    redisUrl: deps.redisUrl,
    logger,
    lifecycle,
    workflows: deps.workflows,
    metrics: deps.http?.metrics,
  });
  const retention = startRetention({
    storage: core.storage,
    repo: core.repo,
    logger,
    inputMaxAgeMs: config.inputRetentionMs,
    outputMaxAgeMs: config.outputRetentionMs,
  });
  lifecycle.onShutdown('retention', () => retention.stop());
  // An object store keeps files until deleted: what a crash left behind goes after TRANSFER_TTL_H (Redis expires keys).
  const sweep = core.transfer.store.sweep;
  if (sweep) {
    const timer = setInterval(() => {
      sweep()
        .then((n) => n && logger.info({ files: n }, 'expired transfer files removed'))
        .catch((err) => logger.warn({ err }, 'could not sweep the object store'));
    }, 3_600_000);
    timer.unref();
    lifecycle.onShutdown('transfer sweep', () => clearInterval(timer));
  }

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
  const retries = new AbortController();
  const pausers: Array<() => Promise<void> | void> = [];
  /** Starts a platform (retrying in the background while it is unreachable), then picks up its unfinished jobs. */
  const bring = async (name: 'telegram' | 'discord', f: { start(): Promise<void>; sinkForRecord: SinkFor }) => {
    const reconcile = () => void Promise.all(core.tracker.reconcile(name, (r) => f.sinkForRecord(r)));
    const { started, later } = await launch(name, () => f.start(), { logger, signal: retries.signal });
    if (started) reconcile();
    else void later?.then((ok) => ok && reconcile());
    frontends.push(name);
  };
  if (config.telegram && telegramModule) {
    const tg = (await telegramModule).createTelegramFrontend({
      token: config.telegram.token,
      apiRoot: config.telegram.apiRoot,
      isLocalApi: config.telegram.isLocalApi,
      dispatcher: core.dispatcher,
      repo: core.repo,
      asks: core.asks,
      followUpsOf: (name: string) => core.workflows.get(name)?.manifest.followUps ?? [],
      isAdmin: (id) => core.access.isAdmin('telegram', id),
      logger,
      metrics: deps.http?.metrics,
      linkFor,
      webhook: telegramWebhook(config, deps.http),
      firstMessageGraceMs: config.progressGraceMs,
    });
    lifecycle.onShutdown('telegram', () => tg.stop());
    pausers.push(() => tg.stop());
    await bring('telegram', tg);
  }
  if (config.discord && discordModule) {
    const dc = (await discordModule).createDiscordFrontend({
      ...config.discord,
      dispatcher: core.dispatcher,
      followUpsOf: (name: string) => core.workflows.get(name)?.manifest.followUps ?? [],
      isAdmin: (id) => core.access.isAdmin('discord', id),
      logger,
      metrics: deps.http?.metrics,
      linkFor,
      maxPromptChars: config.maxPromptChars,
      firstMessageGraceMs: config.progressGraceMs,
    });
    lifecycle.onShutdown('discord', () => dc.stop());
    pausers.push(() => dc.pause());
    await bring('discord', dc);
  }
  // Shutdown runs in reverse: stop taking updates, then one edit per running job's message saying the bot restarts
  // (the chat clients still work), then the clients stop. The next start continues the same messages.
  lifecycle.onShutdown('tell running jobs', () =>
    core.tracker.suspendAll((r, locale) => ({
      ...renderRestarting(r.shortId, locale),
      jobId: r.id,
      shortId: r.shortId,
      locale,
      canCancel: false,
    })),
  );
  lifecycle.onShutdown('stop taking updates', async () => {
    retries.abort();
    await Promise.all(pausers.map((p) => p()));
  });
  logger.info({ frontends }, 'bot role started');
  return { core, frontends };
}

/** Webhook mode when TELEGRAM_WEBHOOK_URL is set: the updates come in through this process's HTTP server. */
function telegramWebhook(config: Config, http: Pick<HttpServer, 'addRoute'> | undefined) {
  const webhook = config.telegram?.webhook;
  if (!webhook) return undefined;
  if (!http) throw new Error('TELEGRAM_WEBHOOK_URL needs the HTTP server, which this process does not run');
  return { ...webhook, addRoute: http.addRoute };
}
