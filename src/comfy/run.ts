import type { Logger } from '../logger.js';
import { fileRefsOf, type ComfyClient, type FileRef, type HistoryEntry } from './client.js';
import { ComfyUnavailableError, ExecutionError, InterruptedError, JobTimeoutError, PromptLostError } from './errors.js';
import { PromptDetachedError, PromptWithdrawnError } from './errors.js';
import type { PreviewFrame } from './messages.js';
import type { ComfySocket, SocketEvent } from './socket.js';

/**
 * Runs one prompt on one ComfyUI instance and follows it to the end:
 *   (check history/queue: resume) → submit → follow WS → done | failed | interrupted | timed out
 * It never depends on seeing executing{node:null}: after a socket drop, and whenever our prompt has been
 * silent for pollIntervalMs, it asks /history and /queue (comfyui-api.md §6.5–6.6).
 * When ComfyUI cannot be reached it says so ('unreachable', then 'reachable' once it answers again). Before the
 * prompt is submitted that ends the run with ComfyUnavailableError (the queue retries it later); once submitted, the
 * run keeps waiting, and a ComfyUI that comes back without our prompt (restarted) ends it with PromptLostError.
 */
export type RunEvent =
  /** Waiting in ComfyUI's queue behind `position` prompts (the running one included). */
  | { kind: 'pending'; position: number }
  | { kind: 'started' }
  | { kind: 'cached'; nodes: string[] }
  | { kind: 'executing'; node: string }
  | { kind: 'progress'; node?: string; value: number; max: number }
  | { kind: 'preview'; frame: PreviewFrame }
  | { kind: 'executed'; node: string }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'reachable' };

export interface RunResult {
  /** Output files per node id, in node order as history lists them. */
  outputs: Record<string, FileRef[]>;
  /** How this attempt found the prompt: submitted now, already queued/running, or already finished. */
  resumedFrom: 'submit' | 'queue' | 'history';
}

export interface RunOptions {
  promptId: string;
  graph: unknown;
  signal?: AbortSignal;
  timeoutMs: number;
  onEvent?: (e: RunEvent) => void;
  pollIntervalMs?: number;
  heartbeatMs?: number;
  /** Shutdown: stop following and leave the prompt running on ComfyUI (rejects with PromptDetachedError). */
  detach?: AbortSignal;
  /**
   * Look for an earlier run of this prompt (/history, then /queue) before submitting (default true). Only a retried
   * or recovered attempt can have one; a first attempt skips the two calls: prompt, history, view is all it costs.
   */
  resumeCheck?: boolean;
  /**
   * Give the prompt back while it still waits in ComfyUI's queue (a job handed over early, overtaken in fair order):
   * it is deleted from ComfyUI's queue and the run rejects with PromptWithdrawnError. Once it runs, it is kept.
   */
  withdraw?: AbortSignal;
}

export interface RunDeps {
  client: ComfyClient;
  socket: ComfySocket;
  logger: Logger;
}

type Outcome = { ok: true; entry?: HistoryEntry } | { ok: false; error: Error };

