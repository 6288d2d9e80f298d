/**
 * A place both sides of the queue reach when they do not share STORAGE_DIR: a frontend leaves a job's input files
 * there for the worker, the worker leaves the outputs there for the frontend. Files are grouped by job (`group` is
 * the job id, `name` e.g. `inputs/<uuid>.png` or `outputs/01.png`), streamed in and out (never whole in memory),
 * capped per file, and kept for a TTL at most; the frontend removes a job's group once the job is delivered.
 * Two backends: Redis (the default, chunked) and an S3-compatible object store (OBJECT_STORE_URL).
 */
export interface TransferStore {
  /** 'redis' or 'object store', for logs and the start-up summary. */
  readonly kind: string;
  /** Copies a local file in, replacing an earlier copy. Throws TransferTooLargeError above the per-file cap. */
  put(group: string, name: string, file: string): Promise<void>;
  /** Copies a stored file out to `file` (a temporary file renamed at the end); false when there is none. */
  get(group: string, name: string, file: string): Promise<boolean>;
  /** The names stored in a group. */
  names(group: string): Promise<string[]>;
  /** Removes a group with all its files. */
  drop(group: string): Promise<void>;
  /** Removes what is older than the TTL, where the backend does not expire files by itself (an object store). */
  sweep?(): Promise<number>;
  close(): Promise<void>;
}

/** A file above TRANSFER_MAX_MB: it cannot cross to the other host. Retrying will not help. */
export class TransferTooLargeError extends Error {
  constructor(
    readonly file: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`${file} is ${bytes} bytes, over the transfer limit of ${maxBytes} bytes (TRANSFER_MAX_MB)`);
    this.name = 'TransferTooLargeError';
  }
}

/** The store failed (Redis or the object store unreachable, a file changed while read). Retrying later may help. */
export class TransferError extends Error {
  constructor(
    readonly op: 'put' | 'get' | 'names' | 'drop',
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`transfer ${op} ${key} failed: ${message}`, options);
    this.name = 'TransferError';
  }
}

/** Names we generate only: a group is a job id, a name one or two plain path segments. */
const NAME_RE = /^(?:[A-Za-z0-9_-]+\/)?[A-Za-z0-9_.-]+$/;
export function checkKey(group: string, name: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(group) || !NAME_RE.test(name) || name.includes('..'))
    throw new TransferError('put', `${group}/${name}`, 'not a name this store accepts');
}
