/**
 * edit discipline (Discord part): the whole product against the fake Discord (REST + gateway), 50 users'
 * /imagine (1 s jobs: 20 steps × 50 ms) at once in one channel. Counts 429 answers, results delivered (the
 * interaction's reply ends up holding the picture), and per job whether its reply went queued → running → done
 * ("Queued" text, "Generating" text, then the picture). The fake Discord answers 429 only where told to
 * (rateLimit), not from Discord's real per-route buckets, so "0 × 429" here is weaker than on Telegram.
 */
import { startDiscordHarness } from '../../tests/support/discord-harness.js';
import { scaled, until, type Scenario } from '../lib.js';

const scenario: Scenario = {
  name: 'edit discipline (Discord channel)',
  target: '0 429s, every result delivered, every job shows queued → running → done',
  async run() {
    const jobs = scaled(50, 3);
    const h = await startDiscordHarness({ LOG_LEVEL: 'silent' });
    try {
      const tokens = Array.from({ length: jobs }, (_, i) => {
        h.comfy.script({ stepDelayMs: 50 });
        const user = {
          id: String(300000000000001000n + BigInt(i)),
          username: `u${i}`,
          discriminator: '0',
          avatar: null,
        };
        return h.discord.slash(
          user,
          'imagine',
          [
            { name: 'prompt', type: 3, value: `a fox number ${i}` },
            { name: 'steps', type: 4, value: 20 },
          ],
          h.ctx,
        ).token;
      });
      const done = (t: string) => (h.original(t)?.attachments ?? []).some((a) => /\.png$/.test(a.filename));
      const t0 = Date.now();
      await until(() => tokens.every(done), 'every result', jobs * 12_000).catch(() => undefined);
      const wall = Date.now() - t0;
      const delivered = tokens.filter(done).length;
      const four29 = h.discord.calls.filter((c) => c.status === 429).length;
      let lifecycle = 0;
      for (const t of tokens) {
        const texts = h.discord.calls
          .filter((c) => c.path.includes(t) && c.status >= 200 && c.status < 300)
          .map((c) => JSON.stringify(c.body));
        if (done(t) && texts.some((x) => /Queued/.test(x)) && texts.some((x) => /Generating/.test(x))) lifecycle++;
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
          note: 'the fake Discord does not enforce real rate-limit buckets',
        },
      };
    } finally {
      await h.close();
    }
  },
};
export default scenario;
