import { randomUUID } from 'node:crypto';
import { createComfyClient } from '../comfy/client.js';
import { createComfySocket } from '../comfy/socket.js';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import type { Config } from '../config.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import { startHeartbeat } from '../ops/heartbeat.js';
import { createRedis } from '../queue/redis.js';
import { createGenerationWorker } from '../queue/worker.js';
import { createStorage } from '../storage.js';

/** One ComfyUI client + shared socket + BullMQ worker (concurrency 1) + heartbeat per COMFY_URL entry. */
export async function startWorkerRole(deps: { config: Config; redisUrl: string; workflows: WorkflowRegistry; logger: Logger; lifecycle: Lifecycle }) {
  const { config, logger, lifecycle } = deps;
  const storage = createStorage(config.storageDir);
  const workers = [];
  for (const url of config.comfyUrls) {
    const workerId = randomUUID();
    const log = logger.child({ role: 'worker', instance: url, workerId: workerId.slice(0, 8) });
    const client = createComfyClient({ baseUrl: url, logger: log });
    const socket = createComfySocket({ baseUrl: url, logger: log });
    const hbRedis = createRedis(deps.redisUrl, 'worker', logger);
    const heartbeat = startHeartbeat({ redis: hbRedis, prefix: config.queuePrefix, workerId, comfyUrl: url, logger: log });
    const gw = createGenerationWorker({
      connection: () => createRedis(deps.redisUrl, 'worker', logger),
      prefix: config.queuePrefix,
      client,
      socket,
      workflows: deps.workflows,
      storage,
      logger: log,
      jobTimeoutMs: config.jobTimeoutMs,
      maxPromptChars: config.maxPromptChars,
      lockDurationMs: config.workerLockMs,
      onBusy: (jobId) => heartbeat.setBusy(jobId),
    });
    await heartbeat.ready;
    lifecycle.onShutdown(`worker ${url}`, async () => {
      await gw.close();
      await heartbeat.stop();
      hbRedis.disconnect();
      await socket.close();
    });
    log.info('worker started');
    workers.push({ url, workerId, worker: gw, client, socket });
  }
  return workers;
}
