/** Errors of the ComfyUI layer. Each carries the facts a log line or a user message needs. */

/** ComfyUI could not be reached, or answered 5xx. Retrying later may help. */
export class ComfyUnavailableError extends Error {
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`ComfyUI at ${url} unavailable: ${message}`, options);
    this.name = 'ComfyUnavailableError';
  }
}

/** A non-2xx answer that is not a prompt rejection. Keeps method, path, status and body. */
export class ComfyHttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`ComfyUI ${method} ${path} answered ${status}: ${body.slice(0, 300)}`);
    this.name = 'ComfyHttpError';
  }
}

export interface NodeProblem {
  nodeId: string;
  classType: string;
  type: string;
  message: string;
  details: string;
  inputName?: string;
}

/** POST /prompt refused the graph (400, or 200 with node_errors). Retrying will not help. */
export class PromptRejectedError extends Error {
  constructor(
    readonly errorType: string,
    readonly reason: string,
    readonly problems: NodeProblem[],
  ) {
    const first = problems[0];
    const where = first
      ? ` — node ${first.nodeId} (${first.classType})${first.inputName ? ` input "${first.inputName}"` : ''}: ${first.message}${first.details ? ` (${first.details})` : ''}`
      : '';
    super(`ComfyUI rejected the workflow: ${reason}${where}`);
    this.name = 'PromptRejectedError';
  }
}

/** A node raised while the prompt ran (execution_error). */
export class ExecutionError extends Error {
  constructor(
    readonly nodeId: string,
    readonly nodeType: string,
    readonly exceptionType: string,
    readonly exceptionMessage: string,
  ) {
    super(`node ${nodeId} (${nodeType}) failed: ${exceptionType}: ${exceptionMessage.trim()}`);
    this.name = 'ExecutionError';
  }
}

/** The prompt was interrupted (our cancel, or someone else's global interrupt). */
export class InterruptedError extends Error {
  constructor(
    readonly nodeId?: string,
    readonly nodeType?: string,
  ) {
    super(nodeId ? `interrupted at node ${nodeId} (${nodeType ?? '?'})` : 'interrupted');
    this.name = 'InterruptedError';
  }
}

/** The job ran past JOB_TIMEOUT_S. */
export class JobTimeoutError extends Error {
  constructor(
    readonly waitedMs: number,
    readonly lastNode?: string,
  ) {
    super(`gave up after waiting ${Math.round(waitedMs / 1000)} s` + (lastNode ? ` (last node: ${lastNode})` : ''));
    this.name = 'JobTimeoutError';
  }
}

/** The prompt is neither queued, running nor in history any more (ComfyUI restarted). Retrying resubmits it. */
export class PromptLostError extends Error {
  constructor(
    readonly promptId: string,
    readonly url: string,
  ) {
    super(`prompt ${promptId} vanished from ComfyUI at ${url} (restarted?)`);
    this.name = 'PromptLostError';
  }
}

/** We stopped following the prompt (shutdown) and left it running on ComfyUI; the next worker re-attaches to it. */
export class PromptDetachedError extends Error {
  constructor(
    readonly promptId: string,
    readonly url: string,
  ) {
    super(`stopped following prompt ${promptId} on ${url}; it keeps running there`);
    this.name = 'PromptDetachedError';
  }
}

/** A prompt handed to ComfyUI early was taken back before it started (a job ahead of it in fair order arrived). */
export class PromptWithdrawnError extends Error {
  constructor(
    readonly promptId: string,
    readonly url: string,
  ) {
    super(`took prompt ${promptId} back from the queue of ${url} before it started`);
    this.name = 'PromptWithdrawnError';
  }
}

/** An output file is bigger than the download cap (COMFY_DOWNLOAD_MAX_MB). Retrying will not help. */
export class OutputTooLargeError extends Error {
  constructor(
    readonly filename: string,
    readonly maxBytes: number,
    /** The size ComfyUI declared, when it sent a Content-Length. */
    readonly declaredBytes?: number,
  ) {
    super(
      declaredBytes !== undefined
        ? `output ${filename} is ${size(declaredBytes, Math.ceil)}, over the ${size(maxBytes)} download limit`
        : `output ${filename} is over the ${size(maxBytes)} download limit`,
    );
    this.name = 'OutputTooLargeError';
  }
}

/** Rounded down for a limit, up for a size over it, so the two never read the same. */
const size = (n: number, round = Math.floor) =>
  n >= 1_048_576 ? `${round(n / 1_048_576)} MB` : n >= 1024 ? `${round(n / 1024)} KB` : `${n} bytes`;
