/**
 * An in-process ComfyUI that speaks the real protocol (as ComfyUI's server.py and execution.py define it, in the
 * source): HTTP routes with their /api aliases, one WebSocket per clientId with ComfyUI's routing and its
 * same-clientId reconnect race, the exact message order of normal, cached, failing and interrupted runs,
 * binary previews (type 1, or type 4 after the feature_flags handshake), /history + /view outputs made with
 * sharp, and 400 node_errors checked against a real /object_info dump.
 * One file on purpose: the queue, the sockets and the history are one state machine, as in ComfyUI's server.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { WebSocketServer, type WebSocket } from 'ws';

type Graph = Record<string, { class_type?: string; inputs?: Record<string, unknown> }>;
type Info = Record<
  string,
  {
    input?: { required?: Record<string, unknown[]>; optional?: Record<string, unknown[]> };
    output_node?: boolean;
    output?: string[];
  }
>;

/** How the next submitted prompt behaves. Unset fields take the defaults. */
export interface RunScript {
  /** Delay between sampler steps (ms). */
  stepDelayMs?: number;
  /** Fail when this node (id, or "sampler" for the first sampler) starts executing. */
  failAt?: string;
  exceptionType?: string;
  exceptionMessage?: string;
  /** Stop at this node until release() or an interrupt. */
  holdAt?: string;
  /** Drop every socket when the sampler reaches this step (the run goes on). */
  dropSocketsAtStep?: number;
  /** Send preview frames (real 64×64 JPEGs, a new shade each step) on sampler steps. */
  previews?: boolean;
}

/** How GET /view sends a file's bytes (default: all at once, with Content-Length). */
export interface ViewScript {
  /** Send the body in pieces of this many bytes… */
  chunkBytes?: number;
  /** …this far apart (a slow but steady link). */
  chunkDelayMs?: number;
  /** Send this many bytes, then nothing more while keeping the connection open (a stalled transfer). */
  stallAfterBytes?: number;
  /** Leave out Content-Length (chunked encoding), as a proxy in front of ComfyUI may. */
  omitLength?: boolean;
}

export interface FakeComfyOptions {
  objectInfo?: Info;
  /** "Class.input" → model list, replacing the fixture's (mostly empty) lists. */
  models?: Record<string, string[]>;
  /** Also serve the custom node packs' classes (ReActor). */
  customNodes?: boolean;
  /** Send only the fields pre-2024 ComfyUI sends (no execution_success, display_node, timestamps, progress ids). */
  legacy?: boolean;
  defaultStepDelayMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body?: unknown;
}

const SAMPLERS = /^(KSampler|KSamplerAdvanced|SamplerCustom|SamplerCustomAdvanced)$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Boxes of an MP4 without media data: the size and length the graph asks for (`width`/`height`/`length`, `fps`). */
function fakeMp4(prompt: Graph): Buffer {
  const box = (type: string, ...body: Buffer[]) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + body.reduce((n, b) => n + b.length, 0), 0);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, ...body]);
  };
  const nodes = Object.values(prompt).map((n) => n.inputs ?? {});
  const canvas = nodes.find((i) => typeof i.width === 'number' && typeof i.length === 'number') ?? {};
  const fps = Number(nodes.find((i) => typeof i.fps === 'number')?.fps ?? 16);
  const [width, height, frames] = [
    Number(canvas.width ?? 64),
    Number(canvas.height ?? 64),
    Number(canvas.length ?? 16),
  ];
  const mvhd = Buffer.alloc(100); // version 0: timescale at 12, duration at 16
  mvhd.writeUInt32BE(1000, 12);
  mvhd.writeUInt32BE(Math.round((frames / fps) * 1000), 16);
  const tkhd = Buffer.alloc(84); // version 0: width and height (16.16) at 76 and 80
  tkhd.writeUInt32BE(width * 65536, 76);
  tkhd.writeUInt32BE(height * 65536, 80);
  return Buffer.concat([
    box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2', 'latin1')),
    box('moov', box('mvhd', mvhd), box('trak', box('tkhd', tkhd))),
  ]);
}

/** Preview frames as ComfyUI sends them: small real JPEGs, a different shade at each step (8 kept, made once). */
const previewFrames = new Map<number, Promise<Buffer>>();
function previewFrame(step: number): Promise<Buffer> {
  const n = step % 8;
  let frame = previewFrames.get(n);
  if (!frame) {
    const background = { r: 30 * n, g: 90, b: 200 - 20 * n };
    frame = sharp({ create: { width: 64, height: 64, channels: 3, background } })
      .jpeg()
      .toBuffer();
    previewFrames.set(n, frame);
  }
  return frame;
}

