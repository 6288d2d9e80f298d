import type { Db } from './db.js';

/**
 * Questions the bot asked and whose answer arrives as a plain reply (Telegram's ForceReply): the question message
 * is stored with the encoded action it stands for, so the answer is recognised by the message it replies to — never
 * by reading our own localized text. Kept for a week; older questions are forgotten.
 */
const MAX_AGE_MS = 7 * 24 * 3_600_000;

export function createAsksRepo({ db, now = Date.now }: { db: Db; now?: () => number }) {
  const s = {
    put: db.prepare(
      `INSERT OR REPLACE INTO asks (chat_id, message_id, user_id, action, created_at) VALUES (?, ?, ?, ?, ?)`,
    ),
    get: db.prepare(`SELECT user_id, action FROM asks WHERE chat_id = ? AND message_id = ? AND created_at > ?`),
    prune: db.prepare(`DELETE FROM asks WHERE created_at <= ?`),
  };
  return {
    put(chatId: string, messageId: string, userId: string, action: string) {
      s.put.run(chatId, messageId, userId, action, now());
      s.prune.run(now() - MAX_AGE_MS);
    },
    /** The action a message stands for, when `userId` was the one asked. */
    get(chatId: string, messageId: string, userId: string): string | undefined {
      const row = s.get.get(chatId, messageId, now() - MAX_AGE_MS) as { user_id: string; action: string } | undefined;
      return row && row.user_id === userId ? row.action : undefined;
    },
  };
}

export type AsksRepo = ReturnType<typeof createAsksRepo>;
