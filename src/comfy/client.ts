/**
 * Every HTTP call to ComfyUI, with the response shapes we rely on. Over 300 lines because it is the one door to
 * ComfyUI's HTTP side: its quirks (empty-body 200s, node_errors on a 200, heap-ordered queue, streamed /view with
 * an idle timeout and a size cap) are handled here and nowhere else.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import {
  ComfyHttpError,
  ComfyUnavailableError,
  OutputTooLargeError,
  PromptRejectedError,
  type NodeProblem,
} from './errors.js';

/** A file ComfyUI produced, as its output entries name it. */
export const fileRefSchema = z.looseObject({
  filename: z.string(),
  subfolder: z.string().default(''),
  type: z.string().default('output'),
  format: z.string().optional(),
  animated: z.boolean().optional(),
});
export type FileRef = z.infer<typeof fileRefSchema>;

const historyEntrySchema = z.looseObject({
  outputs: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  status: z
    .looseObject({
      status_str: z.string().optional(),
      completed: z.boolean().optional(),
      messages: z.array(z.tuple([z.string(), z.record(z.string(), z.unknown())])).default([]),
    })
    .optional(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

const queueItem = z.array(z.unknown()).min(2);
const queueSchema = z.looseObject({ queue_running: z.array(queueItem), queue_pending: z.array(queueItem) });

const nodeErrorsSchema = z
  .record(
    z.string(),
    z.looseObject({
      errors: z
        .array(
          z.looseObject({
            type: z.string().default(''),
            message: z.string().default(''),
            details: z.string().default(''),
            extra_info: z.looseObject({ input_name: z.string().optional() }).optional(),
          }),
        )
        .default([]),
      class_type: z.string().default('?'),
    }),
  )
  .default({});

const promptResponseSchema = z.looseObject({
  prompt_id: z.string(),
  number: z.number().optional(),
  node_errors: nodeErrorsSchema,
});
const promptErrorSchema = z.looseObject({
  error: z.union([
    z.looseObject({ type: z.string().default(''), message: z.string().default(''), details: z.string().default('') }),
    z.string(),
  ]),
  node_errors: nodeErrorsSchema,
});

export type ObjectInfo = Record<
  string,
  { input?: { required?: Record<string, unknown>; optional?: Record<string, unknown> }; [k: string]: unknown }
>;

export interface ComfyClient {
  readonly baseUrl: string;
  submit(prompt: unknown, opts: { promptId: string; clientId: string }): Promise<{ promptId: string; number?: number }>;
  /** undefined until the prompt has finished (ComfyUI answers {} for unknown and unfinished ids alike). */
  history(promptId: string): Promise<HistoryEntry | undefined>;
  /** Running and pending prompt ids; pending sorted into run order. */
  queue(): Promise<{ running: string[]; pending: string[] }>;
  /**
   * Streams an output into destPath (through a .part file renamed at the end) and returns its size. Fails with ComfyUnavailableError
   * when ComfyUI goes silent mid-transfer, OutputTooLargeError above the size cap.
   */
  download(ref: FileRef, destPath: string): Promise<number>;
  upload(bytes: Uint8Array, filename: string): Promise<string>;
  interrupt(promptId: string): Promise<void>;
  deleteQueued(promptIds: string[]): Promise<void>;
  objectInfo(): Promise<ObjectInfo>;
  systemStats(): Promise<Record<string, unknown>>;
}

export interface ComfyClientDeps {
  baseUrl: string;
  logger: Logger;
  fetch?: typeof fetch;
  /** Per-request timeout for small JSON calls and uploads. */
  requestTimeoutMs?: number;
  /** A download fails (retryably) when no byte arrives for this long; its total time is not bounded. */
  downloadIdleTimeoutMs?: number;
  /** A bigger output file is refused: OutputTooLargeError, not retried. */
  downloadMaxBytes?: number;
}

export function createComfyClient(deps: ComfyClientDeps): ComfyClient {
  const { baseUrl } = deps;
  const doFetch = deps.fetch ?? fetch;
  const timeoutMs = deps.requestTimeoutMs ?? 30_000;
  const downloadIdleMs = deps.downloadIdleTimeoutMs ?? 60_000;
  const downloadMaxBytes = deps.downloadMaxBytes ?? 2000 * 1_048_576;
  const log = deps.logger.child({ module: 'comfy-http', instance: baseUrl });

  async function request(
    method: string,
    path: string,
    body?: string | FormData,
    headers?: Record<string, string>,
  ): Promise<Response> {
    let res: Response;
    try {
      res = await doFetch(baseUrl + path, { method, body, headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new ComfyUnavailableError(baseUrl, `${method} ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (res.status >= 500) {
      const text = await res.text().catch(() => '');
      throw new ComfyUnavailableError(baseUrl, `${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    }
    return res;
  }

  async function json<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    const res = await request(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? undefined : { 'content-type': 'application/json' },
    );
    const text = await res.text();
    if (!res.ok) throw new ComfyHttpError(method, path, res.status, text);
    return schema.parse(JSON.parse(text));
  }

  /** Several POSTs answer 200 with an empty body: never parse it. */
  async function post(path: string, body: unknown): Promise<void> {
    const res = await request('POST', path, JSON.stringify(body), { 'content-type': 'application/json' });
    const text = await res.text();
    if (!res.ok) throw new ComfyHttpError('POST', path, res.status, text);
  }

  return {
    baseUrl,

    async submit(prompt, { promptId, clientId }) {
      const res = await request(
        'POST',
        '/prompt',
        JSON.stringify({ prompt, client_id: clientId, prompt_id: promptId }),
        {
          'content-type': 'application/json',
        },
      );
      const text = await res.text();
      if (res.status === 400) {
        const parsed = promptErrorSchema.safeParse(safeJson(text));
        if (!parsed.success) throw new PromptRejectedError('bad_request', text.slice(0, 300), []);
        const e = parsed.data.error;
        const reason = typeof e === 'string' ? e : [e.message, e.details].filter(Boolean).join(': ');
        throw new PromptRejectedError(
          typeof e === 'string' ? 'error' : e.type,
          reason,
          problemsOf(parsed.data.node_errors),
        );
      }
      if (!res.ok) throw new ComfyHttpError('POST', '/prompt', res.status, text);
      const ok = promptResponseSchema.parse(safeJson(text));
      // A 200 can still carry node_errors: only the valid outputs run (ComfyUI #9076). Treat it as a rejection.
      const problems = problemsOf(ok.node_errors);
      if (problems.length > 0) {
        await post('/queue', { delete: [ok.prompt_id] }).catch(() => undefined);
        throw new PromptRejectedError('prompt_outputs_failed_validation', 'some outputs failed validation', problems);
      }
      log.debug({ promptId: ok.prompt_id, number: ok.number }, 'prompt queued');
      return { promptId: ok.prompt_id, number: ok.number };
    },

    async history(promptId) {
      const all = await json('GET', `/history/${encodeURIComponent(promptId)}`, z.record(z.string(), z.unknown()));
      const entry = all[promptId];
      return entry === undefined ? undefined : historyEntrySchema.parse(entry);
    },

    async queue() {
      const q = await json('GET', '/queue', queueSchema);
      // queue_pending is in heap order: sort by number, then prompt id, to get run order (comfyui-api.md §2.3).
      const pending = [...q.queue_pending].sort((a, b) => {
        const na = Number(a[0]);
        const nb = Number(b[0]);
        return na !== nb ? na - nb : String(a[1]).localeCompare(String(b[1]));
      });
      return { running: q.queue_running.map((i) => String(i[1])), pending: pending.map((i) => String(i[1])) };
    },

    async download(ref, destPath) {
      const qs = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
      const path = `/view?${qs}`;
      // No overall timeout: a video may take minutes to transfer. The bound is silence instead, from the request
      // until the last byte: idleMs without an answer or a byte aborts the transfer (retryable).
      const abort = new AbortController();
      let idle: NodeJS.Timeout | undefined;
      let isStalled = false;
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => {
          isStalled = true;
          abort.abort();
        }, downloadIdleMs);
      };
      // A name of its own: a job taken over after a lock loss may download the same file twice at once.
      const tmp = `${destPath}.${randomBytes(4).toString('hex')}.part`;
      let bytes = 0;
      try {
        arm();
        let res: Response;
        try {
          res = await doFetch(baseUrl + path, { signal: abort.signal });
        } catch (err) {
          const why = isStalled ? `no answer for ${downloadIdleMs / 1000} s` : (err as Error).message;
          throw new ComfyUnavailableError(baseUrl, `GET /view (${ref.filename}): ${why}`, { cause: err });
        }
        if (!res.ok || !res.body) {
          const text = await res.text().catch(() => '');
          if (res.status >= 500) throw new ComfyUnavailableError(baseUrl, `GET /view answered ${res.status}`);
          throw new ComfyHttpError('GET', '/view', res.status, text);
        }
        const declared = Number(res.headers.get('content-length') ?? Number.NaN);
        if (declared > downloadMaxBytes) {
          abort.abort();
          throw new OutputTooLargeError(ref.filename, downloadMaxBytes, declared);
        }
        // Counts, re-arms the idle timer, and stops at the cap even when no Content-Length was sent.
        const guard = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            bytes += chunk.length;
            if (bytes > downloadMaxBytes) return cb(new OutputTooLargeError(ref.filename, downloadMaxBytes));
            arm();
            cb(null, chunk);
          },
        });
        const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
        try {
          await pipeline(body, guard, createWriteStream(tmp, { flags: 'wx' }));
          await rename(tmp, destPath);
        } catch (err) {
          abort.abort();
          await unlink(tmp).catch(() => undefined);
          if (err instanceof OutputTooLargeError) throw err;
          const why = isStalled
            ? `stalled: no data for ${downloadIdleMs / 1000} s after ${bytes} bytes`
            : `failed: ${(err as Error).message}`;
          throw new ComfyUnavailableError(baseUrl, `download of ${ref.filename} ${why}`, { cause: err });
        }
      } finally {
        clearTimeout(idle);
      }
      return bytes;
    },

    async upload(bytes, filename) {
      const form = new FormData();
      form.append('image', new Blob([bytes]), filename);
      form.append('type', 'input');
      const res = await request('POST', '/upload/image', form);
      const text = await res.text();
      if (!res.ok) throw new ComfyHttpError('POST', '/upload/image', res.status, text);
      // Always use the returned name: collisions are renamed "x (1).png" (comfyui-api.md §2.7).
      const parsed = z.looseObject({ name: z.string(), subfolder: z.string().default('') }).parse(safeJson(text));
      return parsed.subfolder ? `${parsed.subfolder}/${parsed.name}` : parsed.name;
    },

    interrupt: (promptId) => post('/interrupt', { prompt_id: promptId }),
    deleteQueued: (promptIds) => post('/queue', { delete: promptIds }),
    objectInfo: () => json('GET', '/object_info', z.record(z.string(), z.looseObject({})) as z.ZodType<ObjectInfo>),
    systemStats: () => json('GET', '/system_stats', z.record(z.string(), z.unknown())),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function problemsOf(nodeErrors: z.infer<typeof nodeErrorsSchema>): NodeProblem[] {
  return Object.entries(nodeErrors).flatMap(([nodeId, ne]) =>
    ne.errors.map((e) => ({
      nodeId,
      classType: ne.class_type,
      type: e.type,
      message: e.message,
      details: e.details,
      inputName: e.extra_info?.input_name,
    })),
  );
}

/** Every {filename, type} entry under any key of a node's UI output (images, gifs, audio, …). */
export function fileRefsOf(output: Record<string, unknown> | undefined | null): FileRef[] {
  if (!output) return [];
  const refs: FileRef[] = [];
  // `animated: [true]` beside `images` marks animations (SaveAnimatedWEBP/PNG) and core videos (comfyui-api.md §2.5).
  const animated = Array.isArray(output.animated) ? (output.animated as unknown[]) : [];
  for (const [key, value] of Object.entries(output)) {
    if (!Array.isArray(value)) continue;
    value.forEach((item, i) => {
      const parsed = fileRefSchema.safeParse(item);
      if (parsed.success)
        refs.push(key === 'images' && animated[i] === true ? { ...parsed.data, animated: true } : parsed.data);
    });
  }
  return refs;
}