let cachedInfo: Info | undefined;
export function loadFixtureObjectInfo(): Info {
  cachedInfo ??= JSON.parse(
    readFileSync(new URL('../../fixtures/comfyui/object_info.json', import.meta.url), 'utf8'),
  ) as Info;
  return cachedInfo;
}
/** Entries of custom node packs some servers have (ReActor), to merge into the dump. */
export function loadCustomNodeInfo(): Info {
  return JSON.parse(
    readFileSync(new URL('../../fixtures/comfyui/object_info.reactor.json', import.meta.url), 'utf8'),
  ) as Info;
}

interface QueueItem {
  number: number;
  id: string;
  prompt: Graph;
  extra: { client_id?: string };
  outputs: string[];
  script: RunScript;
}

export async function startFakeComfy(opts: FakeComfyOptions = {}) {
  const info: Info = structuredClone({
    ...(opts.objectInfo ?? loadFixtureObjectInfo()),
    ...(opts.customNodes ? loadCustomNodeInfo() : {}),
  });
  for (const [key, list] of Object.entries(opts.models ?? {})) {
    const [cls, input] = key.split('.') as [string, string];
    const spec = info[cls]?.input?.required?.[input] ?? info[cls]?.input?.optional?.[input];
    if (!spec) throw new Error(`fake: no ${key} in object_info`);
    if (spec[0] === 'COMBO') (spec[1] as { options: string[] }).options = list;
    else spec[0] = list;
  }
  const legacy = Boolean(opts.legacy);
  const requests: RecordedRequest[] = [];
  const files = new Map<string, Buffer>(); // "<type>/<subfolder>/<name>"
  const history = new Map<string, unknown>();
  const pending: QueueItem[] = [];
  let running: QueueItem | undefined;
  let counter = 0;
  let interruptFlag = false;
  const scripts: RunScript[] = [];
  let lastSignature: string | undefined;
  let lastOutputs: Record<string, unknown> = {};
  let release: (() => void) | undefined;
  const sockets = new Map<string, WebSocket>(); // sid → socket, as ComfyUI's sockets dict
  const allSockets = new Set<WebSocket>();
  const flags = new WeakMap<WebSocket, boolean>();
  let idle: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;
  let closed = false;
  /** Down like a crashed ComfyUI: port closed, nothing sent. */
  let isDown = false;
  let viewScript: ViewScript = {};
  /** Start and end of the last /view body sent with a ViewScript. */
  let lastView: { startedAt: number; endedAt?: number; bytes: number } | undefined;
  /** When each prompt started and finished executing (for the benchmark's GPU-time baseline). */
  const runTimes = new Map<string, { start: number; end?: number }>();
  /** Checkpoints in VRAM (one prompt's worth, as with little VRAM) and how often each was loaded. */
  let loadedModels = new Set<string>();
  const modelLoads = new Map<string, number>();

  // ---- WebSocket side -------------------------------------------------------------------------
  const send = (sid: string | undefined, type: string, data: unknown) => {
    if (isDown) return;
    const frame = JSON.stringify({ type, data });
    if (sid === undefined) for (const ws of sockets.values()) ws.send(frame);
    else sockets.get(sid)?.send(frame); // no socket → silently dropped, nothing buffered
  };
  const sendBinary = (sid: string | undefined, buf: Buffer) => {
    if (isDown) return;
    if (sid === undefined) for (const ws of sockets.values()) ws.send(buf);
    else sockets.get(sid)?.send(buf);
  };
  const queueRemaining = () => pending.length + (running ? 1 : 0);
  const broadcastStatus = () =>
    send(undefined, 'status', { status: { exec_info: { queue_remaining: queueRemaining() } } });

  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws: WebSocket, req: http.IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const sid = url.searchParams.get('clientId') || randomUUID().replace(/-/g, '');
    sockets.set(sid, ws); // a second socket with the same id replaces the first in the table
    allSockets.add(ws);
    let first = true;
    ws.send(
      JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: queueRemaining() } }, sid } }),
    );
    if (running && running.extra.client_id === sid && currentNode)
      ws.send(JSON.stringify({ type: 'executing', data: { node: currentNode } }));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      if (first) {
        first = false;
        try {
          const msg = JSON.parse(String(data)) as { type?: string; data?: { supports_preview_metadata?: boolean } };
          if (msg.type === 'feature_flags' && !legacy) {
            flags.set(ws, Boolean(msg.data?.supports_preview_metadata));
            ws.send(
              JSON.stringify({
                type: 'feature_flags',
                data: { supports_preview_metadata: true, max_upload_size: 104857600 },
              }),
            );
          }
        } catch {
          /* ignored, as ComfyUI does */
        }
      }
    });
    ws.on('close', () => {
      allSockets.delete(ws);
      // ComfyUI's cleanup removes whatever is registered under this sid — possibly a newer socket.
      sockets.delete(sid);
    });
  });

  // ---- validation (POST /prompt) ----------------------------------------------------------------
  type NodeError = {
    errors: Array<{ type: string; message: string; details: string; extra_info: Record<string, unknown> }>;
    dependent_outputs: string[];
    class_type: string;
  };
  function validate(prompt: Graph): { status: 400; body: unknown } | { outputs: string[] } {
    for (const [id, node] of Object.entries(prompt)) {
      if (!node || typeof node !== 'object' || !node.class_type) {
        return {
          status: 400,
          body: {
            error: {
              type: 'invalid_prompt',
              message: 'Cannot execute because a node is missing the class_type property.',
              details: `Node ID '#${id}'`,
              extra_info: {},
            },
            node_errors: {},
          },
        };
      }
      if (!info[node.class_type]) {
        return {
          status: 400,
          body: {
            error: {
              type: 'invalid_prompt',
              message: `Cannot execute because node ${node.class_type} does not exist.`,
              details: `Node ID '#${id}'`,
              extra_info: {},
            },
            node_errors: {},
          },
        };
      }
    }
    const outputs = Object.entries(prompt)
      .filter(([, n]) => info[n.class_type as string]?.output_node)
      .map(([id]) => id);
    if (outputs.length === 0)
      return {
        status: 400,
        body: {
          error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} },
          node_errors: {},
        },
      };
    const nodeErrors: Record<string, NodeError> = {};
    for (const [id, node] of Object.entries(prompt)) {
      const spec = info[node.class_type as string]?.input ?? {};
      const errors: NodeError['errors'] = [];
      const inputs = node.inputs ?? {};
      for (const [name, s] of Object.entries(spec.required ?? {})) {
        const value = inputs[name];
        if (value === undefined) {
          errors.push({
            type: 'required_input_missing',
            message: 'Required input is missing',
            details: name,
            extra_info: { input_name: name },
          });
          continue;
        }
        errors.push(...checkValue(prompt, name, value, s, node.class_type as string));
      }
      for (const [name, s] of Object.entries(spec.optional ?? {}))
        if (inputs[name] !== undefined) errors.push(...checkValue(prompt, name, inputs[name], s));
      if (errors.length) nodeErrors[id] = { errors, dependent_outputs: outputs, class_type: node.class_type as string };
    }
    if (Object.keys(nodeErrors).length) {
      const details = Object.values(nodeErrors)
        .flatMap((n) => n.errors.map((e) => `${e.message}: ${e.details}`))
        .join('\n');
      return {
        status: 400,
        body: {
          error: {
            type: 'prompt_outputs_failed_validation',
            message: 'Prompt outputs failed validation',
            details,
            extra_info: {},
          },
          node_errors: nodeErrors,
        },
      };
    }
    return { outputs };
  }

  function checkValue(prompt: Graph, name: string, value: unknown, spec: unknown[], cls = ''): NodeError['errors'] {
    if (Array.isArray(value)) {
      if (value.length !== 2)
        return [
          {
            type: 'bad_linked_input',
            message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]',
            details: name,
            extra_info: { input_name: name },
          },
        ];
      if (!prompt[String(value[0])])
        return [
          {
            type: 'exception_during_validation',
            message: 'Exception when validating node',
            details: `'${String(value[0])}'`,
            extra_info: { input_name: name, exception_type: 'KeyError' },
          },
        ];
      return [];
    }
    const type = spec[0];
    const o = (spec[1] ?? {}) as { min?: number; max?: number; options?: unknown[] };
    if (type === 'INT' || type === 'FLOAT') {
      const n = typeof value === 'number' ? value : Number(value);
      if (typeof value === 'boolean' || Number.isNaN(n))
        return [
          {
            type: 'invalid_input_type',
            message: `Failed to convert an input value to a ${type} value`,
            details: `${name}, ${String(value)}`,
            extra_info: { input_name: name },
          },
        ];
      if (o.min !== undefined && n < o.min)
        return [
          {
            type: 'value_smaller_than_min',
            message: `Value ${n} smaller than min of ${o.min}`,
            details: name,
            extra_info: { input_name: name },
          },
        ];
      if (o.max !== undefined && n > o.max)
        return [
          {
            type: 'value_bigger_than_max',
            message: `Value ${n} bigger than max of ${o.max}`,
            details: name,
            extra_info: { input_name: name },
          },
        ];
    }
    // LoadImage/LoadAudio have VALIDATE_INPUTS: the list check is skipped, the file must exist in input/.
    if (cls === 'LoadImage' || cls === 'LoadAudio') {
      const file = String(value).replace(/ \[(input|output|temp)\]$/, '');
      const slash = file.lastIndexOf('/');
      const listed = Array.isArray(type) ? type.map(String) : ((o.options ?? []) as unknown[]).map(String);
      if (
        !files.has(`input/${slash >= 0 ? file.slice(0, slash) : ''}/${file.slice(slash + 1)}`) &&
        !listed.includes(String(value))
      ) {
        return [
          {
            type: 'custom_validation_failed',
            message: 'Custom validation failed for node',
            details: `${name} - Invalid ${name} file: ${String(value)}`,
            extra_info: { input_name: name },
          },
        ];
      }
      return [];
    }
    // Old-style combos are checked; V3 "COMBO" inputs are not at the 0.3.6x commit (they fail at execution).
    if (Array.isArray(type) && !type.map(String).includes(String(value))) {
      const list = type.length > 20 ? `(list of length ${type.length})` : JSON.stringify(type);
      return [
        {
          type: 'value_not_in_list',
          message: 'Value not in list',
          details: `${name}: '${String(value)}' not in ${list}`,
          extra_info: { input_name: name },
        },
      ];
    }
    return [];
  }

  // ---- execution ----------------------------------------------------------------------------------
  let currentNode: string | undefined;
  const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const now = () => Date.now();

  /** Upstream-of-output nodes in a valid topological order. */
  function executionOrder(prompt: Graph, outputs: string[]): string[] {
    const order: string[] = [];
    const seen = new Set<string>();
    const visit = (id: string) => {
      if (seen.has(id) || !prompt[id]) return;
      seen.add(id);
      for (const v of Object.values(prompt[id]?.inputs ?? {}))
        if (Array.isArray(v) && v.length === 2) visit(String(v[0]));
      order.push(id);
    };
    for (const o of outputs) visit(o);
    return order;
  }

  async function makeOutput(prompt: Graph, id: string): Promise<Record<string, unknown> | null> {
    const node = prompt[id];
    const cls = node?.class_type;
    const prefix = String(node?.inputs?.filename_prefix ?? 'ComfyUI');
    const slash = prefix.lastIndexOf('/');
    const subfolder = slash >= 0 ? prefix.slice(0, slash) : '';
    const base = slash >= 0 ? prefix.slice(slash + 1) : prefix;
    const nextName = (ext: string) => {
      let n = 1;
      while (files.has(`output/${subfolder}/${base}_${String(n).padStart(5, '0')}_.${ext}`)) n++;
      return `${base}_${String(n).padStart(5, '0')}_.${ext}`;
    };
    if (cls === 'SaveImage' || cls === 'PreviewImage') {
      const latent =
        Object.values(prompt).find((n) => /^Empty(SD3)?LatentImage$/.test(n.class_type ?? ''))?.inputs ?? {};
      // Without a latent canvas the output takes the loaded image's size (edit, upscale).
      const loaded = Object.values(prompt).find((n) => n.class_type === 'LoadImage')?.inputs?.image;
      const loadedMeta = loaded
        ? await sharp(files.get(`input//${String(loaded)}`) ?? Buffer.alloc(0))
            .metadata()
            .catch(() => undefined)
        : undefined;
      const width = Number(latent.width ?? loadedMeta?.width ?? 64);
      const height = Number(latent.height ?? loadedMeta?.height ?? 64);
      const batch = Number(latent.batch_size ?? 1);
      const type = cls === 'SaveImage' ? 'output' : 'temp';
      const images = [];
      for (let b = 0; b < batch; b++) {
        const png = await sharp({
          create: { width, height, channels: 3, background: { r: (b * 60) % 255, g: 120, b: 200 } },
        })
          .png()
          .toBuffer();
        const filename = nextName('png');
        files.set(`${type}/${subfolder}/${filename}`, png);
        images.push({ filename, subfolder, type });
      }
      return { images };
    }
    if (cls === 'SaveVideo' || cls === 'SaveWEBM' || cls === 'VHS_VideoCombine') {
      const ext = cls === 'SaveWEBM' ? 'webm' : 'mp4';
      const filename = nextName(ext);
      // ftyp (type sniffing) and moov headers (size and length); the fake does not encode real video.
      files.set(`output/${subfolder}/${filename}`, fakeMp4(prompt));
      const entry = { filename, subfolder, type: 'output' };
      return cls === 'VHS_VideoCombine'
        ? { gifs: [{ ...entry, format: 'video/h264-mp4', frame_rate: 16 }] }
        : { images: [entry], animated: [true] };
    }
    if (/^SaveAudio/.test(cls ?? '')) {
      const ext = cls === 'SaveAudioMP3' ? 'mp3' : cls === 'SaveAudioOpus' ? 'opus' : 'flac';
      const filename = nextName(ext);
      files.set(`output/${subfolder}/${filename}`, Buffer.from('fLaC\0\0\0\x22'));
      return { audio: [{ filename, subfolder, type: 'output' }] };
    }
    return null;
  }

  async function execute(item: QueueItem) {
    const sid = item.extra.client_id;
    const pid = item.id;
    const msgs: Array<[string, Record<string, unknown>]> = [];
    const ts = () => (legacy ? {} : { timestamp: now() });
    const toClient = (type: string, data: Record<string, unknown>) => send(sid, type, data);
    const withId = (d: Record<string, unknown>) => (legacy ? d : { ...d, prompt_id: pid });
    const script = item.script;
    const outputs: Record<string, unknown> = {};
    const signature = JSON.stringify(item.prompt);
    const isCached = signature === lastSignature;
    const order = executionOrder(item.prompt, item.outputs);
    if (!isCached) {
      const wanted = new Set<string>();
      for (const id of order)
        for (const input of ['ckpt_name', 'unet_name']) {
          const name = item.prompt[id]?.inputs?.[input];
          if (typeof name === 'string') wanted.add(name);
        }
      for (const name of wanted) if (!loadedModels.has(name)) modelLoads.set(name, (modelLoads.get(name) ?? 0) + 1);
      if (wanted.size) loadedModels = wanted;
    }
    const finish = (status: 'success' | 'error', last: [string, Record<string, unknown>] | undefined) => {
      if (last) msgs.push(last);
      history.set(pid, {
        prompt: [item.number, pid, item.prompt, item.extra, item.outputs],
        outputs,
        status: { status_str: status, completed: status === 'success', messages: msgs },
        meta: Object.fromEntries(
          Object.keys(outputs).map((n) => [n, { node_id: n, display_node: n, parent_node: null, real_node_id: n }]),
        ),
      });
    };

    runTimes.set(pid, { start: now() });
    const start = { prompt_id: pid, ...ts() };
    msgs.push(['execution_start', start]);
    toClient('execution_start', start);
    const cachedNodes = isCached ? order : [];
    const cachedMsg = { nodes: cachedNodes, prompt_id: pid, ...ts() };
    msgs.push(['execution_cached', cachedMsg]);
    toClient('execution_cached', cachedMsg);

    const failAt =
      script.failAt === 'sampler' ? order.find((n) => SAMPLERS.test(item.prompt[n]?.class_type ?? '')) : script.failAt;
    const holdAt =
      script.holdAt === 'sampler' ? order.find((n) => SAMPLERS.test(item.prompt[n]?.class_type ?? '')) : script.holdAt;
    const executed: string[] = [];
    const interrupted = (node: string) => {
      const data = { prompt_id: pid, node_id: node, node_type: item.prompt[node]?.class_type, executed, ...ts() };
      finish('error', ['execution_interrupted', data]);
      toClient('execution_interrupted', data);
    };
    try {
      for (const id of order) {
        const cls = item.prompt[id]?.class_type ?? '';
        if (isCached) {
          if (item.outputs.includes(id)) {
            outputs[id] = lastOutputs[id];
            toClient('executed', withId({ node: id, display_node: id, output: lastOutputs[id] ?? null }));
          }
          continue;
        }
        if (interruptFlag) return interrupted(id);
        currentNode = id;
        toClient('executing', legacy ? { node: id, prompt_id: pid } : { node: id, display_node: id, prompt_id: pid });
        if (id === holdAt) {
          await new Promise<void>((r) => {
            release = r;
            const iv = setInterval(() => {
              if (interruptFlag || closed) {
                clearInterval(iv);
                r();
              }
            }, 5);
          });
          release = undefined;
          if (interruptFlag) return interrupted(id);
        }
        if (id === failAt) {
          const data = {
            prompt_id: pid,
            node_id: id,
            node_type: cls,
            executed,
            exception_message: `${script.exceptionMessage ?? 'Allocation on device'}\n`,
            exception_type: script.exceptionType ?? 'torch.OutOfMemoryError',
            traceback: ['  File "execution.py", line 1, in execute\n'],
            current_inputs: {},
            current_outputs: [],
            ...ts(),
          };
          finish('error', ['execution_error', data]);
          toClient('execution_error', data);
          return;
        }
        if (SAMPLERS.test(cls)) {
          const steps = Number(item.prompt[id]?.inputs?.steps ?? 20);
          // Steps end on a fixed schedule from the sampler's start (as a GPU's work does), so timer lateness on a
          // busy machine does not add up over the steps.
          const stepMs = script.stepDelayMs ?? opts.defaultStepDelayMs ?? 2;
          const samplerStart = Date.now();
          for (let k = 1; k <= steps; k++) {
            await delay(Math.max(0, samplerStart + k * stepMs - Date.now()));
            if (interruptFlag) return interrupted(id);
            if (script.previews) {
              const jpeg = await previewFrame(k);
              const target = sid && sockets.get(sid);
              if (target && flags.get(target)) {
                const meta = Buffer.from(
                  JSON.stringify({
                    node_id: id,
                    prompt_id: pid,
                    display_node_id: id,
                    parent_node_id: null,
                    real_node_id: id,
                    image_type: 'image/jpeg',
                  }),
                );
                const head = Buffer.alloc(8);
                head.writeUInt32BE(4, 0);
                head.writeUInt32BE(meta.length, 4);
                sendBinary(sid, Buffer.concat([head, meta, jpeg]));
              } else {
                const head = Buffer.alloc(8);
                head.writeUInt32BE(1, 0);
                head.writeUInt32BE(1, 4);
                sendBinary(sid, Buffer.concat([head, jpeg]));
              }
            }
            const progress = legacy ? { value: k, max: steps } : { value: k, max: steps, prompt_id: pid, node: id };
            // Without a client_id, progress is broadcast (comfyui-api.md §3.1).
            send(sid, 'progress', progress);
            if (script.dropSocketsAtStep === k) for (const ws of [...allSockets]) ws.terminate();
          }
        }
        const ui = await makeOutput(item.prompt, id);
        if (ui) {
          outputs[id] = ui;
          toClient('executed', withId(legacy ? { node: id, output: ui } : { node: id, display_node: id, output: ui }));
        }
        executed.push(id);
      }
      lastSignature = signature;
      lastOutputs = outputs;
      finish('success', legacy ? undefined : ['execution_success', { prompt_id: pid, ...ts() }]);
      if (!legacy) toClient('execution_success', { prompt_id: pid, ...ts() });
    } finally {
      const rt = runTimes.get(pid);
      if (rt) rt.end = now();
      currentNode = undefined;
      running = undefined;
      broadcastStatus(); // history is already written at this point
      toClient('executing', { node: null, prompt_id: pid });
    }
  }

  async function loop() {
    while (!closed) {
      const next = pending.sort((a, b) => a.number - b.number).shift();
      if (!next) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      interruptFlag = false; // cleared when the next prompt starts
      running = next;
      broadcastStatus();
      idle = execute(next).catch(() => undefined);
      await idle;
    }
  }

  // ---- HTTP side ---------------------------------------------------------------------------------
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const empty = (res: http.ServerResponse) => {
    res.writeHead(200);
    res.end();
  };
  const readBody = (req: http.IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
    });

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/api(?=\/)/, '');
    const raw = await readBody(req);
    let body: unknown;
    if (raw.length && (req.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        res.writeHead(500);
        res.end('500 Internal Server Error');
        return;
      }
    }
    requests.push({ method: req.method ?? 'GET', path: path + url.search, body });
    const b = (body ?? {}) as Record<string, unknown>;
    const route = `${req.method} ${path}`;

    if (route === 'POST /prompt') {
      if (!b.prompt)
        return json(res, 400, {
          error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} },
          node_errors: {},
        });
      if (b.prompt_id !== undefined && b.prompt_id !== null && !UUID_RE.test(String(b.prompt_id))) {
        return json(res, 400, {
          error: {
            type: 'invalid_prompt_id',
            message: 'Invalid prompt_id',
            details: String(b.prompt_id),
            extra_info: {},
          },
          node_errors: {},
        });
      }
      const v = validate(b.prompt as Graph);
      if ('status' in v) return json(res, v.status, v.body);
      const id = (b.prompt_id as string | undefined) ?? randomUUID();
      const number = typeof b.number === 'number' ? b.number : b.front ? -counter++ : counter++;
      const clientId = typeof b.client_id === 'string' ? b.client_id : undefined;
      pending.push({
        number,
        id,
        prompt: b.prompt as Graph,
        extra: clientId ? { client_id: clientId } : {},
        outputs: v.outputs,
        script: scripts.shift() ?? {},
      });
      broadcastStatus();
      wake?.();
      return json(res, 200, { prompt_id: id, number, node_errors: {} });
    }
    if (route === 'GET /prompt') return json(res, 200, { exec_info: { queue_remaining: queueRemaining() } });
    if (route === 'GET /queue') {
      const item = (q: QueueItem) => [q.number, q.id, q.prompt, q.extra, q.outputs];
      // Heap order, not sorted: shuffle a copy so clients must sort (comfyui-api.md §2.3).
      const shuffled = [...pending].reverse();
      return json(res, 200, { queue_running: running ? [item(running)] : [], queue_pending: shuffled.map(item) });
    }
    if (route === 'POST /queue') {
      if (b.clear) pending.splice(0);
      if (Array.isArray(b.delete))
        for (const id of b.delete) {
          const i = pending.findIndex((q) => q.id === id);
          if (i >= 0) pending.splice(i, 1);
        }
      broadcastStatus();
      return empty(res);
    }
    if (route === 'POST /interrupt') {
      if (!b.prompt_id || running?.id === b.prompt_id) interruptFlag = Boolean(running);
      return empty(res);
    }
    if (route === 'POST /free') {
      lastSignature = undefined;
      return empty(res);
    }
    if (route === 'GET /history') return json(res, 200, Object.fromEntries(history));
    if (req.method === 'GET' && path.startsWith('/history/')) {
      const id = decodeURIComponent(path.slice('/history/'.length));
      const h = history.get(id);
      return json(res, 200, h ? { [id]: h } : {});
    }
    if (route === 'POST /history') {
      if (b.clear) history.clear();
      if (Array.isArray(b.delete)) for (const id of b.delete) history.delete(String(id));
      return empty(res);
    }
    if (route === 'GET /view') {
      let filename = url.searchParams.get('filename');
      if (!filename) return json(res, 404, {});
      let type = url.searchParams.get('type') ?? 'output';
      const m = / \[(output|input|temp)\]$/.exec(filename);
      if (m) {
        type = m[1] as string;
        filename = filename.slice(0, m.index);
      }
      if (filename.startsWith('/') || filename.includes('..')) return json(res, 400, {});
      if (!['output', 'input', 'temp'].includes(type)) return json(res, 400, {});
      const subfolder = url.searchParams.get('subfolder') ?? '';
      if (subfolder.includes('..')) return json(res, 403, {});
      const base = filename.split('/').pop() as string;
      const data = files.get(`${type}/${subfolder}/${base}`);
      if (!data) {
        res.writeHead(404);
        return res.end();
      }
      const ext = base.split('.').pop();
      const ct =
        ext === 'png'
          ? 'image/png'
          : ext === 'mp4'
            ? 'video/mp4'
            : ext === 'flac'
              ? 'audio/flac'
              : 'application/octet-stream';
      const v = viewScript;
      res.writeHead(200, {
        'content-type': ct,
        'content-disposition': `filename="${base}"`,
        ...(v.omitLength ? {} : { 'content-length': data.length }),
      });
      if (!v.chunkBytes && v.stallAfterBytes === undefined) return res.end(data);
      const view: { startedAt: number; endedAt?: number; bytes: number } = { startedAt: now(), bytes: 0 };
      lastView = view;
      const step = v.chunkBytes ?? data.length;
      for (let off = 0; off < data.length && !res.destroyed; off += step) {
        const piece = data.subarray(off, Math.min(off + step, v.stallAfterBytes ?? data.length, data.length));
        if (piece.length === 0) return; // stalled: the client has to give up
        res.write(piece);
        view.bytes += piece.length;
        if (v.chunkDelayMs) await delay(v.chunkDelayMs);
      }
      view.endedAt = now();
      return res.end();
    }
    if (route === 'POST /upload/image') {
      const form = await new Request('http://x/', {
        method: 'POST',
        headers: { 'content-type': String(req.headers['content-type']) },
        body: raw,
      })
        .formData()
        .catch(() => undefined);
      const file = form?.get('image');
      if (!form || !file || typeof file === 'string' || !file.name) {
        res.writeHead(400);
        return res.end();
      }
      const type = String(form.get('type') ?? 'input');
      const subfolder = String(form.get('subfolder') ?? '');
      const bytes = Buffer.from(await file.arrayBuffer());
      const hash = (x: Buffer) => createHash('sha256').update(x).digest('hex');
      let name = file.name;
      const dot = name.lastIndexOf('.');
      for (let i = 1; files.has(`${type}/${subfolder}/${name}`); i++) {
        if (hash(files.get(`${type}/${subfolder}/${name}`) as Buffer) === hash(bytes)) break;
        name = `${file.name.slice(0, dot)} (${i})${file.name.slice(dot)}`;
      }
      files.set(`${type}/${subfolder}/${name}`, bytes);
      return json(res, 200, { name, subfolder, type });
    }
    if (route === 'GET /object_info') return json(res, 200, info);
    if (req.method === 'GET' && path.startsWith('/object_info/')) {
      const cls = decodeURIComponent(path.slice('/object_info/'.length));
      return json(res, 200, info[cls] ? { [cls]: info[cls] } : {});
    }
    if (route === 'GET /system_stats') {
      return json(res, 200, {
        system: {
          os: 'posix',
          ram_total: 34359738368,
          ram_free: 17179869184,
          comfyui_version: legacy ? '0.2.2' : '0.3.64',
          python_version: '3.12.3',
          pytorch_version: '2.8.0',
          embedded_python: false,
          argv: ['main.py'],
        },
        devices: [
          {
            name: 'cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync',
            type: 'cuda',
            index: 0,
            vram_total: 25757220864,
            vram_free: 24000000000,
            torch_vram_total: 0,
            torch_vram_free: 0,
          },
        ],
      });
    }
    if (route === 'GET /features')
      return json(res, 200, { supports_preview_metadata: true, max_upload_size: 104857600 });
    if (route === 'GET /models') return json(res, 200, ['checkpoints', 'loras', 'vae', 'upscale_models', 'controlnet']);
    res.writeHead(404);
    res.end('404: Not Found');
  });
  server.on('upgrade', (req, socket, head) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (p !== '/ws' && p !== '/api/ws') return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const loopDone = loop();

  /**
   * Goes away as a crashed or restarting ComfyUI does: sockets cut without a last message, the port closed
   * (connections refused), and the queue, the running prompt and the history forgotten. up() brings it back.
   */
  async function down() {
    isDown = true;
    for (const ws of [...allSockets]) ws.terminate();
    const closing = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await closing;
    pending.splice(0);
    interruptFlag = true;
    release?.();
    await idle;
    history.clear();
    lastSignature = undefined;
  }
  /** Back on the same port, empty, as after a restart. */
  async function up() {
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    isDown = false;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Scripts the next submitted prompt (queue several; each prompt takes one). */
    script(s: RunScript) {
      scripts.push(s);
    },
    /** Lets a run held at holdAt continue. */
    release() {
      release?.();
    },
    isHolding: () => release !== undefined,
    runningId: () => running?.id,
    pendingIds: () => pending.map((q) => q.id),
    historyIds: () => [...history.keys()],
    socketCount: () => allSockets.size,
    /** Closes every WebSocket (the server keeps running; clients must reconnect). */
    dropSockets() {
      for (const ws of [...allSockets]) ws.terminate();
    },
    down,
    up,
    /** A restart with no time in between: the same as down() then up(). */
    async restart() {
      await down();
      await up();
    },
    isDown: () => isDown,
    /** How /view sends files from now on. */
    scriptView(v: ViewScript) {
      viewScript = v;
    },
    /** Start/end time and bytes of the last scripted /view body (undefined end: stalled or cut). */
    lastView: () => lastView,
    /** Puts a file where /view finds it, as if a node had saved it. */
    putFile(name: string, bytes: Buffer, opts: { type?: string; subfolder?: string } = {}) {
      files.set(`${opts.type ?? 'output'}/${opts.subfolder ?? ''}/${name}`, bytes);
    },
    runTimes,
    /** How many times each checkpoint was loaded (a prompt needing a model not loaded by the previous one). */
    modelLoads: () => Object.fromEntries(modelLoads),
    submissions: () => requests.filter((r) => r.method === 'POST' && r.path === '/prompt').length,
    async close() {
      closed = true;
      wake?.();
      release?.();
      for (const ws of allSockets) ws.terminate();
      await idle;
      await loopDone;
      const closing = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections(); // a stalled /view would otherwise hold close() forever
      await closing;
    },
  };
}

export type FakeComfy = Awaited<ReturnType<typeof startFakeComfy>>;
