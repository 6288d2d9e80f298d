import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { heartbeatKey } from '../queue/names.js';

/** A worker announces itself every 10 s with a 30 s expiry (the old studio's numbers): a dead worker drops out by itself. */
export const HEARTBEAT_EVERY_MS = 10_000;
export const HEARTBEAT_TTL_S = 30;

export interface GpuInfo {
  name: string;
  vramTotal: number;
  vramFree: number;
}

/** The first device of a ComfyUI /system_stats answer. */
export function gpuOf(stats: Record<string, unknown>): GpuInfo | undefined {
  const d = (stats.devices as Array<Record<string, unknown>> | undefined)?.[0];
  if (!d || typeof d.vram_total !== 'number' || typeof d.vram_free !== 'number') return undefined;
  return { name: String(d.name ?? d.type ?? 'GPU'), vramTotal: d.vram_total, vramFree: d.vram_free };
}

export function startHeartbeat(deps: {
  redis: Redis;
  prefix: string;
  workerId: string;
  comfyUrl: string;
  logger: Logger;
  /** This worker's GPU as its ComfyUI reports it (/system_stats), for /status; undefined when it does not answer. */
  gpu?: () => Promise<GpuInfo | undefined>;
}) {
  const key = heartbeatKey(deps.prefix, deps.workerId);
  const startedAt = Date.now();
  let busyJobId: string | undefined;
  let capabilities: { workflows: string[]; unsupported: Record<string, string> } = { workflows: [], unsupported: {} };
  let gpu: GpuInfo | undefined;
  const beat = async () => {
    gpu = await deps.gpu?.().catch(() => undefined);
    return deps.redis
      .set(
        key,
        JSON.stringify({
          id: deps.workerId,
          comfyUrl: deps.comfyUrl,
          host: hostname(),
          pid: process.pid,
          startedAt,
          busyJobId,
          gpu,
          ...capabilities,
          at: Date.now(),
        }),
        'EX',
        HEARTBEAT_TTL_S,
      )
      .catch((err) => deps.logger.warn({ err }, 'heartbeat failed'));
  };
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  timer.unref();
  return {
    /** What this worker's ComfyUI can run (and why not the rest); frontends refuse jobs nobody can run. */
    setCapabilities(workflows: string[], unsupported: Record<string, string>) {
      capabilities = { workflows, unsupported };
      return beat();
    },
    setBusy(jobId: string | undefined) {
      busyJobId = jobId;
      void beat();
    },
    async stop() {
      clearInterval(timer);
      await deps.redis.del(key).catch(() => undefined);
    },
  };
}
