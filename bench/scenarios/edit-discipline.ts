/**
 * edit discipline (Telegram part): the whole product against the fake Bot API enforcing Telegram's group limit
 * (20 calls per minute per group), 50 users' /imagine (1 s jobs: 20 steps × 50 ms) sent at once in one group. Counts 429 answers, results
 * delivered (a photo replying to each command), and per job whether its message went queued → running → done
 * (a "Queued" text, a "Generating" text, then the photo). The Discord channel half is not implemented.
 */
import { startTelegramHarness } from '../../tests/support/telegram-harness.js';
import { scaled, until, type Scenario } from '../lib.js';

const scenario: Scenario = {
  name: 'edit discipline (Telegram group only)',
  target: '0 429s, every result delivered, every job shows queued → running → done',
  async run() {
    const jobs = scaled(50, 3);
    const h = await startTelegramHarness({ LOG_LEVEL: 'silent' });
    try {
      h.telegram.enforceGroupLimit(20);
      const cmds = Array.from({ length: jobs }, (_, i) => {
        h.comfy.script({ stepDelayMs: 50 });
        return h.telegram.userSends(
          { id: 5000 + i, is_bot: false, first_name: `U${i}`, language_code: 'en' },
          h.chats.group,
          { text: `/imagine a fox number ${i} --steps 20` },
        );
      });
      const t0 = Date.now();
      // Group limit 20/min and ≥ 2 calls a job: allow 12 s a job.
      await until(() => cmds.every((c) => h.repliesTo(c).some((m) => m.photo)), 'every result', jobs * 12_000).catch(
        () => undefined,
      );
      const wall = Date.now() - t0;
      const delivered = cmds.filter((c) => h.repliesTo(c).some((m) => m.photo)).length;
      const four29 = h.telegram.calls.filter((c) => c.status === 429).length;
      const replyTo = (c: { params: Record<string, unknown> }) => {
        const rp = c.params.reply_parameters;
        const parsed =
          typeof rp === 'string'
            ? (JSON.parse(rp) as { message_id?: number })
            : (rp as { message_id?: number } | undefined);
        return Number(parsed?.message_id ?? c.params.reply_to_message_id);
      };
      const texts = (cmdId: number, id: number) =>
        h.telegram.calls
          .filter(
            (c) =>
              c.status === 200 &&
              (Number(c.params.message_id) === id || (c.method === 'sendMessage' && replyTo(c) === cmdId)),
          )
          .map((c) => String(c.params.text ?? c.params.caption ?? ''));
      let lifecycle = 0;
      for (const c of cmds) {
        const msg = h.repliesTo(c).find((m) => m.photo);
        if (!msg) continue;
        const t = texts(c.message_id, msg.message_id);
        if (t.some((x) => /Queued/.test(x)) && t.some((x) => /Generating/.test(x))) lifecycle++;
      }
      return {
        measured: `${jobs} jobs: ${four29} × 429, ${delivered}/${jobs} delivered, ${lifecycle}/${jobs} showed queued → running → done (${Math.round(wall / 1000)} s)`,
        met: four29 === 0 && delivered === jobs && lifecycle === jobs,
        details: {
          jobs,
          four29,
          delivered,
          lifecycle,
          wallMs: wall,
          groupCallsByMethod: h.telegram.calls
            .filter((c) => c.chatId === h.chats.group.id)
            .reduce<Record<string, number>>(
              (acc, c) => ({ ...acc, [`${c.method} ${c.status}`]: (acc[`${c.method} ${c.status}`] ?? 0) + 1 }),
              {},
            ),
        },
      };
    } finally {
      await h.close();
    }
  },
};
export default scenario;
