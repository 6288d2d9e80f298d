import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ZodError } from 'zod';
import { BindingError, applyParams } from '../comfy/apply-params.js';
import type { ComfyClient } from '../comfy/client.js';
import {
  ComfyUnavailableError,
  ExecutionError,
  InterruptedError,
  JobTimeoutError,
  OutputTooLargeError,
  PromptDetachedError,
  PromptLostError,
  PromptRejectedError,
  PromptWithdrawnError,
} from '../comfy/errors.js';
import { paramsSchemaOf } from '../comfy/params.js';
import { createProgressTracker } from '../comfy/progress.js';
import { runPrompt, type RunEvent } from '../comfy/run.js';
import type { ComfySocket } from '../comfy/socket.js';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../ops/metrics.js';
import { mediaOf, type Storage } from '../storage.js';
import { InputMissingError, type WorkerFiles } from '../transfer/worker-files.js';
import { TransferTooLargeError } from '../transfer/store.js';
import { repeatedErrorLog } from './redis.js';
import {
  decodeFailure,
  encodeFailure,
  generationJobSchema,
  type Failure,
  type GenerationResult,
  type OutputFile,
  type ProgressEvent,
} from './contracts.js';
import { createGpuConsumer, type Handover } from './gpu-consumer.js';
import { cancelKey } from './names.js';

/**
 * One BullMQ worker per ComfyUI instance, concurrency 1: the GPU runs one prompt at a time, and several
 * instances share one queue. Thin: parse → run on ComfyUI (with the job's AbortSignal) → save files → small result.
 * "Retrying will not help" is mapped to UnrecoverableError here and nowhere else.
 */
export interface GenerationWorkerDeps {
  /** Blocking connection factory (maxRetriesPerRequest: null). */
  connection: () => Redis;
  prefix: string;
  client: ComfyClient;
  socket: ComfySocket;
  workflows: WorkflowRegistry;
  storage: Storage;
  logger: Logger;
  jobTimeoutMs: number;
  maxPromptChars: number;
  /** Job lock lifetime (renewed every half of it while the process lives). */
  lockDurationMs?: number;
  /** How often a run with no news asks ComfyUI for its state. */
  pollIntervalMs?: number;
  /** How often progress may be written to Redis. */
  progressThrottleMs?: number;
  onBusy?: (jobId: string | undefined) => void;
  /** Workflows to consume at start (default: all); see setWorkflows. */
  workflowNames?: string[];
  metrics?: Metrics;
  /** How long a job may wait for a GPU with its model loaded while this one is free (WARM_MODEL_GRACE_S). */
  warmGraceMs?: number;
  /** Inputs in and outputs out through the transfer store, for jobs from a frontend on another disk. */
  transfer?: WorkerFiles;
  /** How often a free GPU looks for work when no job arrival woke it (default 1 s). */
  gpuPollMs?: number;
}

export interface GenerationWorker {
  workflows(): string[];
  setWorkflows(names: string[]): Promise<void>;
  waitUntilReady(): Promise<void>;
  /**
   * Stops taking jobs at once. A running prompt may finish for handBackAfterMs; then its job is handed back: moved
   * to the wait list with its lock released, the prompt left running on ComfyUI for the next worker to re-attach
   * to (/queue or /history). Without handBackAfterMs, close waits for the running job to end.
   */
  close(opts?: { handBackAfterMs?: number }): Promise<void>;
}

