import { randomUUID } from 'node:crypto';
import { createComfyClient, type ComfyClient } from '../comfy/client.js';
import { checkWorkflow } from '../comfy/object-info.js';
import { createComfySocket } from '../comfy/socket.js';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import type { Config } from '../config.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import { gpuOf, startHeartbeat } from '../ops/heartbeat.js';
import { createOutageLog, isExpectedOutage, rootMessage } from '../ops/outage-log.js';
import { comfyCheck } from '../ops/readiness.js';
import { createRedis } from '../queue/redis.js';
import { createGenerationWorker } from '../queue/worker.js';
import { createStorage } from '../storage.js';
import { ANNOUNCE_EVERY_MS } from '../transfer/storages.js';
import { createWorkerFiles } from '../transfer/worker-files.js';
import { openTransfer } from './transfer.js';
import type { HttpServer } from './http-role.js';

/** Which workflows a ComfyUI can run (node classes and named models present), and why not the others. */
export async function capabilitiesOf(client: ComfyClient, workflows: WorkflowRegistry) {
  const info = await client.objectInfo();
  const supported: string[] = [];
  const unsupported: Record<string, string> = {};
  for (const wf of workflows.values()) {
    const c = checkWorkflow(info, wf);
    if (c.missingClasses.length) unsupported[wf.name] = `nodes ${c.missingClasses.join(', ')}`;
    else if (c.missingModels.length) unsupported[wf.name] = `models ${c.missingModels.map((m) => m.value).join(', ')}`;
    else supported.push(wf.name);
  }
  return { supported, unsupported };
}

/**
 * One ComfyUI client + shared socket + workers + heartbeat per COMFY_URL entry. A worker consumes only the
 * queues of workflows its ComfyUI can run, read from /object_info at start and every OBJECT_INFO_REFRESH_S
 * (a ComfyUI that is down at start is asked again every 10 s).
 */
export async function startWorkerRole(deps: {
  config: Config;
  redisUrl: string;
  workflows: WorkflowRegistry;
  logger: Logger;
  lifecycle: Lifecycle;
  /** The process's HTTP server (absent in the CLI): metrics, and a readiness check per ComfyUI. */
  http?: Pick<HttpServer, 'metrics' | 'addReadiness'>;
}) {
  const { config, logger, lifecycle } = deps;
  const metrics = deps.http?.metrics;
  const storage = createStorage(config.storageDir);
  // Jobs from a frontend on another disk: inputs in and outputs out through the transfer store. This disk is
  // announced now and every few minutes, so frontends know to send inputs (see transfer/storages.ts).
  const transfer = await openTransfer({ config, redisUrl: deps.redisUrl, logger, side: 'worker' });
  const files = createWorkerFiles({ store: transfer.store, storage, storageId: transfer.storageId, logger });
  const announce = () =>
    void transfer.storages
      .announce(transfer.storageId)
      .catch((err) => logger.warn({ err }, 'could not announce this worker’s disk'));
  announce();
  const announcer = setInterval(announce, ANNOUNCE_EVERY_MS);
  announcer.unref();
  const started = [];
  const stops: Array<() => Promise<void>> = [];
  for (const url of config.comfyUrls) {
    const workerId = randomUUID();
    const log = logger.child({ role: 'worker', instance: url, workerId: workerId.slice(0, 8) });
    const client = createComfyClient({
      baseUrl: url,
      logger: log,
      downloadIdleTimeoutMs: config.comfyDownloadIdleMs,
      downloadMaxBytes: config.comfyDownloadMaxBytes,
    });
    const socket = createComfySocket({ baseUrl: url, logger: log, metrics });
    deps.http?.addReadiness(`comfy ${new URL(url).host}`, comfyCheck(client));
    const hbRedis = createRedis(deps.redisUrl, 'worker', logger);
    const heartbeat = startHeartbeat({
      redis: hbRedis,
      prefix: config.queuePrefix,
      workerId,
      comfyUrl: url,
      logger: log,
      gpu: async () => gpuOf(await client.systemStats()),
    });
    const gw = createGenerationWorker({
      connection: () => createRedis(deps.redisUrl, 'worker', logger),
      prefix: config.queuePrefix,
      client,
      socket,
      workflows: deps.workflows,
      workflowNames: [],
      storage,
      logger: log,
      jobTimeoutMs: config.jobTimeoutMs,
      maxPromptChars: config.maxPromptChars,
      lockDurationMs: config.workerLockMs,
      warmGraceMs: config.warmModelGraceMs,
      onBusy: (jobId) => heartbeat.setBusy(jobId),
      metrics,
      transfer: files,
    });

    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    // ComfyUI not running (yet) is expected: one warning line, a reminder now and then, one line when it is back.
    const outage = createOutageLog(log, {
      failing: (reason) => `ComfyUI at ${url} is not reachable (${reason}); asking again every 10 s`,
      recovered: `ComfyUI at ${url} is reachable again`,
    });
    const total = deps.workflows.size;
    let check: { url: string; isReachable: boolean; reason?: string; runnable: number; total: number } = {
      url,
      isReachable: false,
      runnable: 0,
      total,
    };
    const refresh = async (): Promise<boolean> => {
      try {
        const { supported, unsupported } = await capabilitiesOf(client, deps.workflows);
        check = { url, isReachable: true, runnable: supported.length, total };
        outage.recovered();
        if (stopped) return true;
        await gw.setWorkflows(supported);
        await heartbeat.setCapabilities(supported, unsupported);
        log.info({ workflows: supported, unsupported }, 'capabilities');
        return true;
      } catch (err) {
        check = { url, isReachable: false, reason: rootMessage(err), runnable: 0, total };
        if (isExpectedOutage(err)) outage.failed(err);
        else log.warn({ err }, 'could not read /object_info; will ask again');
        await heartbeat.setCapabilities(gw.workflows(), {});
        return false;
      }
    };
    const schedule = (ok: boolean) => {
      if (stopped) return;
      timer = setTimeout(() => void refresh().then(schedule), ok ? config.objectInfoRefreshMs : 10_000);
      timer.unref();
    };
    schedule(await refresh());

    stops.push(async () => {
      stopped = true;
      clearTimeout(timer);
      await gw.close({ handBackAfterMs: handBackAfter(lifecycle) });
      await heartbeat.stop();
      hbRedis.disconnect();
      await socket.close();
    });
    log.info('worker started');
    started.push({ url, workerId, worker: gw, client, socket, firstCheck: check });
  }
  // One step for all instances: they stop taking jobs at the same moment and share one deadline.
  lifecycle.onShutdown('worker transfer', async () => {
    clearInterval(announcer);
    await transfer.close();
  });
  lifecycle.onShutdown('workers', async () => {
    await Promise.all(stops.map((stop) => stop()));
  });
  return started;
}

/** A running prompt gets the shutdown budget but a reserve for handing its job back and closing the rest. */
function handBackAfter(lifecycle: Lifecycle): number {
  const left = lifecycle.remainingMs();
  return Math.max(0, left - Math.min(5000, left / 2));
}
