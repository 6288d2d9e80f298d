import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { failureKinds, type Failure } from '../queue/contracts.js';

/**
 * Prometheus metrics, one registry per process (made by main.ts, scraped at /metrics). Modules take
 * `metrics?: Metrics` in their deps and call `deps.metrics?.x(...)`, so a module built without it records nothing.
 *
 * Label values come only from bounded sets: workflow names from the loaded manifests, methods from `platformMethods`,
 * failure kinds from the job contract. Anything else is recorded as "other", so a user id or a prompt can never
 * become a label value (each distinct value is a new series kept for the process's life).
 */
export const METRIC_PREFIX = 'comfy_relay_';

export type JobOutcome = 'succeeded' | 'failed' | 'cancelled';
export type Platform = 'telegram' | 'discord';
export type ProgressEditResult = 'sent' | 'skipped';
export const queueStates = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;

/** Bot API methods and discord.js calls we make; anything else is counted as "other". */
export const platformMethods = [
  // Telegram Bot API
  'getMe',
  'getFile',
  'sendMessage',
  'sendPhoto',
  'sendVideo',
  'sendAudio',
  'sendDocument',
  'sendMediaGroup',
  'sendChatAction',
  'editMessageText',
  'editMessageCaption',
  'editMessageMedia',
  'editMessageReplyMarkup',
  'deleteMessage',
  'answerCallbackQuery',
  'setMyCommands',
  // Discord (interaction and channel calls)
  'deferReply',
  'deferUpdate',
  'reply',
  'editReply',
  'followUp',
  'update',
  'showModal',
  'respond',
  'createMessage',
  'editMessage',
  'putCommands',
  'getCommands',
  'fetchAttachment',
] as const;

export interface Metrics {
  readonly registry: Registry;
  /** For the Content-Type header of /metrics. */
  readonly contentType: string;
  /** The exposition text (runs the collect callbacks). */
  text(): Promise<string>;
  /** A worker took a job off the queue: seconds since it was enqueued. */
  jobStarted(workflow: string, queueWaitSeconds: number): void;
  /** A job's final outcome; `comfySeconds` (ComfyUI execution time) is given for succeeded jobs. */
  jobFinished(workflow: string, outcome: JobOutcome, comfySeconds?: number): void;
  /** One failed attempt, by failure kind (retryable ones too). */
  failure(kind: Failure['kind']): void;
  /** The shared WebSocket to this ComfyUI connected again after a drop. */
  comfyReconnect(instanceUrl: string): void;
  /** One call to a chat platform's API and how it ended; a 429 counts as an error and as a 429. */
  platformCall(platform: Platform, method: string, result?: 'ok' | 'error' | '429'): void;
  /** A progress edit was sent, or skipped (unchanged text, coalesced). */
  progressEdit(result: ProgressEditResult): void;
  /** A result or failure delivery is tried again. */
  deliveryRetry(platform: Platform): void;
  /** Where queue_depth comes from (e.g. a producer's counts()); read at every scrape. */
  setQueueDepthSource(source: () => Promise<Record<string, number>>): void;
}

export interface MetricsOptions {
  /** Workflow names that may appear as labels (the loaded manifests). */
  workflows?: Iterable<string>;
  /** Node.js process metrics (process_*, nodejs_*) in the same registry; default on. */
  defaultMetrics?: boolean;
  /** A queue_depth source slower than this is skipped for that scrape. */
  depthTimeoutMs?: number;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const p = METRIC_PREFIX;
  const workflows = new Set(opts.workflows ?? []);
  const methods = new Set<string>(platformMethods);
  const wf = (name: string) => (workflows.has(name) ? name : 'other');