export function createGenerationWorker(deps: GenerationWorkerDeps): GenerationWorker {
  const log = deps.logger.child({ module: 'worker', instance: deps.client.baseUrl });
  // BullMQ does not close connections it was handed: keep them to close ourselves.
  const connections: Redis[] = [];
  const connect = () => {
    const c = deps.connection();
    connections.push(c);
    return c;
  };
  const redis = connect();
  const logWorkerError = repeatedErrorLog((obj, msg) => log.error(obj, msg), 'worker error');
  const handBack = new AbortController();

  /**
   * The prompt was left running on ComfyUI at shutdown, or withdrawn from ComfyUI's queue before it started: give the
   * job back to the queue, unfailed and unlocked (with its priority; the next attempt looks for the prompt first).
   */
  async function handBackIfDetached(err: unknown, job: Job, jlog: Logger): Promise<never> {
    if (!(err instanceof PromptDetachedError) && !(err instanceof PromptWithdrawnError)) throw err;
    await job.moveToWait(job.token);
    if (err instanceof PromptDetachedError)
      jlog.info({ promptId: err.promptId }, 'shutting down: job handed back to the queue; its prompt keeps running');
    else jlog.info('overtaken in fair order before it started: job back in the queue');
    throw new WaitingError();
  }

  // The GPU's jobs in flight (one running, at most one handed over early): the busy one shown is the oldest.
  const busy: string[] = [];
  const processor = async (
    workflow: string,
    job: Job,
    _token: string,
    signal: AbortSignal | undefined,
    handover: Handover,
  ): Promise<GenerationResult> => {
    const jlog = log.child({ jobId: job.id, attempt: job.attemptsMade + 1 });
    busy.push(job.id as string);
    deps.onBusy?.(busy[0]);
    // Queue wait once per job: a retry's earlier attempts and backoff are not time spent waiting for a GPU.
    if (job.attemptsMade === 0 && (job.attemptsStarted ?? 1) <= 1)
      deps.metrics?.jobStarted(workflow, (Date.now() - job.timestamp) / 1000);
    const timing: { comfySeconds?: number } = {};
    try {
      const result = await processJob(job, jlog, timing, signal, handover);
      deps.metrics?.jobFinished(workflow, 'succeeded', timing.comfySeconds);
      return result;
    } catch (err) {
      const mapped = mapError(err, jlog, signal);
      countFailure(workflow, job, mapped);
      throw mapped;
    } finally {
      await deps.transfer?.discard(job.data).catch((err) => jlog.warn({ err }, 'could not remove transferred files'));
      busy.splice(busy.indexOf(job.id as string), 1);
      deps.onBusy?.(busy[0]);
    }
  };

  /** Every failed attempt counts by kind; jobs_total only counts the attempt BullMQ will not retry. */
  function countFailure(workflow: string, job: Job, mapped: Error) {
    // Handed back at shutdown: the job goes on elsewhere, neither failed nor finished here.
    if (mapped instanceof WaitingError) return;
    const kind = decodeFailure(mapped.message).kind;
    if (kind === 'cancelled') return deps.metrics?.jobFinished(workflow, 'cancelled');
    deps.metrics?.failure(kind);
    const isFinal = mapped instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (isFinal) deps.metrics?.jobFinished(workflow, 'failed');
  }

  async function processJob(
    job: Job,
    jlog: Logger,
    timing: { comfySeconds?: number },
    signal: AbortSignal | undefined,
    handover: Handover,
  ): Promise<GenerationResult> {
    const data = generationJobSchema.parse(job.data);
    if (await redis.exists(cancelKey(deps.prefix, data.jobId))) throw new InterruptedError();
    const workflow = deps.workflows.get(data.workflow);
    if (!workflow)
      throw new UnrecoverableError(encodeFailure({ kind: 'invalid', message: `unknown workflow "${data.workflow}"` }));
    const params = paramsSchemaOf(workflow.manifest, deps.maxPromptChars).parse(data.params) as Record<string, unknown>;
    await deps.transfer?.receiveInputs(data, workflow.manifest);

    // Media params name files we stored under STORAGE_DIR/inputs; ComfyUI gets them through /upload/image.
    for (const p of workflow.manifest.params) {
      if ((p.type === 'image' || p.type === 'audio') && typeof params[p.name] === 'string') {
        const file = params[p.name] as string;
        const bytes = await readFile(deps.storage.inputPath(file));
        params[p.name] = await deps.client
          .upload(bytes, `relay-${data.jobId}-${p.name}${path.extname(file)}`)
          .catch(async (err) => {
            // The user sees "waiting for the GPU server" until BullMQ's retry gets through.
            if (err instanceof ComfyUnavailableError) {
              const waiting: ProgressEvent = {
                comfyUrl: deps.client.baseUrl,
                startedAt: Date.now(),
                percent: 0,
                waitingForComfy: true,
              };
              await job.updateProgress(waiting).catch(() => undefined);
            }
            throw err;
          });
      }
    }
    const graph = applyParams(workflow.graph, workflow.manifest, params);
    const outDir = await deps.storage.outputsDir(data.jobId);
    const startedAt = Date.now();
    const tracker = createProgressTracker(graph);
    const report = createThrottledReporter(job, deps.progressThrottleMs ?? 500, jlog);
    let previewAt = 0;
    let preview: { previewSeq: number; previewPath: string; previewInStore?: boolean } | undefined;
    let comfyPosition: number | undefined;
    // After an attempt that could not reach ComfyUI, keep saying so (not "starting") until ComfyUI answers.
    let isWaitingForComfy = job.attemptsMade > 0 && decodeFailure(job.failedReason).kind === 'unavailable';
    // Handed over early: still queued for the user until the prompt starts (behind this GPU's running job).
    let isQueuedOnGpu = handover.isEarly;
    const base = () => ({
      comfyUrl: deps.client.baseUrl,
      startedAt,
      ...preview,
      ...(isWaitingForComfy ? { waitingForComfy: true } : {}),
      ...(isQueuedOnGpu ? { queuedOnGpu: true } : {}),
    });
    report({ ...base(), percent: 0 }, true);

    const onEvent = (e: RunEvent) => {
      if (e.kind === 'unreachable' || e.kind === 'reachable') {
        if (isWaitingForComfy === (e.kind === 'unreachable')) return;
        isWaitingForComfy = e.kind === 'unreachable';
        report({ ...base(), ...tracker.snapshot(), comfyPosition }, true);
        return;
      }
      if (e.kind === 'preview') {
        // Previews go to disk (shared storage), not into Redis: at most one write every 2 s.
        if (Date.now() - previewAt < 2000) return;
        previewAt = Date.now();
        const ext = e.frame.mime === 'image/png' ? 'png' : 'jpg';
        const file = path.join(outDir, `preview.${ext}`);
        void writeFile(`${file}.tmp`, e.frame.image)
          .then(() => rename(`${file}.tmp`, file))
          .then(() => deps.transfer?.sendPreview(data, file))
          .then((isInStore) => {
            preview = { previewSeq: (preview?.previewSeq ?? 0) + 1, previewPath: deps.storage.relative(file) };
            if (isInStore) preview.previewInStore = true;
            report({ ...base(), ...tracker.snapshot(), comfyPosition }, false);
          })
          .catch((err) => jlog.warn({ err }, 'could not save preview'));
        return;
      }
      if (e.kind === 'pending') comfyPosition = e.position;
      if (e.kind === 'started') {
        comfyPosition = undefined;
        isQueuedOnGpu = false;
        handover.started();
      }
      tracker.apply(e);
      const snap = tracker.snapshot();
      report({ ...base(), ...snap, comfyPosition }, e.kind !== 'progress');
    };

    const run = await runPrompt(
      { client: deps.client, socket: deps.socket, logger: jlog },
      {
        promptId: data.jobId,
        graph,
        signal,
        timeoutMs: deps.jobTimeoutMs,
        onEvent,
        pollIntervalMs: deps.pollIntervalMs,
        detach: handBack.signal,
        withdraw: handover.withdraw,
        // Only an attempt after a failure, a crash (stalled) or a hand-back can have left a prompt behind.
        resumeCheck: job.attemptsMade > 0 || (job.attemptsStarted ?? 0) > 1,
      },
    ).catch((err) => handBackIfDetached(err, job, jlog));
    timing.comfySeconds = (Date.now() - startedAt) / 1000;
    report.flush();

    const files: OutputFile[] = [];
    let index = 0;
    for (const node of workflow.manifest.outputs) {
      for (const ref of run.outputs[node] ?? []) {
        index += 1;
        const m = mediaOf(ref.filename);
        // An animated WebP/PNG is not a still photo: deliver it as a file, untouched.
        const media = ref.animated && m.kind === 'image' ? { ...m, kind: 'other' as const } : m;
        // Our own names only: ComfyUI's filename is never used as a path here.
        const dest = path.join(outDir, `${String(index).padStart(2, '0')}.${media.ext}`);
        const bytes = await deps.client.download(ref, dest);
        files.push({ path: deps.storage.relative(dest), kind: media.kind, mime: media.mime, bytes, node });
      }
    }
    // The thumbnail (a video's first frame) is kept beside the results as poster.<ext>; failing to get it is no failure.
    const posterRef = workflow.manifest.poster ? run.outputs[workflow.manifest.poster]?.[0] : undefined;
    if (posterRef) {
      const dest = path.join(outDir, `poster.${mediaOf(posterRef.filename).ext}`);
      await deps.client
        .download(posterRef, dest)
        .catch((err) => jlog.warn({ err }, 'could not fetch the poster frame'));
    }
    if (files.length === 0)
      throw new UnrecoverableError(
        encodeFailure({ kind: 'execution', message: 'the workflow finished but saved no files' }),
      );
    await deps.transfer?.sendOutputs(data, outDir);
    jlog.info({ files: files.length, resumedFrom: run.resumedFrom, ms: Date.now() - startedAt }, 'job done');
    return {
      files,
      comfyUrl: deps.client.baseUrl,
      promptId: data.jobId,
      startedAt,
      finishedAt: Date.now(),
      resumedFrom: run.resumedFrom,
    };
  }

  function mapError(err: unknown, jlog: Logger, signal?: AbortSignal): Error {
    const fail = (f: Failure) => new UnrecoverableError(encodeFailure(f));
    if (err instanceof UnrecoverableError || err instanceof WaitingError) return err;
    if (err instanceof InterruptedError) {
      jlog.info({ node: err.nodeId }, signal?.aborted ? 'cancelled by request' : 'interrupted');
      return fail({ kind: 'cancelled', message: err.message, node: err.nodeId, nodeClass: err.nodeType });
    }
    if (err instanceof PromptRejectedError) {
      jlog.warn({ err, problems: err.problems }, 'ComfyUI rejected the workflow');
      const p = err.problems[0];
      // What ComfyUI said, per input (at most three), without our own wrapping.
      const message = err.problems.length
        ? err.problems
            .slice(0, 3)
            .map((x) => `${x.inputName ?? x.type}: ${x.details || x.message}`)
            .join('; ')
        : err.reason;
      return fail({ kind: 'rejected', message, node: p?.nodeId, nodeClass: p?.classType });
    }
    if (err instanceof ExecutionError) {
      jlog.warn({ err }, 'node failed');
      return fail({ kind: 'execution', message: err.message, node: err.nodeId, nodeClass: err.nodeType });
    }
    if (err instanceof TransferTooLargeError) {
      jlog.warn({ err, bytes: err.bytes, maxBytes: err.maxBytes }, 'output over TRANSFER_MAX_MB');
      return fail({ kind: 'too_large', message: err.message });
    }
    // Retryable: another worker (on the frontend's disk) may take it, or the frontend has not sent it yet.
    if (err instanceof InputMissingError) {
      jlog.warn({ file: err.file }, 'input not received');
      return new Error(encodeFailure({ kind: 'invalid', message: err.message }));
    }
    if (err instanceof OutputTooLargeError) {
      jlog.warn({ err, bytes: err.declaredBytes, maxBytes: err.maxBytes }, 'output over COMFY_DOWNLOAD_MAX_MB');
      return fail({ kind: 'too_large', message: err.message });
    }
    if (err instanceof JobTimeoutError) {
      jlog.warn({ err }, 'timed out');
      return fail({ kind: 'timeout', message: err.message, node: err.lastNode });
    }
    if (err instanceof ZodError || err instanceof BindingError) {
      jlog.warn({ err }, 'invalid job');
      return fail({ kind: 'invalid', message: err.message });
    }
    // Retryable: ComfyUI down or restarted. BullMQ retries with backoff; the failure reason is kept structured.
    if (err instanceof ComfyUnavailableError || err instanceof PromptLostError) {
      // Expected (ComfyUI down or restarted): the reason, without a stack trace.
      jlog.warn({ reason: err.message }, 'retryable failure');
      return new Error(
        encodeFailure({ kind: err instanceof PromptLostError ? 'lost' : 'unavailable', message: err.message }),
      );
    }
    jlog.error({ err }, 'unexpected failure');
    return new Error(encodeFailure({ kind: 'internal', message: (err as Error)?.message ?? String(err) }));
  }

  // One GPU: jobs are taken one at a time from the queues this ComfyUI can run, in fair order, warm models first.
  const consumer = createGpuConsumer({
    connect,
    redis,
    prefix: deps.prefix,
    comfyUrl: deps.client.baseUrl,
    workflows: deps.workflows,
    processor,
    lockDurationMs: deps.lockDurationMs ?? 30_000,
    logger: log,
    logError: logWorkerError,
    warmGraceMs: deps.warmGraceMs,
    pollMs: deps.gpuPollMs,
    initial: deps.workflowNames ?? [...deps.workflows.keys()],
  });

  return {
    workflows: consumer.workflows,
    /** Consume exactly these workflows' queues from now on (capabilities changed). */
    setWorkflows: consumer.setWorkflows,
    waitUntilReady: consumer.waitUntilReady,
    async close(opts = {}) {
      const timer =
        opts.handBackAfterMs === undefined ? undefined : setTimeout(() => handBack.abort(), opts.handBackAfterMs);
      // No new job from now on; the running one finishes (or is handed back when the timer fires).
      await consumer.close();
      clearTimeout(timer);
      for (const c of connections) c.disconnect();
    },
  };
}

type Reporter = ((p: ProgressEvent, immediate: boolean) => void) & { flush(): void };

/** At most one updateProgress per interval; state changes go at once; the latest value always lands. */
function createThrottledReporter(job: Job, intervalMs: number, log: Logger): Reporter {
  let lastAt = 0;
  let pending: ProgressEvent | undefined;
  let timer: NodeJS.Timeout | undefined;
  const send = (p: ProgressEvent) => {
    lastAt = Date.now();
    pending = undefined;
    job.updateProgress(p).catch((err) => log.warn({ err }, 'could not report progress'));
  };
  const fn = ((p: ProgressEvent, immediate: boolean) => {
    if (immediate || Date.now() - lastAt >= intervalMs) {
      clearTimeout(timer);
      timer = undefined;
      send(p);
      return;
    }
    pending = p;
    timer ??= setTimeout(
      () => {
        timer = undefined;
        if (pending) send(pending);
      },
      intervalMs - (Date.now() - lastAt),
    );
  }) as Reporter;
  fn.flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending) send(pending);
  };
  return fn;
}
