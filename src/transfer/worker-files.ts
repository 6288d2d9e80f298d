import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Manifest } from '../comfy/manifest.js';
import { isMediaParam } from '../comfy/param-kinds.js';
import type { Logger } from '../logger.js';
import { type GenerationJob, generationJobSchema } from '../queue/contracts.js';
import type { Storage } from '../storage.js';
import type { TransferStore } from './store.js';

/**
 * The worker's half of the transfer, for jobs from a frontend on another disk (the job's storageId is not this
 * STORAGE_DIR's): inputs come out of the store before the run, outputs go into it after, and the local copies are
 * removed when the attempt ends (the frontend's disk keeps the job's files, and its retention deletes them).
 * A job from this disk costs nothing here.
 */
export interface WorkerFiles {
  /** Brings the job's input files to this disk; throws InputMissingError for one neither here nor in the store. */
  receiveInputs(job: GenerationJob, manifest: Manifest): Promise<void>;
  /** Puts every output in outDir (results and poster frame, not previews) into the store. */
  sendOutputs(job: GenerationJob, outDir: string): Promise<void>;
  /** Puts the live preview picture into the store; false (nothing done) for a job from this disk. */
  sendPreview(job: GenerationJob, file: string): Promise<boolean>;
  /** The attempt is over: removes this disk's copies of another disk's job (a retry fetches them again). */
  discard(jobData: unknown): Promise<void>;
}

/** An input the frontend did not send: queued before any worker on another disk had announced itself, or expired. */
export class InputMissingError extends Error {
  constructor(
    readonly jobId: string,
    readonly file: string,
  ) {
    super(`the input ${file} is neither on this worker's disk nor in the transfer store`);
    this.name = 'InputMissingError';
  }
}

export function createWorkerFiles(deps: {
  store: TransferStore;
  storage: Storage;
  storageId: string;
  logger: Logger;
}): WorkerFiles {
  const { store, storage } = deps;
  const log = deps.logger.child({ module: 'transfer' });
  const isForeign = (job: Pick<GenerationJob, 'storageId'>) =>
    job.storageId !== undefined && job.storageId !== deps.storageId;
  const inputNames = (job: GenerationJob, manifest: Manifest) =>
    manifest.params
      .filter(isMediaParam)
      .map((p) => job.params[p.name])
      .filter((v): v is string => typeof v === 'string');

  return {
    async receiveInputs(job, manifest) {
      if (!isForeign(job)) return;
      for (const name of inputNames(job, manifest)) {
        const local = storage.inputPath(name);
        if (existsSync(local)) continue;
        if (!(await store.get(job.jobId, `inputs/${name}`, local))) throw new InputMissingError(job.jobId, name);
      }
    },
    async sendOutputs(job, outDir) {
      if (!isForeign(job)) return;
      // Results and the poster frame; previews are this run's own, and `.part` files are downloads cut short.
      const files = (await readdir(outDir)).filter((f) => !f.startsWith('preview.') && !f.endsWith('.part'));
      for (const f of files) await store.put(job.jobId, `outputs/${f}`, path.join(outDir, f));
      log.info({ jobId: job.jobId, files: files.length, store: store.kind }, 'outputs sent');
    },
    async sendPreview(job, file) {
      if (!isForeign(job)) return false;
      await store.put(job.jobId, `outputs/${path.basename(file)}`, file);
      return true;
    },
    async discard(jobData) {
      const parsed = generationJobSchema.safeParse(jobData);
      if (!parsed.success || !isForeign(parsed.data)) return;
      const job = parsed.data;
      const params = Object.values(job.params).filter((v): v is string => typeof v === 'string');
      await rm(storage.resolveInside(path.join('outputs', job.jobId)), { recursive: true, force: true });
      // Only names the frontend stored (uuid.ext) can be inputs; prompt texts never match an existing file.
      for (const v of params)
        if (/^[0-9a-f-]{36}\.[a-z0-9]{2,4}$/.test(v)) await rm(storage.inputPath(v), { force: true });
    },
  };
}
