import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import type { GenerationJob } from '../../src/queue/contracts.js';
import type { Producer } from '../../src/queue/producer.js';
import { createStorage } from '../../src/storage.js';
import { createFrontendFiles } from '../../src/transfer/frontend-files.js';
import { createRedisTransferStore } from '../../src/transfer/redis-store.js';
import { readStorageId } from '../../src/transfer/storage-id.js';
import { createStorageRegistry } from '../../src/transfer/storages.js';
import { createWorkerFiles, InputMissingError } from '../../src/transfer/worker-files.js';
import { strict } from '../support/doubles.js';
import { memoryLogger } from '../support/logger.js';

const HOUR = 3_600_000;
const workflows = loadWorkflows(path.resolve('workflows'));
const { logger } = memoryLogger('silent');

describe('job files between a frontend and a worker', () => {
  let redis: Redis;
  let prefix: string;
  let now: number;
  const disk = () => mkdtempSync(path.join(tmpdir(), 'relay-disk-'));
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(() => redis.disconnect());
  beforeEach(() => {
    prefix = `t${Math.random().toString(36).slice(2, 10)}`;
    now = Date.now();
  });

  async function side(dir: string) {
    const store = createRedisTransferStore({ redis, prefix, ttlMs: HOUR, maxBytes: 1_000_000 });
    const storageId = await readStorageId(dir);
    const storages = createStorageRegistry({ redis, prefix, ttlMs: HOUR, now: () => now, cacheMs: 0 });
    const storage = createStorage(dir);
    return { store, storageId, storages, storage };
  }
  /** A frontend with one stored input, and the producer double that records what was queued. */
  async function frontendWithInput() {
    const s = await side(disk());
    const name = `${randomUUID()}.png`;
    mkdirSync(path.dirname(s.storage.inputPath(name)), { recursive: true });
    writeFileSync(s.storage.inputPath(name), 'picture');
    const queued: GenerationJob[] = [];
    const producer = strict<Producer>('producer', {
      enqueue: async (job) => (queued.push(job), { jobId: job.jobId, position: 0 }),
    });
    const files = createFrontendFiles({ ...s, workflows, logger });
    const job: GenerationJob = {
      jobId: randomUUID(),
      workflow: 'edit',
      params: { image: name, instruction: 'night' },
      requestedBy: { platform: 'telegram', userId: '1' },
      createdAt: now,
    };
    return { ...s, files, producer: files.wrapProducer(producer), queued, job, name };
  }

  it('one disk has one id, whoever reads it first; another disk has another', async () => {
    const dir = disk();
    const ids = await Promise.all([readStorageId(dir), readStorageId(dir), readStorageId(dir)]);
    expect(new Set(ids).size).toBe(1);
    expect(await readStorageId(disk())).not.toBe(ids[0]);
  });

  it('sends no input while every worker seen keeps this disk, and marks the job with the disk’s id', async () => {
    const f = await frontendWithInput();
    await f.storages.announce(f.storageId);
    await f.producer.enqueue(f.job);
    expect(f.queued).toEqual([{ ...f.job, storageId: f.storageId }]);
    expect(await f.store.names(f.job.jobId)).toEqual([]);
  });

  it('sends the inputs once a worker on another disk was seen, until it has not been seen for the TTL', async () => {
    const f = await frontendWithInput();
    await f.storages.announce(randomUUID());
    await f.producer.enqueue(f.job);
    expect(await f.store.names(f.job.jobId)).toEqual([`inputs/${f.name}`]);
    now += HOUR + 1;
    const later = { ...f.job, jobId: randomUUID() };
    await f.producer.enqueue(later);
    expect(await f.store.names(later.jobId)).toEqual([]);
  });

  it('a worker on another disk fetches the inputs, and removes its copies when the attempt ends', async () => {
    const f = await frontendWithInput();
    await f.storages.announce(randomUUID());
    await f.producer.enqueue(f.job);
    const w = await side(disk());
    const worker = createWorkerFiles({ ...w, logger });
    const queued = f.queued[0]!;
    await worker.receiveInputs(queued, workflows.get('edit')!.manifest);
    expect(readFileSync(w.storage.inputPath(f.name), 'utf8')).toBe('picture');
    await worker.discard(queued);
    expect(existsSync(w.storage.inputPath(f.name))).toBe(false);
  });

  it('a worker on another disk refuses a job whose input never reached the store', async () => {
    const f = await frontendWithInput();
    await f.producer.enqueue(f.job); // no other disk announced yet: nothing sent
    const w = await side(disk());
    const err = await createWorkerFiles({ ...w, logger })
      .receiveInputs(f.queued[0]!, workflows.get('edit')!.manifest)
      .catch((e) => e);
    expect(err).toBeInstanceOf(InputMissingError);
    expect((err as Error).message).toBe(
      `the input ${f.name} is neither on this worker's disk nor in the transfer store`,
    );
  });

  it('a worker on the frontend’s disk neither fetches nor sends nor removes anything', async () => {
    const f = await frontendWithInput();
    await f.producer.enqueue(f.job);
    const worker = createWorkerFiles({ ...f, logger });
    const queued = f.queued[0]!;
    await worker.receiveInputs(queued, workflows.get('edit')!.manifest);
    const outDir = await f.storage.outputsDir(queued.jobId);
    writeFileSync(path.join(outDir, '01.png'), 'result');
    await worker.sendOutputs(queued, outDir);
    await worker.discard(queued);
    expect(await f.store.names(queued.jobId)).toEqual([]);
    expect(existsSync(path.join(outDir, '01.png'))).toBe(true);
    expect(existsSync(f.storage.inputPath(f.name))).toBe(true);
  });

  it('outputs come back to the frontend, previews stay behind; gone from the store, they are reported missing', async () => {
    const f = await frontendWithInput();
    const w = await side(disk());
    const worker = createWorkerFiles({ ...w, logger });
    const job = { ...f.job, storageId: f.storageId };
    const outDir = await w.storage.outputsDir(job.jobId);
    for (const [name, text] of [
      ['01.mp4', 'video'],
      ['poster.png', 'frame'],
      ['preview.jpg', 'live'],
    ])
      writeFileSync(path.join(outDir, name as string), text as string);
    await worker.sendOutputs(job, outDir);
    expect((await f.store.names(job.jobId)).sort()).toEqual(['outputs/01.mp4', 'outputs/poster.png']);
    const outputs = [
      { path: `outputs/${job.jobId}/01.mp4`, kind: 'video' as const, mime: 'video/mp4', bytes: 5, node: 's' },
    ];
    expect(await f.files.receiveOutputs({ id: job.jobId, outputs })).toBe(true);
    expect(readFileSync(path.join(f.storage.root, 'outputs', job.jobId, 'poster.png'), 'utf8')).toBe('frame');
    await f.files.release(job.jobId);
    expect(await f.store.names(job.jobId)).toEqual([]);
    const lost = { id: randomUUID(), outputs: [{ ...outputs[0]!, path: `outputs/${randomUUID()}/01.mp4` }] };
    expect(await f.files.receiveOutputs(lost)).toBe(false);
  });
});