  const jobs = new Counter({
    name: `${p}jobs_total`,
    help: 'Generation jobs by final outcome',
    labelNames: ['workflow', 'outcome'],
    registers,
  });
  // ComfyUI runs take from seconds (a cached SD 1.5 image) to an hour (talking-head video).
  const duration = new Histogram({
    name: `${p}job_duration_seconds`,
    help: 'ComfyUI execution time of succeeded jobs',
    labelNames: ['workflow'],
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600],
    registers,
  });
  const wait = new Histogram({
    name: `${p}queue_wait_seconds`,
    help: 'Time from enqueue to a worker starting the job (first attempt)',
    labelNames: ['workflow'],
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    registers,
  });
  const failures = new Counter({
    name: `${p}failures_total`,
    help: 'Failed job attempts by kind (retryable attempts included; cancellations are not failures)',
    labelNames: ['kind'],
    registers,
  });
  const reconnects = new Counter({
    name: `${p}comfy_ws_reconnects_total`,
    help: 'Reconnections of the shared ComfyUI WebSocket',
    labelNames: ['instance'],
    registers,
  });
  const calls = new Counter({
    name: `${p}platform_api_calls_total`,
    help: 'Chat platform API calls',
    labelNames: ['platform', 'method'],
    registers,
  });
  const errors = new Counter({
    name: `${p}platform_api_errors_total`,
    help: 'Chat platform API calls that failed (429 included)',
    labelNames: ['platform', 'method'],
    registers,
  });
  const limited = new Counter({
    name: `${p}platform_429_total`,
    help: 'Chat platform API calls answered 429 Too Many Requests',
    labelNames: ['platform', 'method'],
    registers,
  });
  const edits = new Counter({
    name: `${p}progress_edits_total`,
    help: 'Progress message edits sent or skipped',
    labelNames: ['result'],
    registers,
  });
  const retries = new Counter({
    name: `${p}delivery_retries_total`,
    help: 'Result deliveries tried again',
    labelNames: ['platform'],
    registers,
  });

  let depthSource: (() => Promise<Record<string, number>>) | undefined;
  const depthTimeoutMs = opts.depthTimeoutMs ?? 2000;
  new Gauge({
    name: `${p}queue_depth`,
    help: 'Jobs in the generation queues by state (all workflows)',
    labelNames: ['state'],
    registers,
    async collect() {
      this.reset();
      if (!depthSource) return;
      // A Redis outage must not fail the whole scrape: the series are absent for that scrape instead.
      const counts = await withTimeout(depthSource(), depthTimeoutMs).catch(() => undefined);
      for (const state of queueStates) if (counts?.[state] !== undefined) this.set({ state }, counts[state]);
    },
  });

  // Series that exist from the start, so rate() and alerts see a 0 before the first event.
  for (const name of ['other', ...workflows])
    for (const outcome of ['succeeded', 'failed', 'cancelled']) jobs.inc({ workflow: name, outcome }, 0);
  for (const kind of failureKinds) if (kind !== 'cancelled') failures.inc({ kind }, 0);
  for (const result of ['sent', 'skipped']) edits.inc({ result }, 0);

  const method = (m: string) => (methods.has(m) ? m : 'other');
  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    jobStarted: (workflow, seconds) => wait.observe({ workflow: wf(workflow) }, Math.max(0, seconds)),
    jobFinished(workflow, outcome, comfySeconds) {
      jobs.inc({ workflow: wf(workflow), outcome });
      if (comfySeconds !== undefined) duration.observe({ workflow: wf(workflow) }, Math.max(0, comfySeconds));
    },
    failure: (kind) => failures.inc({ kind: (failureKinds as readonly string[]).includes(kind) ? kind : 'internal' }),
    comfyReconnect: (url) => reconnects.inc({ instance: instanceLabel(url) }),
    platformCall(platform, m, result = 'ok') {
      const labels = { platform, method: method(m) };
      calls.inc(labels);
      if (result !== 'ok') errors.inc(labels);
      if (result === '429') limited.inc(labels);
    },
    progressEdit: (result) => edits.inc({ result }),
    deliveryRetry: (platform) => retries.inc({ platform }),
    setQueueDepthSource(source) {
      depthSource = source;
    },
  };
}

/** host:port only: a COMFY_URL may carry credentials or a path, neither belongs in a label. */
function instanceLabel(url: string): string {
  try {
    return new URL(url).host || 'other';
  } catch {
    return 'other';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
