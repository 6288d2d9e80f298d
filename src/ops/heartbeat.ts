import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { heartbeatKey, workersKey } from '../queue/names.js';

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

/** A pipeline answers each command's error in its results instead of failing. */
const throwFirstError = (results: Array<[Error | null, unknown]> | null) => {
  const err = results?.find(([e]) => e)?.[0];
  if (err) throw err;
};

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
  const registry = workersKey(deps.prefix);
  const startedAt = Date.now();
  let busyJobId: string | undefined;
  let capabilities: { workflows: string[]; unsupported: Record<string, string> } = { workflows: [], unsupported: {} };
  let gpu: GpuInfo | undefined;
  /**
   * The GPU is asked on the regular beat and with new capabilities, not when a job starts or ends: that was two
   * /system_stats requests a job, for a VRAM figure /status shows at most a beat old anyway.
   */
  const beat = async (askGpu: boolean) => {
    if (askGpu) gpu = await deps.gpu?.().catch(() => undefined);
    const at = Date.now();
    return deps.redis
      .pipeline()
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
          at,
        }),
        'EX',
        HEARTBEAT_TTL_S,
      )
      .zadd(registry, at + HEARTBEAT_TTL_S * 1000, deps.workerId)
      .exec()
      .then(throwFirstError)
      .catch((err) => deps.logger.warn({ err }, 'heartbeat failed'));
  };
  const timer = setInterval(() => void beat(true), HEARTBEAT_EVERY_MS);
  timer.unref();
  return {
    /**
     * What this worker's ComfyUI can run (and why not the rest); frontends refuse jobs nobody can run. Announced at
     * once; the GPU's figures follow in a second beat (a slow /system_stats must not hold up "ready").
     */
    async setCapabilities(workflows: string[], unsupported: Record<string, string>) {
      capabilities = { workflows, unsupported };
      await beat(false);
      if (deps.gpu) void beat(true);
    },
    setBusy(jobId: string | undefined) {
      busyJobId = jobId;
      void beat(false);
    },
    async stop() {
      clearInterval(timer);
      await deps.redis
        .pipeline()
        .del(key)
        .zrem(registry, deps.workerId)
        .exec()
        .catch(() => undefined);
    },
  };
}
