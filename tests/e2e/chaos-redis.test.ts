import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/app/embedded-redis.js';
import { createComfyClient } from '../../src/comfy/client.js';
import { createComfySocket } from '../../src/comfy/socket.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import {
  decodeFailure,
  generationResultSchema,
  type Failure,
  type GenerationResult,
} from '../../src/queue/contracts.js';
import { createJobEvents } from '../../src/queue/events.js';
import { createProducer } from '../../src/queue/producer.js';
import { connectProducer, createRedis } from '../../src/queue/redis.js';
import { createGenerationWorker } from '../../src/queue/worker.js';
import { createStorage } from '../../src/storage.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';
import { waitForRedis } from '../support/redis-server.js';

/**
 * An external Redis (AOF on, fsync on every write) killed with SIGKILL while one job runs on ComfyUI and others
 * wait, then started again on the same port and data folder. Nothing is restarted on our side: the worker, the
 * producer and the job events must find Redis again by themselves.
 */
describe('chaos: the external Redis dies mid-queue and comes back', () => {
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
  let comfy: FakeComfy | undefined;
  const closers: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await comfy?.close();
    await redis?.stop();
  });

  it('finishes the running job and every waiting one; worker, producer and events reconnect by themselves', async () => {
    redis = await startRedis();
    comfy = await startFakeComfy({ models: fakeModels });
    comfy.script({ holdAt: 'sampler' });
    const stack = await startStack(redis.url, comfy.url);
    closers.push(stack.close);
    const running = await stack.submit(0);
    const waiting = [await stack.submit(1), await stack.submit(2), await stack.submit(3)];
    await until(() => comfy?.isHolding(), 'the first job to run on ComfyUI');
    // The next job is handed to ComfyUI while the first runs (its queue one deep): next up; two wait in our queue.
    await until(() => comfy?.pendingIds().includes(waiting[0] as string), 'the next job in ComfyUI’s queue');
    await until(
      async () => (await stack.producer.positions(['imagine'])).get(waiting[0] as string) === 0,
      'the job handed over early to count as next',
    );
    expect([...(await stack.producer.positions(['imagine'])).values()]).toEqual([0, 1, 2]);

    await redis.kill();
    // The running prompt finishes on ComfyUI while Redis is away: its completion must wait and still land.
    comfy.release();
    await until(() => comfy?.historyIds().includes(running), 'ComfyUI to finish the running prompt');
    await until(() => stack.noticed(), 'the worker and the job events to notice');
    await new Promise((r) => setTimeout(r, 1500)); // down long enough for every client to back off a few times
    await redis.restart();

    const all = [running, ...waiting];
    await until(() => all.every((id) => stack.outcome(id)), 'every job to end, heard through the job events', 40_000);
    for (const id of all) expect(stack.outcome(id)).toEqual({ result: expect.objectContaining({ promptId: id }) });
    expect(comfy.submissions()).toBe(4); // each prompt ran once: nothing was lost or run twice
    for (const id of all) expect((await stack.producer.state(id, 'imagine'))?.state).toBe('completed');

    // The fail-fast producer connection is usable again without being recreated.
    const late = await stack.submit(4);
    await until(() => stack.outcome(late)?.result, 'a job submitted after the restart to finish');
  }, 90_000);

  it('an outage longer than the job lock: the running job is taken up again and collects its prompt from /history', async () => {
    redis = await startRedis();
    comfy = await startFakeComfy({ models: fakeModels });
    comfy.script({ holdAt: 'sampler' });
    const stack = await startStack(redis.url, comfy.url, { WORKER_LOCK_S: '1' });
    closers.push(stack.close);
    const running = await stack.submit(0);
    const waiting = await stack.submit(1);
    await until(() => comfy?.isHolding(), 'the first job to run on ComfyUI');

    await redis.kill();
    await new Promise((r) => setTimeout(r, 2500)); // the 1 s lock has expired when Redis reloads its AOF
    await redis.restart();
    comfy.release();

    await until(() => stack.outcome(running) && stack.outcome(waiting), 'both jobs to end', 40_000);
    // Its first completion was refused (lock lost); taken up again, it found the prompt finished in /history.
    expect(stack.outcome(running)).toEqual({
      result: expect.objectContaining({ promptId: running, resumedFrom: 'history' }),
    });
    expect(stack.outcome(waiting)).toEqual({ result: expect.objectContaining({ promptId: waiting }) });
    expect(comfy.submissions()).toBe(2);
  }, 90_000);
});

/** Producer, job events and one worker, all real, on the given Redis; records how each job ended. */
async function startStack(redisUrl: string, comfyUrl: string, env: Record<string, string> = {}) {
  const config = testConfig({ REDIS_URL: redisUrl, ...env });
  const { logger, lines } = memoryLogger('info');
  const workflows = loadWorkflows(config.workflowsDir);
  const producerRedis = await connectProducer(redisUrl, logger);
  const producer = createProducer({ redis: producerRedis, prefix: config.queuePrefix, workflows: workflows.keys() });
  const events = createJobEvents({
    connection: () => createRedis(redisUrl, 'worker', logger),
    prefix: config.queuePrefix,
    workflows: workflows.keys(),
    logger,
  });
  await events.ready();
  const socket = createComfySocket({ baseUrl: comfyUrl, logger, backoffMs: { initial: 50, max: 300 } });
  const worker = createGenerationWorker({
    connection: () => createRedis(redisUrl, 'worker', logger),
    prefix: config.queuePrefix,
    client: createComfyClient({ baseUrl: comfyUrl, logger }),
    socket,
    workflows,
    storage: createStorage(config.storageDir),
    logger,
    jobTimeoutMs: config.jobTimeoutMs,
    maxPromptChars: config.maxPromptChars,
    lockDurationMs: config.workerLockMs,
    pollIntervalMs: 1000,
    progressThrottleMs: 50,
  });
  await worker.waitUntilReady();

  const outcomes = new Map<string, { result?: GenerationResult; failure?: Failure }>();
  return {
    producer,
    outcome: (jobId: string) => outcomes.get(jobId),
    noticed: () => lines.some((l) => l.msg === 'worker error') && lines.some((l) => l.msg === 'queue events error'),
    async submit(n: number) {
      const jobId = randomUUID();
      events.watch(jobId, {
        completed: (rv) => outcomes.set(jobId, { result: generationResultSchema.parse(rv) }),
        failed: (reason) => outcomes.set(jobId, { failure: decodeFailure(reason) }),
      });
      await producer.enqueue({
        jobId,
        workflow: 'imagine',
        params: { prompt: `fox ${n}`, seed: n, steps: 3 },
        requestedBy: { platform: 'cli', userId: 'chaos' },
        createdAt: Date.now(),
      });
      return jobId;
    },
    async close() {
      await worker.close();
      await socket.close();
      await events.close();
      await producer.close();
      producerRedis.disconnect();
    },
  };
}

/** A redis-server child with AOF on and fsync on every write, restartable on the same port and folder. */
async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'relay-chaos-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess;
  const spawnServer = async () => {
    child = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
        ...['--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'],
      ],
      { stdio: 'ignore' },
    );
    await waitForRedis(url, { tries: 200, delayMs: 25 });
  };
  const kill = async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  await spawnServer();
  return {
    url,
    kill,
    restart: spawnServer,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function until<T>(fn: () => T, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