export async function runPrompt(deps: RunDeps, opts: RunOptions): Promise<RunResult> {
  const { client, socket } = deps;
  const { promptId } = opts;
  const log = deps.logger.child({ promptId });
  let pollMs = opts.pollIntervalMs ?? 15_000;
  const emit = (e: RunEvent) => {
    try {
      opts.onEvent?.(e);
    } catch (err) {
      log.error({ err }, 'run event handler threw');
    }
  };

  let settle: (o: Outcome) => void = () => undefined;
  const finished = new Promise<Outcome>((resolve) => (settle = resolve));
  let isSettled = false;
  /** Why we stopped the prompt ourselves (cancel, timeout): ComfyUI's own "interrupted" then reports this. */
  let stopReason: Error | undefined;
  const finish = (o: Outcome) => {
    if (isSettled) return;
    isSettled = true;
    settle(!o.ok && stopReason ? { ok: false, error: stopReason } : o);
  };

  let started = false;
  let lastNode: string | undefined;
  let lastActivity = Date.now();
  let polling = false;
  let positionTimer: NodeJS.Timeout | undefined;
  const startedAt = Date.now();
  /** Unknown until the first call: the first answer says 'reachable' (a retry may follow an unreachable attempt). */
  let isReachable: boolean | undefined;
  let isAttached = false;
  /** Called after each HTTP call: with no argument when it was answered, with the error when it failed. */
  const reachability = (err?: unknown) => {
    if (err !== undefined && !(err instanceof ComfyUnavailableError)) return;
    const now = err === undefined;
    if (isReachable === now) return;
    if (!now) log.warn({ err }, 'ComfyUI unreachable');
    else if (isReachable === false) log.info('ComfyUI reachable again');
    isReachable = now;
    emit(now ? { kind: 'reachable' } : { kind: 'unreachable', reason: (err as Error).message });
  };

  /** The prompt runs on ComfyUI (seen on the socket or in /queue): said once. */
  const markStarted = () => {
    if (started) return;
    started = true;
    emit({ kind: 'started' });
  };

  /** Ask ComfyUI where the prompt is; settles the run when it has finished or vanished. */
  async function poll(reason: string) {
    // Before the prompt is submitted, "not in the queue" would wrongly read as lost.
    if (polling || isSettled || !isAttached) return;
    polling = true;
    try {
      const entry = await client.history(promptId);
      reachability();
      if (entry) {
        log.info({ reason }, 'prompt found finished in /history');
        finish(outcomeOf(entry));
        return;
      }
      const q = await client.queue();
      if (q.running.includes(promptId)) {
        markStarted();
        return;
      }
      const pos = q.pending.indexOf(promptId);
      if (pos >= 0) {
        emit({ kind: 'pending', position: pos + q.running.length });
        return;
      }
      // Finished between the two calls?
      const again = await client.history(promptId);
      finish(again ? outcomeOf(again) : { ok: false, error: new PromptLostError(promptId, client.baseUrl) });
    } catch (err) {
      // ComfyUI unreachable for the moment: keep waiting; the timeout bounds the wait.
      if (err instanceof ComfyUnavailableError) reachability(err);
      else log.warn({ err, reason }, 'poll failed; will retry');
    } finally {
      polling = false;
    }
  }

  function onSocket(event: SocketEvent) {
    if (event.kind === 'connected') {
      if (event.isReconnect) void poll('socket reconnected');
      return;
    }
    // A dropped socket may be a ComfyUI that went away: find out now rather than at the next silent-poll tick.
    if (event.kind === 'disconnected') {
      void poll('socket dropped');
      return;
    }
    if (event.kind === 'preview') {
      lastActivity = Date.now();
      emit({ kind: 'preview', frame: event.frame });
      return;
    }
    const m = event.message;
    if (m.type === 'status') {
      // Queue changed. Only while still waiting does our position matter. The count alone tells it when at most
      // one other prompt is there (it runs, ours is next); otherwise ask /queue, and only if we are still waiting a
      // moment later (on an idle server execution_start follows within milliseconds).
      const remaining = m.data.status?.exec_info.queue_remaining;
      if (started || !isAttached) return;
      if (remaining !== undefined && remaining <= 2) {
        if (remaining === 2) emit({ kind: 'pending', position: 1 });
        return;
      }
      if (!positionTimer) {
        positionTimer = setTimeout(() => {
          positionTimer = undefined;
          if (!started) void poll('queue changed');
        }, 1000);
      }
      return;
    }
    lastActivity = Date.now();
    if (m.type !== 'execution_error' && m.type !== 'execution_interrupted') markStarted();
    switch (m.type) {
      case 'execution_cached':
        emit({ kind: 'cached', nodes: m.data.nodes });
        break;
      case 'executing':
        if (m.data.node === null)
          finish({ ok: true }); // outcome read from /history below
        else {
          lastNode = m.data.node;
          emit({ kind: 'executing', node: m.data.node });
        }
        break;
      case 'progress':
        emit({ kind: 'progress', node: m.data.node ?? lastNode, value: m.data.value, max: m.data.max });
        break;
      case 'executed':
        emit({ kind: 'executed', node: m.data.node });
        break;
      case 'execution_success':
        finish({ ok: true });
        break;
      case 'execution_error':
        // A blocked-execution error is informational; execution continues (comfyui-api.md §3.1).
        if (m.data.exception_type === 'ExecutionBlocked') break;
        finish({
          ok: false,
          error: new ExecutionError(
            m.data.node_id ?? '?',
            m.data.node_type ?? '?',
            m.data.exception_type ?? 'Error',
            m.data.exception_message ?? '',
          ),
        });
        break;
      case 'execution_interrupted':
        finish({ ok: false, error: new InterruptedError(m.data.node_id, m.data.node_type) });
        break;
      default:
        break;
    }
  }

  const unsubscribe = socket.subscribe(promptId, onSocket);
  const timers: NodeJS.Timeout[] = [];
  /**
   * A robust stop: /queue delete for a pending prompt, /interrupt (with our id) for a running one. A prompt not seen
   * starting is deleted and interrupted only if /queue then shows it running: ComfyUI builds before 2025-09 ignore
   * the id and would interrupt whatever runs (comfyui-api.md §2.4), e.g. this GPU's other job.
   */
  const stopOnComfy = (error: Error) => {
    stopReason ??= error;
    const stop = async () => {
      if (!started) {
        await client.deleteQueued([promptId]).catch(() => undefined);
        const q = await client.queue().catch(() => undefined);
        if (q && !q.running.includes(promptId)) return;
      }
      await client.interrupt(promptId).catch(() => undefined);
    };
    void stop().then(() => finish({ ok: false, error }));
  };
  const onAbort = () => {
    log.info('cancel requested; removing from queue and interrupting');
    stopOnComfy(new InterruptedError(lastNode));
  };
  const onDetach = () => {
    log.info({ lastNode }, 'no longer following the prompt; it keeps running on ComfyUI');
    finish({ ok: false, error: new PromptDetachedError(promptId, client.baseUrl) });
  };

  /** Deletes the prompt from ComfyUI's queue unless it has started; settles the run as withdrawn when it is gone. */
  async function onWithdraw() {
    if (started || isSettled) return;
    try {
      await client.deleteQueued([promptId]);
      const entry = await client.history(promptId);
      if (entry) return finish(outcomeOf(entry));
      const q = await client.queue();
      if (q.running.includes(promptId)) {
        markStarted();
        return;
      }
      log.info('withdrawn from the ComfyUI queue before it started');
      finish({ ok: false, error: new PromptWithdrawnError(promptId, client.baseUrl) });
    } catch (err) {
      // Not reachable: it stays where it is and is followed as before.
      log.warn({ err }, 'could not withdraw the prompt; keeping it');
    }
  }
  const withdrawListener = () => void onWithdraw();

  /** Finds an earlier run of this prompt (history, then queue) or submits it. */
  async function attach(): Promise<RunResult['resumedFrom']> {
    if (opts.resumeCheck === false) return submit();
    // Idempotence: a retried job first looks for the run it may already have paid for.
    const prior = await client.history(promptId);
    reachability();
    if (prior) {
      finish(outcomeOf(prior));
      return 'history';
    }
    const q = await client.queue();
    if (q.running.includes(promptId) || q.pending.includes(promptId)) {
      // It was submitted with another (dead) worker's clientId: its messages go nowhere, so poll briskly.
      pollMs = Math.min(pollMs, 2000);
      lastActivity = 0;
      log.info('prompt already in the ComfyUI queue; re-attaching');
      await socket.ready().catch((err) => log.warn({ err }, 'no socket; following by polling'));
      isAttached = true;
      void poll('re-attach');
      return 'queue';
    }
    return submit();
  }

  async function submit(): Promise<'submit'> {
    await socket.ready().catch((err) => log.warn({ err }, 'no socket yet; submitting anyway and polling'));
    if (opts.signal?.aborted) throw new InterruptedError();
    const { number } = await client.submit(opts.graph, { promptId, clientId: socket.clientId });
    log.info({ number }, 'prompt submitted');
    isAttached = true;
    return 'submit';
  }

  try {
    // Not submitted yet, so nothing to wait for: an unreachable ComfyUI ends this attempt (the queue retries it).
    const resumedFrom = await attach().catch((err) => {
      reachability(err);
      throw err;
    });

    if (opts.signal) {
      if (opts.signal.aborted) onAbort();
      else opts.signal.addEventListener('abort', onAbort, { once: true });
    }
    if (opts.detach?.aborted) onDetach();
    else opts.detach?.addEventListener('abort', onDetach, { once: true });
    if (opts.withdraw?.aborted) withdrawListener();
    else opts.withdraw?.addEventListener('abort', withdrawListener, { once: true });
    timers.push(
      setTimeout(() => {
        log.warn({ lastNode }, 'job timed out; interrupting');
        stopOnComfy(new JobTimeoutError(Date.now() - startedAt, lastNode));
      }, opts.timeoutMs),
      setInterval(() => {
        if (Date.now() - lastActivity >= pollMs) void poll('prompt silent');
      }, pollMs),
      setInterval(() => {
        log.info({ elapsedS: Math.round((Date.now() - startedAt) / 1000), lastNode, started }, 'still running');
      }, opts.heartbeatMs ?? 60_000),
    );

    const outcome = await finished;
    if (!outcome.ok) throw outcome.error;
    const entry = outcome.entry ?? (await readHistory(client, promptId));
    const final = outcomeOf(entry);
    if (!final.ok) throw final.error;
    const outputs: Record<string, FileRef[]> = {};
    for (const [node, ui] of Object.entries(entry.outputs)) outputs[node] = fileRefsOf(ui);
    return { outputs, resumedFrom };
  } finally {
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    clearTimeout(positionTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    opts.detach?.removeEventListener('abort', onDetach);
    opts.withdraw?.removeEventListener('abort', withdrawListener);
  }
}

/** execution_success arrives after history is written, but a busy server may lag a moment: retry briefly. */
async function readHistory(client: ComfyClient, promptId: string): Promise<HistoryEntry> {
  for (let i = 0; i < 5; i++) {
    const entry = await client.history(promptId);
    if (entry) return entry;
    await new Promise((r) => setTimeout(r, 200 * (i + 1)));
  }
  throw new PromptLostError(promptId, client.baseUrl);
}

function outcomeOf(entry: HistoryEntry): Outcome {
  const status = entry.status;
  if (!status || status.status_str === 'success' || status.completed) return { ok: true, entry };
  const last = status.messages.at(-1);
  const data = (last?.[1] ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof data[k] === 'string' ? (data[k] as string) : undefined);
  if (last?.[0] === 'execution_interrupted')
    return { ok: false, error: new InterruptedError(str('node_id'), str('node_type')) };
  return {
    ok: false,
    error: new ExecutionError(
      str('node_id') ?? '?',
      str('node_type') ?? '?',
      str('exception_type') ?? 'Error',
      str('exception_message') ?? 'failed',
    ),
  };
}
