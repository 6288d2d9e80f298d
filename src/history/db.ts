import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from './migrations.js';

export type Db = Database.Database;

/**
 * Opens the history database: WAL (readers never block the writer), busy_timeout so two frontends
 * (bot role and CLI) can share the file, foreign keys on, then migrates by PRAGMA user_version.
 * - synchronous = NORMAL: in WAL mode a commit is not fsynced, so a power cut (not a crash of the process) can lose
 *   the last ones, but never corrupts the file; FULL would fsync the WAL on every job state change.
 * - cache_size stays better-sqlite3's 16 MB and mmap off: measured on a million jobs (575 MB), neither 64 MB nor a
 *   1 GB mmap made gallery pages faster (mmap's first touches cost more); the seeks read few pages, and the OS
 *   page cache holds the file.
 * - temp_store = MEMORY: the few small sorts left (short ids, unfinished jobs) never touch a temp file.
 * - journal_size_limit: after a big write (an upgrade building indexes) the WAL file shrinks back.
 */
export function openDb(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  db.pragma('temp_store = MEMORY');
  db.pragma(`journal_size_limit = ${64 * 2 ** 20}`);
  migrate(db);
  return db;
}

export function migrate(db: Db): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length)
    throw new Error(`database schema v${current} is newer than this program (v${migrations.length})`);
  const run = db.transaction(() => {
    for (let v = current; v < migrations.length; v++) {
      db.exec(migrations[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }
  });
  run();
  return migrations.length;
}
