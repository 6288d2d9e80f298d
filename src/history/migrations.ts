/** Append-only: migration N brings the schema from user_version N to N+1. Never edit a shipped entry. */
export const migrations: string[] = [
  `CREATE TABLE jobs (
     id            TEXT PRIMARY KEY,
     short_id      TEXT NOT NULL,
     platform      TEXT NOT NULL,
     user_id       TEXT NOT NULL,
     chat_id       TEXT,
     message_id    TEXT,
     locale        TEXT NOT NULL DEFAULT 'en',
     workflow      TEXT NOT NULL,
     params        TEXT NOT NULL,
     status        TEXT NOT NULL CHECK (status IN ('queued','running','succeeded','failed','cancelled')),
     progress      INTEGER NOT NULL DEFAULT 0,
     outputs       TEXT,
     error         TEXT,
     comfy_url     TEXT,
     prompt_id     TEXT,
     created_at    INTEGER NOT NULL,
     started_at    INTEGER,
     finished_at   INTEGER,
     deleted_at    INTEGER
   );
   CREATE INDEX jobs_user_created ON jobs (platform, user_id, created_at DESC) WHERE deleted_at IS NULL;
   CREATE INDEX jobs_status ON jobs (status);
   CREATE INDEX jobs_short ON jobs (short_id);
   CREATE INDEX jobs_workflow_finished ON jobs (workflow, finished_at) WHERE status = 'succeeded';`,
  // v2: questions waiting for a typed answer (Telegram ForceReply): the answer is matched to the message it replies to.
  `CREATE TABLE asks (
     chat_id     TEXT NOT NULL,
     message_id  TEXT NOT NULL,
     user_id     TEXT NOT NULL,
     action      TEXT NOT NULL,
     created_at  INTEGER NOT NULL,
     PRIMARY KEY (chat_id, message_id)
   );`,
  // v3: delivery is recorded apart from the final state (at-least-once): a final row without delivered_at is still
  // owed to its chat. Rows that were final before this version count as delivered.
  `ALTER TABLE jobs ADD COLUMN delivered_at INTEGER;
   UPDATE jobs SET delivered_at = finished_at WHERE status IN ('succeeded','failed','cancelled');
   CREATE INDEX jobs_undelivered ON jobs (platform) WHERE delivered_at IS NULL AND status IN ('succeeded','failed','cancelled');`,
  // v4: /settings. A user's defaults and preferences, and a chat's policy set by its admins, each one JSON object
  // (settings-repo.ts validates it field by field), so a new setting needs no migration.
  `CREATE TABLE user_settings (
     platform    TEXT NOT NULL,
     user_id     TEXT NOT NULL,
     settings    TEXT NOT NULL,
     updated_at  INTEGER NOT NULL,
     PRIMARY KEY (platform, user_id)
   );
   CREATE TABLE chat_settings (
     platform    TEXT NOT NULL,
     chat_id     TEXT NOT NULL,
     settings    TEXT NOT NULL,
     updated_by  TEXT,
     updated_at  INTEGER NOT NULL,
     PRIMARY KEY (platform, chat_id)
   );`,
  // v5: favourites. A job has one owner, so its star is a column: set when starred, cleared when unstarred.
  `ALTER TABLE jobs ADD COLUMN starred_at INTEGER;
   CREATE INDEX jobs_user_starred ON jobs (platform, user_id, starred_at DESC) WHERE starred_at IS NOT NULL AND deleted_at IS NULL;`,
  // v6: history fast at a million rows (job-pages.ts says how pages and counts use this). Safe on a big table: it
  // adds indexes, two small tables and triggers, reads jobs to fill the tables, and rewrites no row.
  // - jobs_user_page / jobs_user_starred_page: the gallery's full order (the id breaks ties) so a page is a seek, and
  //   deleted_at as a column so stepping through a day's jobs reads the index only. They replace v1's and v5's.
  // - jobs_user_since: /me's "today" (deleted jobs count too, so not partial).
  // - jobs_user_unfinished: the quota check on every submission; holds only queued and running jobs.
  // - job_counts: per user, live (not deleted) jobs, starred ones, and live ones per status.
  // - job_days: per user and list ('all' by created_at, 'starred' by starred_at), live jobs per UTC day.
  // Both kept by triggers in the same statement as the change: every writer keeps them right, not only the repo.
  `CREATE INDEX IF NOT EXISTS jobs_user_page ON jobs (platform, user_id, created_at DESC, id, deleted_at)
     WHERE deleted_at IS NULL;
   CREATE INDEX IF NOT EXISTS jobs_user_starred_page ON jobs (platform, user_id, starred_at DESC, id, deleted_at)
     WHERE starred_at IS NOT NULL AND deleted_at IS NULL;
   CREATE INDEX IF NOT EXISTS jobs_user_since ON jobs (platform, user_id, created_at);
   CREATE INDEX IF NOT EXISTS jobs_user_unfinished ON jobs (platform, user_id, created_at)
     WHERE status IN ('queued','running');
   DROP INDEX IF EXISTS jobs_user_created;
   DROP INDEX IF EXISTS jobs_user_starred;

   CREATE TABLE IF NOT EXISTS job_counts (
     platform   TEXT NOT NULL,
     user_id    TEXT NOT NULL,
     live       INTEGER NOT NULL DEFAULT 0,
     starred    INTEGER NOT NULL DEFAULT 0,
     queued     INTEGER NOT NULL DEFAULT 0,
     running    INTEGER NOT NULL DEFAULT 0,
     succeeded  INTEGER NOT NULL DEFAULT 0,
     failed     INTEGER NOT NULL DEFAULT 0,
     cancelled  INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (platform, user_id)
   ) WITHOUT ROWID;
   INSERT OR REPLACE INTO job_counts (platform, user_id, live, starred, queued, running, succeeded, failed, cancelled)
     SELECT platform, user_id, SUM(deleted_at IS NULL), SUM(deleted_at IS NULL AND starred_at IS NOT NULL),
       SUM(deleted_at IS NULL AND status = 'queued'), SUM(deleted_at IS NULL AND status = 'running'),
       SUM(deleted_at IS NULL AND status = 'succeeded'), SUM(deleted_at IS NULL AND status = 'failed'),
       SUM(deleted_at IS NULL AND status = 'cancelled')
     FROM jobs GROUP BY platform, user_id;
   CREATE TRIGGER IF NOT EXISTS jobs_counts_insert AFTER INSERT ON jobs BEGIN
     INSERT INTO job_counts (platform, user_id, live, starred, queued, running, succeeded, failed, cancelled)
     VALUES (NEW.platform, NEW.user_id, NEW.deleted_at IS NULL, NEW.deleted_at IS NULL AND NEW.starred_at IS NOT NULL,
       NEW.deleted_at IS NULL AND NEW.status = 'queued', NEW.deleted_at IS NULL AND NEW.status = 'running',
       NEW.deleted_at IS NULL AND NEW.status = 'succeeded', NEW.deleted_at IS NULL AND NEW.status = 'failed',
       NEW.deleted_at IS NULL AND NEW.status = 'cancelled')
     ON CONFLICT (platform, user_id) DO UPDATE SET live = live + excluded.live, starred = starred + excluded.starred,
       queued = queued + excluded.queued, running = running + excluded.running,
       succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
       cancelled = cancelled + excluded.cancelled;
   END;
   CREATE TRIGGER IF NOT EXISTS jobs_counts_delete AFTER DELETE ON jobs WHEN OLD.deleted_at IS NULL BEGIN
     UPDATE job_counts SET live = live - 1, starred = starred - (OLD.starred_at IS NOT NULL),
       queued = queued - (OLD.status = 'queued'), running = running - (OLD.status = 'running'),
       succeeded = succeeded - (OLD.status = 'succeeded'), failed = failed - (OLD.status = 'failed'),
       cancelled = cancelled - (OLD.status = 'cancelled')
     WHERE platform = OLD.platform AND user_id = OLD.user_id;
   END;
   -- Progress, delivery and message edits change none of these columns, so they fire nothing.
   CREATE TRIGGER IF NOT EXISTS jobs_counts_update AFTER UPDATE OF status, deleted_at, starred_at, platform, user_id ON jobs
   BEGIN
     UPDATE job_counts SET live = live - (OLD.deleted_at IS NULL),
       starred = starred - (OLD.deleted_at IS NULL AND OLD.starred_at IS NOT NULL),
       queued = queued - (OLD.deleted_at IS NULL AND OLD.status = 'queued'),
       running = running - (OLD.deleted_at IS NULL AND OLD.status = 'running'),
       succeeded = succeeded - (OLD.deleted_at IS NULL AND OLD.status = 'succeeded'),
       failed = failed - (OLD.deleted_at IS NULL AND OLD.status = 'failed'),
       cancelled = cancelled - (OLD.deleted_at IS NULL AND OLD.status = 'cancelled')
     WHERE platform = OLD.platform AND user_id = OLD.user_id;
     INSERT INTO job_counts (platform, user_id, live, starred, queued, running, succeeded, failed, cancelled)
     VALUES (NEW.platform, NEW.user_id, NEW.deleted_at IS NULL, NEW.deleted_at IS NULL AND NEW.starred_at IS NOT NULL,
       NEW.deleted_at IS NULL AND NEW.status = 'queued', NEW.deleted_at IS NULL AND NEW.status = 'running',
       NEW.deleted_at IS NULL AND NEW.status = 'succeeded', NEW.deleted_at IS NULL AND NEW.status = 'failed',
       NEW.deleted_at IS NULL AND NEW.status = 'cancelled')
     ON CONFLICT (platform, user_id) DO UPDATE SET live = live + excluded.live, starred = starred + excluded.starred,
       queued = queued + excluded.queued, running = running + excluded.running,
       succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
       cancelled = cancelled + excluded.cancelled;
   END;

   CREATE TABLE IF NOT EXISTS job_days (
     platform  TEXT NOT NULL,
     user_id   TEXT NOT NULL,
     list      TEXT NOT NULL CHECK (list IN ('all','starred')),
     day       INTEGER NOT NULL,
     n         INTEGER NOT NULL,
     PRIMARY KEY (platform, user_id, list, day)
   ) WITHOUT ROWID;
   INSERT OR REPLACE INTO job_days (platform, user_id, list, day, n)
     SELECT platform, user_id, 'all', created_at / 86400000, COUNT(*) FROM jobs WHERE deleted_at IS NULL
     GROUP BY platform, user_id, created_at / 86400000;
   INSERT OR REPLACE INTO job_days (platform, user_id, list, day, n)
     SELECT platform, user_id, 'starred', starred_at / 86400000, COUNT(*) FROM jobs
     WHERE deleted_at IS NULL AND starred_at IS NOT NULL GROUP BY platform, user_id, starred_at / 86400000;
   CREATE TRIGGER IF NOT EXISTS jobs_days_insert AFTER INSERT ON jobs WHEN NEW.deleted_at IS NULL BEGIN
     INSERT INTO job_days (platform, user_id, list, day, n) VALUES (NEW.platform, NEW.user_id, 'all', NEW.created_at / 86400000, 1)
       ON CONFLICT (platform, user_id, list, day) DO UPDATE SET n = n + 1;
     INSERT INTO job_days (platform, user_id, list, day, n)
       SELECT NEW.platform, NEW.user_id, 'starred', NEW.starred_at / 86400000, 1 WHERE NEW.starred_at IS NOT NULL
       ON CONFLICT (platform, user_id, list, day) DO UPDATE SET n = n + 1;
   END;
   CREATE TRIGGER IF NOT EXISTS jobs_days_delete AFTER DELETE ON jobs WHEN OLD.deleted_at IS NULL BEGIN
     UPDATE job_days SET n = n - 1
       WHERE platform = OLD.platform AND user_id = OLD.user_id AND list = 'all' AND day = OLD.created_at / 86400000;
     UPDATE job_days SET n = n - 1
       WHERE platform = OLD.platform AND user_id = OLD.user_id AND list = 'starred' AND day = OLD.starred_at / 86400000;
   END;
   -- Status changes leave the lists as they are, so they fire nothing here.
   CREATE TRIGGER IF NOT EXISTS jobs_days_update AFTER UPDATE OF deleted_at, starred_at, created_at, platform, user_id ON jobs
   BEGIN
     UPDATE job_days SET n = n - 1 WHERE OLD.deleted_at IS NULL
       AND platform = OLD.platform AND user_id = OLD.user_id AND list = 'all' AND day = OLD.created_at / 86400000;
     UPDATE job_days SET n = n - 1 WHERE OLD.deleted_at IS NULL
       AND platform = OLD.platform AND user_id = OLD.user_id AND list = 'starred' AND day = OLD.starred_at / 86400000;
     INSERT INTO job_days (platform, user_id, list, day, n)
       SELECT NEW.platform, NEW.user_id, 'all', NEW.created_at / 86400000, 1 WHERE NEW.deleted_at IS NULL
       ON CONFLICT (platform, user_id, list, day) DO UPDATE SET n = n + 1;
     INSERT INTO job_days (platform, user_id, list, day, n)
       SELECT NEW.platform, NEW.user_id, 'starred', NEW.starred_at / 86400000, 1
       WHERE NEW.deleted_at IS NULL AND NEW.starred_at IS NOT NULL
       ON CONFLICT (platform, user_id, list, day) DO UPDATE SET n = n + 1;
   END;`,
];
