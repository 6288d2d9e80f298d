import type { Redis } from 'ioredis';
import { applyParams } from '../comfy/apply-params.js';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import type { WaitingEntry } from './fair-share.js';
import { gpusKey } from './names.js';

/**
 * Which queue a free GPU takes its next job from: the fair order (fair-share.ts), bent a little towards warm models.
 * Loading a checkpoint costs seconds to a minute, so a GPU whose ComfyUI does not have the next job's model leaves
 * that job, for at most `graceMs`, to a GPU that has it when one is idle, or when one is busy and this GPU has jobs
 * of its own model waiting behind. It never idles for a model otherwise: a burst of one model spreads over every
 * GPU, and a GPU that has run nothing yet counts as having no model to lose. Only queue heads can be taken
 * (BullMQ fetches a queue's next job, not a chosen one).
 */

/** One GPU (worker) as the others see it: the model its ComfyUI ran last, whether it waits for work. */
export interface GpuState {
  id: string;
  comfyUrl: string;
  model?: string;
  isIdle: boolean;
  workflows: string[];
  /** Jobs handed to this GPU's ComfyUI early that have not started: next on this GPU, still queued for their users. */
  early?: Array<{ jobId: string; workflow: string }>;
  at: number;
}

/** A waiting job with the checkpoint(s) it loads (undefined: none we know of, any GPU is as good). */
export type Candidate = WaitingEntry & { model?: string };

/** After this long without an update a GPU is gone (a killed process). */
const GPU_STALE_MS = 15_000;

/** The checkpoints or diffusion models a job's graph loads, as one key ("" when none). */
export function modelOf(workflows: WorkflowRegistry, data: unknown): string | undefined {
  const d = data as { workflow?: string; params?: Record<string, unknown> } | undefined;
  const wf = d?.workflow ? workflows.get(d.workflow) : undefined;
  if (!wf) return undefined;
  let graph = wf.graph;
  try {
    graph = applyParams(wf.graph, wf.manifest, (d?.params ?? {}) as never);
  } catch {
    // The worker rejects such a job when it runs it; the workflow's own model is as good a guess as any.
  }
  const names = new Set<string>();
  for (const node of Object.values(graph)) {
    for (const input of ['ckpt_name', 'unet_name']) {
      const v = node.inputs[input];
      if (typeof v === 'string') names.add(v);
    }
  }
  return names.size ? [...names].sort().join('+') : undefined;
}

export function choose(opts: {
  /** Waiting jobs of this GPU's queues, in fair order. */
  waiting: Candidate[];
  me: Pick<GpuState, 'id' | 'model'>;
  others: GpuState[];
  /** When this GPU first left each job to a warm one (kept by the caller across calls). */
  leftSince: Map<string, number>;
  now: number;
  graceMs: number;
}): Candidate | undefined {
  const { waiting, me, now } = opts;
  const seen = new Set<string>();
  let hasLeftOne = false;
  for (const job of waiting) {
    if (seen.has(job.workflow)) continue; // not a queue head
    seen.add(job.workflow);
    const isWarm = job.model === undefined || job.model === me.model;
    if (isWarm) return job;
    // Jumping a job left to a warm GPU is only for jobs this one is warm for.
    if (hasLeftOne) continue;
    const capable = opts.others.filter((o) => o.workflows.includes(job.workflow));
    const warm = capable.filter((o) => o.model === job.model);
    const since = opts.leftSince.get(job.jobId) ?? now;
    const leave =
      now - since < opts.graceMs &&
      (warm.some((o) => o.isIdle) ||
        (me.model !== undefined &&
          (capable.some((o) => o.isIdle && o.model === undefined) ||
            (warm.length > 0 && waiting.some((w) => w.model === me.model)))));
    if (!leave) return job;
    opts.leftSince.set(job.jobId, since);
    hasLeftOne = true;
  }
  return undefined;
}

/** This GPU's entry in the shared table, and everyone else's. */
export function createGpuTable(deps: { redis: Redis; prefix: string }) {
  const key = gpusKey(deps.prefix);
  return {
    async publish(state: GpuState) {
      await deps.redis.hset(key, state.id, JSON.stringify(state));
    },
    async remove(id: string) {
      await deps.redis.hdel(key, id);
    },
    /** GPUs with a fresh entry; entries of long-gone GPUs are dropped on the way. */
    async list(now = Date.now()): Promise<GpuState[]> {
      const all = await deps.redis.hgetall(key);
      const out: GpuState[] = [];
      const dead: string[] = [];
      for (const [id, raw] of Object.entries(all)) {
        try {
          const s = JSON.parse(raw) as GpuState;
          if (now - s.at <= GPU_STALE_MS) out.push(s);
          else if (now - s.at > 4 * GPU_STALE_MS) dead.push(id);
        } catch {
          dead.push(id);
        }
      }
      if (dead.length) await deps.redis.hdel(key, ...dead);
      return out;
    },
  };
}

export type GpuTable = ReturnType<typeof createGpuTable>;
