/**
 * Queue, job and key names in one place (BullMQ keys live under QUEUE_PREFIX).
 * One queue per workflow: a worker consumes only the queues of workflows its ComfyUI can run.
 */
export const generateQueue = (workflow: string) => `generate-${workflow}`;
export const GENERATE_JOB = 'generate';
/** Custom QueueEvents event asking the worker that holds a job to abort it. */
export const CANCEL_EVENT = 'cancel-requested';

export const heartbeatKey = (prefix: string, workerId: string) => `${prefix}:worker:${workerId}`;
export const heartbeatPattern = (prefix: string) => `${prefix}:worker:*`;
/**
 * Worker ids by the time their heartbeat runs out (ms), one sorted set: frontends find the heartbeats there instead
 * of scanning every key, which grew with the finished jobs BullMQ keeps.
 */
export const workersKey = (prefix: string) => `${prefix}:workers`;
/** Set when a cancel is requested, so a worker that picks the job up a moment later still sees it. */
export const cancelKey = (prefix: string, jobId: string) => `${prefix}:cancel:${jobId}`;

/** Job ids are UUIDs: no ':' and never all digits (BullMQ's custom id rules); ComfyUI's prompt_id = job id. */
export const JOB_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The short id users see and type (/cancel 1a2b3c4d). */
export const shortId = (jobId: string) => jobId.slice(0, 8);

/** Fair share (see fair-share.ts): the virtual clock and each user's finish tag, one hash. */
export const fairKey = (prefix: string) => `${prefix}:fair`;
/** Expected GPU seconds per workflow (a moving average of measured runs), one hash. */
export const costKey = (prefix: string) => `${prefix}:fair:cost`;
/** Each GPU's state for warm-model routing and positions (model last run, idle, workflows), one hash. */
export const gpusKey = (prefix: string) => `${prefix}:gpus`;
/** GPU seconds a user spent on successful jobs in one UTC day (GPU_SECONDS_PER_DAY). */
export const gpuUsedKey = (prefix: string, day: string, platform: string, userId: string) =>
  `${prefix}:gpu-used:${day}:${platform}:${userId}`;
/** Set once a job's GPU time was charged, so a job is charged exactly once. */
export const chargedKey = (prefix: string, jobId: string) => `${prefix}:charged:${jobId}`;
