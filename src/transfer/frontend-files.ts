import { existsSync } from 'node:fs';
import path from 'node:path';
import { isMediaParam } from '../comfy/param-kinds.js';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import type { Logger } from '../logger.js';
import type { GenerationJob, OutputFile } from '../queue/contracts.js';
import type { Producer } from '../queue/producer.js';
import type { Storage } from '../storage.js';
import type { StorageRegistry } from './storages.js';
import type { TransferStore } from './store.js';

/**
 * The frontend's half of the transfer: a job's input files go into the store before it is queued (only when some
 * worker keeps another disk), its outputs come out of the store into this STORAGE_DIR before delivery (only when
 * they are not here already: on one shared disk they always are), and the job's files leave the store once it is
 * delivered.
 */
export interface FrontendFiles {
  readonly storageId: string;
  /** The producer, with each job's inputs put into the store first and the job marked with this disk's id. */
  wrapProducer(producer: Producer): Producer;
  /**
   * Brings a finished job's outputs (and its poster frame) to this disk when they are missing here. False when some
   * output is neither here nor in the store (expired, or the worker could not send it).
   */
  receiveOutputs(job: { id: string; outputs: OutputFile[] }): Promise<boolean>;
  /**
   * For a progress event whose preview picture is in the store (a worker on another disk): the newest preview already
   * on this disk, or none yet. A newer one is fetched meanwhile and handed to `onFetched` once it is here.
   */
  previewOf(jobId: string, e: { previewPath: string; previewSeq?: number }, onFetched: (p: Preview) => void): Preview;
  /** The job is settled: its files leave the store. */
  release(jobId: string): Promise<void>;
}

/** What a progress view shows as its picture: an absolute path on this disk and its sequence number. */
export type Preview = { previewPath?: string; previewSeq?: number };

export function createFrontendFiles(deps: {
  store: TransferStore;
  storage: Storage;
  storageId: string;
  storages: StorageRegistry;
  workflows: WorkflowRegistry;
  logger: Logger;
}): FrontendFiles {
  const { store, storage } = deps;
  const log = deps.logger.child({ module: 'transfer' });
  const isHere = (rel: string) => existsSync(storage.resolveInside(rel));
  /** Per job: the newest preview fetched, the newest asked for, and the fetch in progress (one at a time). */
  const previews = new Map<string, { shown: Preview; asked: number; chain: Promise<void> }>();

  async function sendInputs(job: GenerationJob) {
    const manifest = deps.workflows.get(job.workflow)?.manifest;
    const names = (manifest?.params ?? [])
      .filter(isMediaParam)
      .map((p) => job.params[p.name])
      .filter((v): v is string => typeof v === 'string');
    if (names.length === 0 || !(await deps.storages.hasOtherThan(deps.storageId))) return;
    for (const name of names) await store.put(job.jobId, `inputs/${name}`, storage.inputPath(name));
    log.info({ jobId: job.jobId, files: names.length, store: store.kind }, 'inputs sent');
  }

  return {
    storageId: deps.storageId,
    wrapProducer(producer) {
      return {
        ...producer,
        async enqueue(job) {
          await sendInputs(job);
          return producer.enqueue({ ...job, storageId: deps.storageId });
        },
      };
    },
    async receiveOutputs(job) {
      if (job.outputs.every((f) => isHere(f.path))) return true;
      let fetched = 0;
      for (const name of await store.names(job.id)) {
        if (!name.startsWith('outputs/') || name.startsWith('outputs/preview.')) continue;
        const rel = path.join('outputs', job.id, path.basename(name));
        if (isHere(rel)) continue;
        if (await store.get(job.id, name, storage.resolveInside(rel))) fetched += 1;
      }
      const isComplete = job.outputs.every((f) => isHere(f.path));
      if (isComplete) log.info({ jobId: job.id, files: fetched, store: store.kind }, 'outputs received');
      else
        log.error({ jobId: job.id, store: store.kind }, 'outputs are neither on this disk nor in the transfer store');
      return isComplete;
    },
    previewOf(jobId, e, onFetched) {
      const p = previews.get(jobId) ?? { shown: {}, asked: 0, chain: Promise.resolve() };
      previews.set(jobId, p);
      const seq = e.previewSeq ?? 0;
      const shown = () => ({ previewPath: p.shown.previewPath, previewSeq: p.shown.previewSeq });
      if (seq <= p.asked) return shown();
      p.asked = seq;
      const local = storage.resolveInside(e.previewPath);
      p.chain = p.chain.then(async () => {
        // A newer preview was announced while this one waited: the store holds only that one now.
        if (seq < p.asked && p.shown.previewSeq !== undefined) return;
        try {
          if (!(await store.get(jobId, `outputs/${path.basename(e.previewPath)}`, local))) return;
          p.shown = { previewPath: local, previewSeq: p.asked };
          onFetched(p.shown);
        } catch (err) {
          log.debug({ err, jobId }, 'could not fetch the preview');
        }
      });
      return shown();
    },
    async release(jobId) {
      previews.delete(jobId);
      await store.drop(jobId);
    },
  };
}
