import { randomUUID } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { comboOptions } from '../comfy/object-info.js';
import type { ObjectInfo } from '../comfy/client.js';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import { UserError } from '../errors.js';
import type { JobRecord, JobsRepo } from '../history/jobs-repo.js';
import { contactSheet } from '../images/contact-sheet.js';
import { storeInputs } from '../media/store-inputs.js';
import { t, type Locale } from '../i18n/index.js';
import type { Logger } from '../logger.js';
import type { Producer } from '../queue/producer.js';
import type { Quotas } from '../queue/quotas.js';
import type { Storage } from '../storage.js';
import type { Access } from './access.js';
import type { JobTracker, Submitted } from './jobs.js';
import type { ProgressSink } from './progress/sink.js';

/**
 * Everything a chat command does, written once for every platform. A frontend turns an update or an
 * interaction into a BotUser plus raw options and media bytes, and gives back a ProgressSink.
 */
export interface BotUser {
  platform: 'telegram' | 'discord' | 'cli';
  userId: string;
  chatId: string;
  /** Other ids the chat is known by for allowlists (a Discord channel's guild). */
  chatAliases?: string[];
  locale: Locale;
  isAdmin: boolean;
}

/** What every chat frontend is built from (each platform adds its own settings). */
export interface ChatFrontendDeps {
  service: BotService;
  tracker: JobTracker;
  repo: JobsRepo;
  storage: Storage;
  workflows: WorkflowRegistry;
  isAdmin: (userId: string) => boolean;
  logger: Logger;
  /** Download links for results too large for the chat (when PUBLIC_URL is set). */
  linkFor?: (relativePath: string) => { url: string; hours: number } | undefined;
}

/** Made after validation, right before the job is queued: the frontend posts its progress message here. */
export type SinkFactory = () => Promise<{ sink: ProgressSink; messageId?: string }>;

export const GALLERY_PAGE_SIZE = 9;

export interface BotServiceDeps {
  tracker: JobTracker;
  repo: JobsRepo;
  producer: Producer;
  workflows: WorkflowRegistry;
  storage: Storage;
  access: Access;
  quotas: Quotas;
  logger: Logger;
  /** Latest /object_info of the first ComfyUI (model lists); undefined when not fetched yet. */
  objectInfo: () => Promise<ObjectInfo | undefined>;
}

