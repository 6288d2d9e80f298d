import { z } from 'zod';
import { outputFileSchema, type OutputFile } from '../queue/contracts.js';

/** A jobs row and the record the rest of the program sees, shared by the repo and its gallery pages. */
export const jobStatuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof jobStatuses)[number];
export const finalStatuses: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface JobRecord {
  id: string;
  shortId: string;
  platform: string;
  userId: string;
  chatId?: string;
  messageId?: string;
  locale: string;
  workflow: string;
  params: Record<string, unknown>;
  status: JobStatus;
  progress: number;
  outputs: OutputFile[];
  error?: string;
  comfyUrl?: string;
  promptId?: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  deletedAt?: number;
  /** When the result or failure reached the chat (or was given up on); unset while it is still owed. */
  deliveredAt?: number;
  /** When the owner starred it (favourites); unset when not starred. */
  starredAt?: number;
}

export type NewJob = Pick<JobRecord, 'id' | 'platform' | 'userId' | 'workflow' | 'params'> &
  Partial<Pick<JobRecord, 'chatId' | 'messageId' | 'locale' | 'createdAt'>>;

export interface Row {
  id: string;
  short_id: string;
  platform: string;
  user_id: string;
  chat_id: string | null;
  message_id: string | null;
  locale: string;
  workflow: string;
  params: string;
  status: JobStatus;
  progress: number;
  outputs: string | null;
  error: string | null;
  comfy_url: string | null;
  prompt_id: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  deleted_at: number | null;
  delivered_at: number | null;
  starred_at: number | null;
}

const paramsSchema = z.record(z.string(), z.unknown());
const outputsSchema = z.array(outputFileSchema);
const opt = <T>(v: T | null) => (v === null ? undefined : v);

export function toRecord(r: Row): JobRecord {
  return {
    id: r.id,
    shortId: r.short_id,
    platform: r.platform,
    userId: r.user_id,
    chatId: opt(r.chat_id),
    messageId: opt(r.message_id),
    locale: r.locale,
    workflow: r.workflow,
    params: paramsSchema.parse(JSON.parse(r.params)),
    status: r.status,
    progress: r.progress,
    outputs: r.outputs ? outputsSchema.parse(JSON.parse(r.outputs)) : [],
    error: opt(r.error),
    comfyUrl: opt(r.comfy_url),
    promptId: opt(r.prompt_id),
    createdAt: r.created_at,
    startedAt: opt(r.started_at),
    finishedAt: opt(r.finished_at),
    deletedAt: opt(r.deleted_at),
    deliveredAt: opt(r.delivered_at),
    starredAt: opt(r.starred_at),
  };
}

export type Owner = { platform: string; userId: string; isAdmin?: boolean };
