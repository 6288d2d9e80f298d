import { z } from 'zod';

/**
 * ComfyUI WebSocket text messages, parsed leniently: fields added by later versions are
 * tolerated (passthrough) and fields older versions omit are optional (see comfyui-api.md §3.4).
 */
const withPrompt = { prompt_id: z.string().optional() };

export const wsMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('status'),
    data: z.looseObject({
      status: z.looseObject({ exec_info: z.looseObject({ queue_remaining: z.number() }) }).optional(),
      sid: z.string().optional(),
    }),
  }),
  z.object({ type: z.literal('execution_start'), data: z.looseObject({ ...withPrompt }) }),
  z.object({
    type: z.literal('execution_cached'),
    data: z.looseObject({ ...withPrompt, nodes: z.array(z.string()).default([]) }),
  }),
  z.object({
    type: z.literal('executing'),
    data: z.looseObject({ ...withPrompt, node: z.string().nullable(), display_node: z.string().optional() }),
  }),
  z.object({
    type: z.literal('progress'),
    data: z.looseObject({ ...withPrompt, value: z.number(), max: z.number(), node: z.string().nullish() }),
  }),
  z.object({
    type: z.literal('executed'),
    data: z.looseObject({ ...withPrompt, node: z.string(), output: z.unknown().optional() }),
  }),
  z.object({ type: z.literal('execution_success'), data: z.looseObject({ ...withPrompt }) }),
  z.object({
    type: z.literal('execution_error'),
    data: z.looseObject({
      ...withPrompt,
      node_id: z.string().optional(),
      node_type: z.string().optional(),
      exception_message: z.string().optional(),
      exception_type: z.string().optional(),
    }),
  }),
  z.object({
    type: z.literal('execution_interrupted'),
    data: z.looseObject({ ...withPrompt, node_id: z.string().optional(), node_type: z.string().optional() }),
  }),
]);

export type WsMessage = z.infer<typeof wsMessageSchema>;

/** Known message types; anything else (crystools.monitor, progress_state, …) is ignored. */
const knownTypes = new Set(wsMessageSchema.options.map((o) => o.shape.type.value));

export function parseTextFrame(text: string): WsMessage | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string' || !knownTypes.has(type as WsMessage['type'])) return undefined;
  const parsed = wsMessageSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

export interface PreviewFrame {
  mime: 'image/jpeg' | 'image/png';
  image: Buffer;
  /** Present only in type-4 frames (negotiated supports_preview_metadata). */
  promptId?: string;
  nodeId?: string;
}

/** Binary frames: uint32 BE event type; 1 = preview (uint32 format, bytes), 4 = preview with JSON metadata. */
export function parseBinaryFrame(buf: Buffer): PreviewFrame | undefined {
  if (buf.length < 8) return undefined;
  const type = buf.readUInt32BE(0);
  if (type === 1) {
    const format = buf.readUInt32BE(4);
    return { mime: format === 2 ? 'image/png' : 'image/jpeg', image: buf.subarray(8) };
  }
  if (type === 4) {
    const len = buf.readUInt32BE(4);
    if (8 + len > buf.length) return undefined;
    try {
      const meta = JSON.parse(buf.subarray(8, 8 + len).toString('utf8')) as Record<string, unknown>;
      return {
        mime: meta.image_type === 'image/png' ? 'image/png' : 'image/jpeg',
        image: buf.subarray(8 + len),
        promptId: typeof meta.prompt_id === 'string' ? meta.prompt_id : undefined,
        nodeId: typeof meta.node_id === 'string' ? meta.node_id : undefined,
      };
    } catch {
      return undefined;
    }
  }
  return undefined; // type 3 (text from API nodes) and unknown types are not ours to show
}
