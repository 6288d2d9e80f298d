/**
 * Users of the fake Telegram sending /imagine, one private chat each, and the moment each job's photo reaches its
 * chat (an answered editMessageMedia, sendPhoto or sendMediaGroup). Used to drive `npm start` children from outside.
 */
import type { FakeTelegram, TgChat, TgUser } from '../tests/fakes/telegram/server.js';
import { sleep } from './lib.js';

const RESULT_METHODS = new Set(['editMessageMedia', 'sendPhoto', 'sendMediaGroup']);

export function telegramLoad(telegram: FakeTelegram, opts: { jobTimeoutMs?: number } = {}) {
  const waiting = new Map<number, Array<() => void>>();
  let cursor = 0;
  let sent = 0;
  let stopped = false;
  // One reader of the fake's call log for every chat: O(1) a call, however many jobs are waiting.
  const watch = (async () => {
    while (!stopped) {
      for (; cursor < telegram.calls.length; cursor++) {
        const c = telegram.calls[cursor];
        if (c?.status !== 200 || !RESULT_METHODS.has(c.method) || c.chatId === undefined) continue;
        waiting.get(c.chatId)?.shift()?.();
      }
      await sleep(2);
    }
  })();
  const userOf = (lane: number): { user: TgUser; chat: TgChat } => {
    const id = 500_000 + lane;
    return {
      user: { id, is_bot: false, first_name: `User${lane}`, language_code: 'en' },
      chat: { id, type: 'private', first_name: `User${lane}` },
    };
  };
  /** User `lane` sends /imagine and waits until its photo has been delivered (one job at a time per lane). */
  const imagine = async (lane: number) => {
    const { user, chat } = userOf(lane);
    const delivered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const last = telegram.botMessages(chat.id).at(-1);
        const said = last ? `; the bot's last message there: ${JSON.stringify(last.text ?? last.caption ?? '')}` : '';
        reject(new Error(`no photo in chat ${chat.id} within ${opts.jobTimeoutMs ?? 60_000} ms${said}`));
      }, opts.jobTimeoutMs ?? 60_000);
      const list = waiting.get(chat.id) ?? [];
      list.push(() => (clearTimeout(timer), resolve()));
      waiting.set(chat.id, list);
    });
    telegram.userSends(user, chat, { text: `/imagine bench ${sent++}` });
    await delivered;
  };
  return {
    imagine,
    /** Telegram API calls the product made so far. */
    calls: () => telegram.calls.length,
    /** Runs jobs until `total` have been sent, `lanes` users at a time; resolves when each has delivered. */
    async run(total: number, lanes: number) {
      const lane = async (i: number) => {
        while (sent < total) await imagine(i);
      };
      await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i)));
    },
    async stop() {
      stopped = true;
      await watch;
    },
  };
}
