import { z } from 'zod';
import { JOB_ID_RE } from './names.js';

/** Job payload. Stored in Redis in clear: ids, params and storage names only — never bytes or tokens. */
export const generationJobSchema = z.object({
  jobId: z.string().regex(JOB_ID_RE),
  workflow: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
  /** Already validated against the manifest, seeds filled in; the worker checks again. */
  params: z.record(z.string(), z.unknown()),
  requestedBy: z.object({ platform: z.enum(['cli', 'telegram', 'discord']), userId: z.string().max(64) }),
  createdAt: z.number().int(),
  /**
   * The id of the frontend's STORAGE_DIR (`.storage-id`). A worker whose own id differs fetches the inputs from the
   * transfer store and puts the outputs there; absent (older jobs) or equal means one shared disk.
   */
  storageId: z.uuid().optional(),
});
export type GenerationJob = z.infer<typeof generationJobSchema>;

export const outputFileSchema = z.object({
  /** Relative to STORAGE_DIR, e.g. outputs/<jobId>/01.png (names we generate). */
  path: z.string(),
  kind: z.enum(['image', 'video', 'audio', 'other']),
  mime: z.string(),
  bytes: z.number().int().nonnegative(),
  node: z.string(),
});
export type OutputFile = z.infer<typeof outputFileSchema>;

export const generationResultSchema = z.object({
  files: z.array(outputFileSchema),
  comfyUrl: z.string(),
  promptId: z.string(),
  startedAt: z.number().int(),
  finishedAt: z.number().int(),
  resumedFrom: z.enum(['submit', 'queue', 'history']),
});
export type GenerationResult = z.infer<typeof generationResultSchema>;

/** What the worker reports through job.updateProgress (the frontends render it). */
export const progressEventSchema = z.object({
  percent: z.number().min(0).max(100),
  node: z.string().optional(),
  nodeClass: z.string().optional(),
  step: z.object({ value: z.number(), max: z.number() }).optional(),
  /** Waiting in ComfyUI's own queue (someone else's prompts ahead). */
  comfyPosition: z.number().int().optional(),
  /**
   * Handed over early: waiting in its GPU's ComfyUI queue behind that GPU's running job. For the user it is still
   * queued (next on that GPU); absent once the prompt has started.
   */
  queuedOnGpu: z.boolean().optional(),
  /**
   * ComfyUI cannot be reached at the moment (down or restarting): the job waits for it, or is retried once it is
   * back. Absent once ComfyUI answers again.
   */
  waitingForComfy: z.boolean().optional(),
  /** Increments whenever outputs/<jobId>/preview.<ext> was rewritten. */
  previewSeq: z.number().int().optional(),
  previewPath: z.string().optional(),
  /** The preview is also in the transfer store (the worker keeps another disk than the frontend): fetch it from there. */
  previewInStore: z.boolean().optional(),
  comfyUrl: z.string(),
  startedAt: z.number().int(),
});
export type ProgressEvent = z.infer<typeof progressEventSchema>;

export const failureKinds = [
  'rejected',
  'execution',
  'cancelled',
  'timeout',
  'invalid',
  'unavailable',
  'lost',
  /** An output above COMFY_DOWNLOAD_MAX_MB: refused, not retried. */
  'too_large',
  'internal',
] as const;
export const failureSchema = z.object({
  kind: z.enum(failureKinds),
  message: z.string(),
  node: z.string().optional(),
  nodeClass: z.string().optional(),
});
export type Failure = z.infer<typeof failureSchema>;

/** BullMQ keeps only a failure message string; we carry a structured failure inside it. */
const FAILURE_TAG = 'relay-failure:';
export const encodeFailure = (f: Failure) => FAILURE_TAG + JSON.stringify(f);
export function decodeFailure(reason: string | undefined): Failure {
  if (reason?.startsWith(FAILURE_TAG)) {
    const parsed = failureSchema.safeParse(safeJson(reason.slice(FAILURE_TAG.length)));
    if (parsed.success) return parsed.data;
  }
  return { kind: 'internal', message: reason ?? 'unknown failure' };
}
function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
