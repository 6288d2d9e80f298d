import type { OutputFile } from '../queue/contracts.js';
import { shortId } from '../queue/names.js';
import type { Db } from './db.js';
import { createJobPages } from './job-pages.js';
import { type JobRecord, type JobStatus, jobStatuses, type NewJob, type Owner, type Row, toRecord } from './job-row.js';

export {
  finalStatuses,
  type JobRecord,
  type JobStatus,
  jobStatuses,
  type NewJob,
  type Owner,
} from './job-row.js';

/** Synchronous on purpose: better-sqlite3 is synchronous, and every statement is prepared once here. */
export function createJobsRepo({ db, now = Date.now }: { db: Db; now?: () => number }) {
  const s = {
    insert: db.prepare(
      `INSERT INTO jobs (id, short_id, platform, user_id, chat_id, message_id, locale, workflow, params, status, created_at)
       VALUES (@id, @short_id, @platform, @user_id, @chat_id, @message_id, @locale, @workflow, @params, 'queued', @created_at)`,
    ),
    get: db.prepare(`SELECT * FROM jobs WHERE id = ?`),
    byShort: db.prepare(
      `SELECT * FROM jobs WHERE short_id = ? AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 2`,
    ),
    setMessage: db.prepare(`UPDATE jobs SET chat_id = ?, message_id = ? WHERE id = ?`),
    start: db.prepare(
      `UPDATE jobs SET status = 'running', started_at = COALESCE(started_at, @at), comfy_url = COALESCE(@comfy_url, comfy_url), prompt_id = COALESCE(@prompt_id, prompt_id)
       WHERE id = @id AND status IN ('queued','running')`,
    ),
    progress: db.prepare(`UPDATE jobs SET progress = ? WHERE id = ? AND status = 'running' AND progress <> ?`),
    // The one transition to a final state: only a row not yet final changes, so delivery happens exactly once.
    finish: db.prepare(
      `UPDATE jobs SET status = @status, outputs = @outputs, error = @error, finished_at = @at,
         progress = CASE WHEN @status = 'succeeded' THEN 100 ELSE progress END,
         comfy_url = COALESCE(@comfy_url, comfy_url), prompt_id = COALESCE(@prompt_id, prompt_id),
         started_at = COALESCE(started_at, @started_at)
       WHERE id = @id AND status IN ('queued','running')`,
    ),
    star: db.prepare(`UPDATE jobs SET starred_at = ? WHERE id = ? AND deleted_at IS NULL`),
    countSince: db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE platform = ? AND user_id = ? AND created_at >= ?`),
    // Summed over job_counts: a row per user, so /status grows with users, not jobs (~2.5 ms for 20,000 users).
    counts: db.prepare(
      `SELECT SUM(queued) AS queued, SUM(running) AS running, SUM(succeeded) AS succeeded, SUM(failed) AS failed,
         SUM(cancelled) AS cancelled FROM job_counts`,
    ),
    unfinishedCount: db.prepare(
      `SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued','running') AND platform = ? AND user_id = ?`,
    ),
    stale: db.prepare(
      `SELECT * FROM jobs WHERE status IN ('queued','running') AND created_at < ? ORDER BY created_at LIMIT 20`,
    ),
    unfinished: db.prepare(
      `SELECT * FROM jobs WHERE status IN ('queued','running') AND platform = ? ORDER BY created_at`,
    ),
    durations: db.prepare(
      `SELECT finished_at - started_at AS ms FROM jobs WHERE workflow = ? AND status = 'succeeded' AND started_at IS NOT NULL
       ORDER BY finished_at DESC LIMIT ?`,
    ),
    softDelete: db.prepare(`UPDATE jobs SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`),
    delivered: db.prepare(`UPDATE jobs SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL`),
    undelivered: db.prepare(
      `SELECT * FROM jobs WHERE delivered_at IS NULL AND deleted_at IS NULL AND status IN ('succeeded','failed','cancelled') AND platform = ?
       ORDER BY finished_at`,
    ),
  };

  const pages = createJobPages({ db });
  const visible = (r: JobRecord | undefined, owner: Owner) =>
    r && !r.deletedAt && (owner.isAdmin || (r.platform === owner.platform && r.userId === owner.userId))
      ? r
      : undefined;

  return {
    insert(job: NewJob): JobRecord {
      s.insert.run({
        id: job.id,
        short_id: shortId(job.id),
        platform: job.platform,
        user_id: job.userId,
        chat_id: job.chatId ?? null,
        message_id: job.messageId ?? null,
        locale: job.locale ?? 'en',
        workflow: job.workflow,
        params: JSON.stringify(job.params),
        created_at: job.createdAt ?? now(),
      });
      return this.get(job.id) as JobRecord;
    },
    get(id: string): JobRecord | undefined {
      const r = s.get.get(id) as Row | undefined;
      return r ? toRecord(r) : undefined;
    },
    /** By full or short id; undefined when it does not exist or is not the caller's (admins see all). */
    getOwned(idOrShort: string, owner: Owner): JobRecord | undefined {
      const key = idOrShort.trim().toLowerCase();
      if (key.length > 8) return visible(this.get(key), owner);
      const rows = (s.byShort.all(key) as Row[]).map(toRecord).filter((r) => visible(r, owner));
      return rows.length === 1 ? rows[0] : undefined;
    },
    setMessage(id: string, chatId: string, messageId: string) {
      s.setMessage.run(chatId, messageId, id);
    },
    markRunning(id: string, info: { comfyUrl?: string; promptId?: string; at?: number } = {}): boolean {
      return (
        s.start.run({ id, at: info.at ?? now(), comfy_url: info.comfyUrl ?? null, prompt_id: info.promptId ?? null })
          .changes === 1
      );
    },
    setProgress(id: string, percent: number) {
      const p = Math.max(0, Math.min(100, Math.round(percent)));
      s.progress.run(p, id, p);
    },
    /** true when this call moved the job to its final state (the caller then delivers); false if it already was final. */
    finish(
      id: string,
      outcome: {
        status: 'succeeded' | 'failed' | 'cancelled';
        outputs?: OutputFile[];
        error?: string;
        comfyUrl?: string;
        promptId?: string;
        startedAt?: number;
        at?: number;
      },
    ): boolean {
      return (
        s.finish.run({
          id,
          status: outcome.status,
          outputs: outcome.outputs ? JSON.stringify(outcome.outputs) : null,
          error: outcome.error ?? null,
          at: outcome.at ?? now(),
          comfy_url: outcome.comfyUrl ?? null,
          prompt_id: outcome.promptId ?? null,
          started_at: outcome.startedAt ?? null,
        }).changes === 1
      );
    },
    /** A user's jobs, newest first; `starred`: only their favourites, most recently starred first. */
    page(
      owner: Owner,
      page: number,
      pageSize: number,
      opts: { starred?: boolean } = {},
    ): { items: JobRecord[]; total: number } {
      return pages.page(owner, page, pageSize, opts.starred === true);
    },
    /** Stars (favourites) or unstars a job; false when it is gone. */
    setStarred(id: string, starred: boolean): boolean {
      return s.star.run(starred ? now() : null, id).changes === 1;
    },
    /** How many jobs a user submitted since `since` (ms), deleted ones included: /me's "today". */
    countSince(owner: Owner, since: number): number {
      return (s.countSince.get(owner.platform, owner.userId, since) as { n: number }).n;
    },
    /** Live (not deleted) jobs by status, everyone's: /status. */
    counts(): Record<JobStatus, number> {
      const sums = s.counts.get() as Record<JobStatus, number | null>;
      return Object.fromEntries(jobStatuses.map((k) => [k, sums[k] ?? 0])) as Record<JobStatus, number>;
    },
    unfinished(platform: string): JobRecord[] {
      return (s.unfinished.all(platform) as Row[]).map(toRecord);
    },
    /** Unfinished jobs created before `before`, oldest first (at most 20): for /status's "stuck". */
    stale(before: number): JobRecord[] {
      return (s.stale.all(before) as Row[]).map(toRecord);
    },
    unfinishedCount(platform: string, userId: string): number {
      return (s.unfinishedCount.get(platform, userId) as { n: number }).n;
    },
    /** Recent run times of a workflow (ms), newest first: the ETA is learned from these. */
    recentDurations(workflow: string, limit = 20): number[] {
      return (s.durations.all(workflow, limit) as Array<{ ms: number }>).map((r) => r.ms).filter((ms) => ms > 0);
    },
    /** Final rows whose result or failure has not reached the chat yet. */
    undelivered(platform: string): JobRecord[] {
      return (s.undelivered.all(platform) as Row[]).map(toRecord);
    },
    markDelivered(id: string): boolean {
      return s.delivered.run(now(), id).changes === 1;
    },
    softDelete(id: string): boolean {
      return s.softDelete.run(now(), id).changes === 1;
    },
  };
}

export type JobsRepo = ReturnType<typeof createJobsRepo>;