export function createBotService(deps: BotServiceDeps) {
  function ensureAllowed(user: BotUser) {
    if (!deps.access.isAllowed(user.platform, user.userId, [user.chatId, ...(user.chatAliases ?? [])]))
      throw new UserError('error.not_allowed');
  }

  function owned(user: BotUser, id: string): JobRecord {
    const rec = deps.repo.getOwned(id, { platform: user.platform, userId: user.userId, isAdmin: user.isAdmin });
    if (!rec) throw new UserError('error.job_not_found', { id: id.slice(0, 36) });
    return rec;
  }

  async function submit(
    user: BotUser,
    workflowName: string,
    raw: Record<string, unknown>,
    media: Record<string, Buffer>,
    makeSink: SinkFactory,
  ): Promise<Submitted> {
    ensureAllowed(user);
    const workflow = deps.workflows.get(workflowName);
    if (!workflow) throw new UserError('error.unknown_workflow', { name: workflowName });
    await deps.tracker.ensureRunnable(workflowName); // before asking for (and decoding) any media
    const params = await storeInputs(workflow, raw, media, deps.storage);
    deps.tracker.validate(workflowName, params); // bad options are refused before any message or quota is spent
    const unfinished = deps.repo.unfinishedCount(user.platform, user.userId);
    await deps.quotas.check(user, unfinished);
    const { sink, messageId } = await makeSink();
    return deps.tracker.submit({
      workflow: workflowName,
      params,
      requester: { platform: user.platform, userId: user.userId, locale: user.locale, chatId: user.chatId, messageId },
      sink,
    });
  }

  return {
    submit,
    owned,

    cancel(user: BotUser, id: string) {
      ensureAllowed(user);
      return deps.tracker.cancel(id, { platform: user.platform, userId: user.userId, isAdmin: user.isAdmin });
    },

    /** The caller's newest unfinished job (for a bare /cancel). */
    latestUnfinished(user: BotUser): JobRecord | undefined {
      return deps.repo
        .unfinished(user.platform)
        .filter((r) => r.userId === user.userId)
        .at(-1);
    },

    /** Same workflow and options, a new seed. */
    reroll(user: BotUser, id: string, makeSink: SinkFactory) {
      const rec = owned(user, id);
      const params = { ...rec.params };
      const wf = deps.workflows.get(rec.workflow);
      for (const p of wf?.manifest.params ?? []) if (p.type === 'seed') delete params[p.name];
      return submit(user, rec.workflow, params, {}, makeSink);
    },

    /** Same workflow, the old options with these changes (a new seed unless one is given). */
    remix(user: BotUser, id: string, changes: Record<string, unknown>, makeSink: SinkFactory) {
      const rec = owned(user, id);
      const params = { ...rec.params };
      const wf = deps.workflows.get(rec.workflow);
      for (const p of wf?.manifest.params ?? []) if (p.type === 'seed') delete params[p.name];
      return submit(user, rec.workflow, { ...params, ...changes }, {}, makeSink);
    },

    /** Image `index` (1-based) of a finished job through the `upscale` workflow. */
    async upscale(user: BotUser, id: string, index: number, makeSink: SinkFactory) {
      const rec = owned(user, id);
      const file = rec.outputs.filter((f) => f.kind === 'image')[index - 1];
      const wf = deps.workflows.get('upscale');
      const imageParam = wf?.manifest.params.find((p) => p.type === 'image');
      if (!file || !wf || !imageParam) throw new UserError('error.job_not_found', { id: rec.shortId });
      const name = `${randomUUID()}.png`;
      const dest = deps.storage.inputPath(name);
      await mkdir(path.dirname(dest), { recursive: true });
      await copyFile(deps.storage.resolveInside(file.path), dest);
      return submit(user, 'upscale', { [imageParam.name]: name }, {}, makeSink);
    },

    canUpscale: () => deps.workflows.has('upscale'),

    async gallery(user: BotUser, page: number) {
      ensureAllowed(user);
      const total = deps.repo.page({ platform: user.platform, userId: user.userId }, 0, 1).total;
      const pages = Math.max(1, Math.ceil(total / GALLERY_PAGE_SIZE));
      const p = Math.min(Math.max(0, page), pages - 1);
      const { items } = deps.repo.page({ platform: user.platform, userId: user.userId }, p, GALLERY_PAGE_SIZE);
      if (items.length === 0) return undefined;
      const sheet = await contactSheet(
        items.map((r) => {
          // Videos show their poster frame (saved beside the results when the workflow names one).
          const img = r.outputs.find((f) => f.kind === 'image');
          const file = img
            ? deps.storage.resolveInside(img.path)
            : deps.storage.resolveInside(`outputs/${r.id}/poster.png`);
          return { file, label: `${r.workflow} · ${r.status === 'succeeded' ? r.shortId : r.status}` };
        }),
      );
      return { sheet, items, page: p, pages };
    },

    /** Model choices per workflow option, from ComfyUI's /object_info. */
    async models(): Promise<Array<{ workflow: string; option: string; choices: string[] }>> {
      const info = await deps.objectInfo();
      if (!info) return [];
      const out = [];
      for (const wf of deps.workflows.values()) {
        for (const p of wf.manifest.params) {
          if (p.type !== 'choice' || !p.dynamic) continue;
          const t = p.targets[0];
          const node = t && wf.graph[t.node];
          if (!t || !node) continue;
          out.push({ workflow: wf.name, option: p.name, choices: comboOptions(info, node.class_type, t.input) ?? [] });
        }
      }
      return out;
    },

    /** The admin summary, rendered once for every platform. */
    async statusText(user: BotUser): Promise<string> {
      if (!user.isAdmin) throw new UserError('error.admin_only');
      const [queue, workers] = await Promise.all([deps.producer.counts(), deps.producer.onlineWorkers()]);
      const history = deps.repo.counts();
      return t(user.locale, 'bot.status', {
        waiting: (queue.waiting ?? 0) + (queue.prioritized ?? 0),
        active: queue.active ?? 0,
        failed: queue.failed ?? 0,
        workers: workers.map((w) => `${w.comfyUrl}${w.busyJobId ? ' (busy)' : ''}`).join(', ') || '0',
        succeeded: history.succeeded,
        failed_hist: history.failed,
        cancelled: history.cancelled,
      });
    },

    /** Model choices as text, cut to a platform's message limit. */
    async modelsText(locale: Locale, maxChars: number): Promise<string> {
      const lines = (await this.models())
        .filter((m) => m.choices.length)
        .map(
          (m) =>
            `/${m.workflow} --${m.option}:\n${m.choices
              .slice(0, 30)
              .map((c) => `• ${c}`)
              .join('\n')}`,
        );
      return lines.length
        ? `${t(locale, 'bot.models_header')}\n${lines.join('\n\n')}`.slice(0, maxChars)
        : t(locale, 'bot.models_none');
    },
  };
}

export type BotService = ReturnType<typeof createBotService>;
