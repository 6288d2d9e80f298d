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
];
