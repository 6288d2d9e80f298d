import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyParams } from '../../src/comfy/apply-params.js';
import { createComfyClient, type ComfyClient } from '../../src/comfy/client.js';
import {
  ComfyUnavailableError,
  JobTimeoutError,
  PromptLostError,
  PromptRejectedError,
} from '../../src/comfy/errors.js';
import { runPrompt, type RunEvent } from '../../src/comfy/run.js';
import { createComfySocket, type ComfySocket } from '../../src/comfy/socket.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import { fakeModels } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';

const imagine = loadWorkflows(path.resolve('workflows')).get('imagine')!;
const graph = (over: Record<string, unknown> = {}) =>
  applyParams(imagine.graph, imagine.manifest, { prompt: 'a fox', seed: 1, steps: 4, ...over });

describe('ComfyUI client and run against the protocol fake', () => {
  let comfy: FakeComfy;
  let client: ComfyClient;
  let socket: ComfySocket;
  const { logger, lines } = memoryLogger();

  beforeEach(async () => {
    comfy = await startFakeComfy({ models: fakeModels });
    client = createComfyClient({ baseUrl: comfy.url, logger });
    socket = createComfySocket({ baseUrl: comfy.url, logger, backoffMs: { initial: 20, max: 200 } });
    await socket.ready();
  });
  afterEach(async () => {
    await socket.close();
    await comfy.close();
  });

  it('turns a 400 for an unknown node class into a rejection that says which', async () => {
    const bad = { ...graph(), x: { class_type: 'NoSuchNode', inputs: {} } };
    const err = await client.submit(bad, { promptId: randomUUID(), clientId: socket.clientId }).catch((e) => e);
    expect(err).toBeInstanceOf(PromptRejectedError);
    expect(err.errorType).toBe('invalid_prompt');
    expect(err.message).toContain('Cannot execute because node NoSuchNode does not exist.');
  });

  it('keeps each node_errors entry: node, class, input and message', async () => {
    const g = graph({ steps: 20000 });
    delete (g.positive as { inputs: Record<string, unknown> }).inputs.clip;
    const err = (await client
      .submit(g, { promptId: randomUUID(), clientId: socket.clientId })
      .catch((e) => e)) as PromptRejectedError;
    expect(err.problems.map((p) => [p.nodeId, p.classType, p.type, p.inputName])).toEqual([
      ['positive', 'CLIPTextEncode', 'required_input_missing', 'clip'],
      ['sampler', 'KSampler', 'value_bigger_than_max', 'steps'],
    ]);
  });

  it('follows a run: started, cached list, node by node, steps in order, type-4 previews for our prompt, outputs', async () => {
    comfy.script({ previews: true });
    const events: RunEvent[] = [];
    const promptId = randomUUID();
    const run = await runPrompt(
      { client, socket, logger },
      { promptId, graph: graph(), timeoutMs: 10_000, onEvent: (e) => events.push(e) },
    );
    expect(run.resumedFrom).toBe('submit');
    expect(run.outputs.save).toEqual([{ filename: 'imagine_00001_.png', subfolder: 'comfy-relay', type: 'output' }]);
    const kinds = events.map((e) => e.kind);
    expect(kinds.slice(0, 3)).toEqual(['reachable', 'started', 'cached']);
    expect(events.filter((e) => e.kind === 'progress').map((e) => (e as { value: number }).value)).toEqual([
      1, 2, 3, 4,
    ]);
    const previews = events.filter((e) => e.kind === 'preview');
    expect(previews).toHaveLength(4);
    expect(previews[0]).toMatchObject({ frame: { mime: 'image/jpeg', promptId, nodeId: 'sampler' } });
    expect(events.at(-1)).toEqual({ kind: 'executed', node: 'save' });
  });

  it('gets the old files back from a fully cached resubmission (no new files written)', async () => {
    const first = await runPrompt(
      { client, socket, logger },
      { promptId: randomUUID(), graph: graph(), timeoutMs: 10_000 },
    );
    const events: RunEvent[] = [];
    const second = await runPrompt(
      { client, socket, logger },
      { promptId: randomUUID(), graph: graph(), timeoutMs: 10_000, onEvent: (e) => events.push(e) },
    );
    expect(second.outputs.save).toEqual(first.outputs.save);
    expect(events.find((e) => e.kind === 'cached')).toEqual({
      kind: 'cached',
      nodes: ['ckpt', 'positive', 'negative', 'latent', 'sampler', 'decode', 'save'],
    });
    expect(events.some((e) => e.kind === 'progress')).toBe(false);
  });

  it('re-attaches instead of resubmitting when the prompt already finished (retried job)', async () => {
    const promptId = randomUUID();
    await runPrompt({ client, socket, logger }, { promptId, graph: graph(), timeoutMs: 10_000 });
    const again = await runPrompt({ client, socket, logger }, { promptId, graph: graph(), timeoutMs: 10_000 });
    expect(again.resumedFrom).toBe('history');
    expect(comfy.submissions()).toBe(1);
  });

  it('gives up after the timeout, says how long it waited and interrupts the prompt', async () => {
    comfy.script({ holdAt: 'decode' });
    const promptId = randomUUID();
    const err = await runPrompt({ client, socket, logger }, { promptId, graph: graph(), timeoutMs: 400 }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(JobTimeoutError);
    expect(err.message).toMatch(/^gave up after waiting [01] s \(last node: decode\)$/);
    expect(comfy.requests.filter((r) => r.path === '/interrupt').map((r) => r.body)).toEqual([{ prompt_id: promptId }]);
  });

  it('reads the pending queue in run order although ComfyUI lists it in heap order', async () => {
    comfy.script({ holdAt: 'sampler' });
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids)
      await client.submit(graph({ seed: (Math.random() * 1000) | 0 }), { promptId: id, clientId: socket.clientId });
    await new Promise((r) => setTimeout(r, 50));
    const q = await client.queue();
    expect(q.running).toEqual([ids[0]]);
    expect(q.pending).toEqual([ids[1], ids[2]]);
    comfy.release();
  });

  it('ends the attempt with a retryable error, saying so, when ComfyUI is down before the prompt is submitted', async () => {
    await comfy.down();
    const events: RunEvent[] = [];
    const err = await runPrompt(
      { client, socket, logger },
      { promptId: randomUUID(), graph: graph(), timeoutMs: 10_000, onEvent: (e) => events.push(e) },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ComfyUnavailableError);
    expect(events.map((e) => e.kind)).toEqual(['unreachable']);
    await comfy.up();
  });

  it('waits through a ComfyUI restart mid-run, then reports the prompt lost (so the job is retried)', async () => {
    comfy.script({ holdAt: 'sampler' });
    const events: RunEvent[] = [];
    const promptId = randomUUID();
    const running = runPrompt(
      { client, socket, logger },
      { promptId, graph: graph(), timeoutMs: 10_000, pollIntervalMs: 100, onEvent: (e) => events.push(e) },
    ).catch((e) => e);
    await until(() => comfy.isHolding());
    await comfy.down();
    await until(() => events.some((e) => e.kind === 'unreachable'));
    await comfy.up();
    const err = await running;
    expect(err).toBeInstanceOf(PromptLostError);
    expect(events.map((e) => e.kind).filter((k) => k === 'unreachable' || k === 'reachable')).toEqual([
      'reachable',
      'unreachable',
      'reachable',
    ]);
    expect(comfy.submissions()).toBe(1);
  });

  it('reconnects a dropped socket with the same clientId', async () => {
    const id = socket.clientId;
    comfy.dropSockets();
    await new Promise((r) => setTimeout(r, 30));
    await socket.ready(2000);
    expect(socket.clientId).toBe(id);
    expect(comfy.socketCount()).toBe(1);
    expect(lines.some((l) => l.msg === 'socket closed; reconnecting')).toBe(true);
  });
});

async function until(fn: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
