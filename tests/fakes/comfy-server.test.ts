import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeComfy, type FakeComfy } from './comfy/server.js';

/** The fake's own contract: the message order and HTTP shapes of comfyui-api.md §2–§3, seen with a raw client. */
const graph = {
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'm.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a', clip: ['4', 1] } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['4', 1] } },
  '3': {
    class_type: 'KSampler',
    inputs: {
      seed: 1,
      steps: 2,
      cfg: 7,
      sampler_name: 'euler',
      scheduler: 'normal',
      denoise: 1,
      model: ['4', 0],
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['5', 0],
    },
  },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'ComfyUI' } },
};

describe('fake ComfyUI', () => {
  let comfy: FakeComfy;
  let ws: WebSocket;
  let messages: Array<{ type: string; data: Record<string, unknown> }>;
  const cid = 'client-1';

  beforeEach(async () => {
    comfy = await startFakeComfy({ models: { 'CheckpointLoaderSimple.ckpt_name': ['m.safetensors'] } });
    messages = [];
    ws = new WebSocket(`${comfy.url.replace('http', 'ws')}/ws?clientId=${cid}`);
    ws.on('message', (d, bin) => !bin && messages.push(JSON.parse(String(d))));
    await new Promise((r) => ws.once('open', r));
  });
  afterEach(async () => {
    ws.terminate();
    await comfy.close();
  });

  const post = (path: string, body: unknown) =>
    fetch(comfy.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const waitFor = async (pred: () => boolean) => {
    for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
  };
  const typesFor = (pid: string) =>
    messages
      .filter((m) => m.type === 'status' || m.data.prompt_id === pid)
      .map((m) => (m.type === 'executing' ? `executing:${String(m.data.node)}` : m.type));

  it('greets with status carrying the sid', () => {
    expect(messages[0]).toEqual({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: cid } });
  });

  it('sends a normal run in ComfyUI’s order, history written before the final executing', async () => {
    const pid = randomUUID();
    const res = await post('/prompt', { prompt: graph, client_id: cid, prompt_id: pid });
    expect(await res.json()).toEqual({ prompt_id: pid, number: 0, node_errors: {} });
    await waitFor(() => messages.some((m) => m.type === 'executing' && m.data.node === null));
    const types = typesFor(pid).slice(1); // after the greeting
    expect(types.slice(0, 4)).toEqual(['status', 'status', 'execution_start', 'execution_cached']);
    expect(types.filter((t) => t === 'progress')).toHaveLength(2);
    expect(types.slice(-4)).toEqual(['executed', 'execution_success', 'status', 'executing:null']);
    const order = types.filter((t) => t.startsWith('executing:') && t !== 'executing:null');
    expect(order.indexOf('executing:4')).toBeLessThan(order.indexOf('executing:3'));
    const h = (await (await fetch(`${comfy.url}/api/history/${pid}`)).json()) as Record<
      string,
      { status: { status_str: string; messages: unknown[][] } }
    >;
    expect(h[pid]?.status.status_str).toBe('success');
    expect(h[pid]?.status.messages.map((m) => m[0])).toEqual([
      'execution_start',
      'execution_cached',
      'execution_success',
    ]);
  });

  it('answers {} for unknown history and 400 shapes for bad prompts', async () => {
    expect(await (await fetch(`${comfy.url}/history/nope`)).json()).toEqual({});
    const noPrompt = await post('/prompt', {});
    expect(noPrompt.status).toBe(400);
    expect(((await noPrompt.json()) as { error: { type: string } }).error.type).toBe('no_prompt');
    const badId = await post('/prompt', { prompt: graph, prompt_id: 'not-a-uuid' });
    expect(((await badId.json()) as { error: { type: string } }).error.type).toBe('invalid_prompt_id');
    const noOut = await post('/prompt', { prompt: { '4': graph['4'] } });
    expect(((await noOut.json()) as { error: { type: string } }).error.type).toBe('prompt_no_outputs');
    const badModel = await post('/prompt', {
      prompt: { ...graph, '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'x' } } },
    });
    const body = (await badModel.json()) as {
      node_errors: Record<string, { errors: Array<{ type: string; details: string }>; class_type: string }>;
    };
    expect(body.node_errors['4']).toMatchObject({
      class_type: 'CheckpointLoaderSimple',
      errors: [{ type: 'value_not_in_list', details: 'ckpt_name: \'x\' not in ["m.safetensors"]' }],
    });
  });

  it('reports an interrupt and an error as ComfyUI does', async () => {
    comfy.script({ holdAt: '3' });
    comfy.script({ failAt: '8' });
    const a = randomUUID();
    const b = randomUUID();
    await post('/prompt', { prompt: graph, client_id: cid, prompt_id: a });
    await post('/prompt', {
      prompt: { ...graph, '5': { ...graph['5'], inputs: { width: 64, height: 64, batch_size: 2 } } },
      client_id: cid,
      prompt_id: b,
    });
    await waitFor(() => comfy.isHolding());
    await post('/interrupt', { prompt_id: b }); // not running: a no-op
    await new Promise((r) => setTimeout(r, 30));
    expect(comfy.isHolding()).toBe(true);
    expect((await post('/interrupt', { prompt_id: a })).status).toBe(200);
    await waitFor(() => messages.some((m) => m.type === 'execution_error'));
    expect(messages.find((m) => m.type === 'execution_interrupted')?.data).toMatchObject({
      prompt_id: a,
      node_id: '3',
      node_type: 'KSampler',
    });
    expect(messages.find((m) => m.type === 'execution_error')?.data).toMatchObject({
      prompt_id: b,
      node_id: '8',
      exception_type: 'torch.OutOfMemoryError',
    });
  });

  it('serves outputs through /view by basename, type and subfolder, and refuses escapes', async () => {
    const pid = randomUUID();
    await post('/prompt', { prompt: graph, client_id: cid, prompt_id: pid });
    await waitFor(() => messages.some((m) => m.type === 'executing' && m.data.node === null));
    const ok = await fetch(`${comfy.url}/view?filename=ComfyUI_00001_.png&type=output&subfolder=`);
    expect([ok.status, ok.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect((await fetch(`${comfy.url}/view?filename=../x.png`)).status).toBe(400);
    expect((await fetch(`${comfy.url}/view?filename=ComfyUI_00001_.png&type=temp`)).status).toBe(404);
  });

  it('renames colliding uploads unless the bytes are the same', async () => {
    const up = async (bytes: string) => {
      const f = new FormData();
      f.append('image', new Blob([bytes]), 'a.png');
      return (await (await fetch(`${comfy.url}/upload/image`, { method: 'POST', body: f })).json()) as { name: string };
    };
    expect((await up('one')).name).toBe('a.png');
    expect((await up('one')).name).toBe('a.png');
    expect((await up('two')).name).toBe('a (1).png');
  });
});
