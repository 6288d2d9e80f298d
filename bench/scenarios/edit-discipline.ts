/**
 * edit discipline: the whole product against a fake platform that enforces its real limits (tests/fakes: Telegram's
 * flood limits per chat, per group and globally; Discord's buckets per channel, per interaction token and globally,
 * with their headers), 50 users' /imagine sent at once in one Telegram group or one Discord channel, one GPU. Counts
 * 429 answers, results delivered, and per job whether its message showed queued → running → done.
 *
 * "Shows queued → running → done", precisely: what the job's message showed (every successful send and edit of it,
 * in the fake's order: the first message replying to the command or the interaction's reply, then its edits) never
 * goes back (queued, then running, then the result), ends with the result, and includes
 * - "Queued …" when the job waited for the GPU (command → ComfyUI start) longer than the 1 s grace plus two turns;
 * - "Starting…"/"Generating …" when it ran (ComfyUI start → end) longer than two turns;
 * where a turn is the chat's pace below results with one GPU, window / (limit − 2): 60 s / 18 ≈ 3.3 s in a Telegram
 * group, 5 s / 3 ≈ 1.7 s in a Discord channel. Two turns: the result of the job before goes first, then the start.
 * A shorter state may be skipped, as there was no turn for it; a job done within its grace shows only its result.
 * The jobs last 20 steps × 500 ms (Telegram) or × 250 ms (Discord): at least three turns, so that a job's three
 * states fit in the chat's pace next to the results. Shorter jobs turn out results faster than the chat may take
 * them (1 s jobs: one a second into a group that takes 20 a minute), and a busy chat can then show results only.
 */
import { startDiscordHarness } from '../../tests/support/discord-harness.js';
import { startTelegramHarness } from '../../tests/support/telegram-harness.js';
import { pct, scaled, until, type Scenario } from '../lib.js';

type Phase = 'queued' | 'running' | 'done';
type Platform = 'telegram' | 'discord';

/** One job as the bench saw it: when its command went, and what its message showed, in order. */
interface Seen {
  sentAt: number;
  shown: Array<{ at: number; phase: Phase; text: string }>;
  delivered: boolean;
}

const TURN_MS: Record<Platform, number> = { telegram: 60_000 / 18, discord: 5_000 / 3 };
const STEP_MS: Record<Platform, number> = { telegram: 500, discord: 250 };
const GRACE_MS = 1_000;

const phaseOf = (text: string, uploads: string[]): Phase | undefined =>
  uploads.some((f) => /result\.png$|\.png$/.test(f) && !/preview/.test(f))
    ? 'done'
    : /Queued/.test(text)
      ? 'queued'
      : /Generating|Starting|Waiting for the GPU/.test(text)
        ? 'running'
        : undefined;

/** The verdict on one job by the definition above; `why` says what was missing. */
function judge(seen: Seen, run: { start: number; end?: number } | undefined, turnMs: number) {
  const phases = seen.shown.map((s) => s.phase).filter((p, i, all) => i === 0 || all[i - 1] !== p);
  const order: Phase[] = ['queued', 'running', 'done'];
  if (!seen.delivered || phases.at(-1) !== 'done') return { ok: false, why: 'no result' };
  if (order.filter((p) => phases.includes(p)).join() !== phases.join()) return { ok: false, why: 'went back' };
  if (!run?.end) return { ok: false, why: 'no run time' };
  if (run.start - seen.sentAt > GRACE_MS + 2 * turnMs && !phases.includes('queued'))
    return { ok: false, why: 'queued not shown' };
  if (run.end - run.start > 2 * turnMs && !phases.includes('running')) return { ok: false, why: 'running not shown' };
  return { ok: true, why: '' };
}

async function telegramRun(jobs: number) {
  const h = await startTelegramHarness({ LOG_LEVEL: 'silent' });
  try {
    h.telegram.enforceFloodLimits();
    const cmds = Array.from({ length: jobs }, (_, i) => {
      h.comfy.script({ stepDelayMs: STEP_MS.telegram });
      const at = Date.now();
      const cmd = h.telegram.userSends(
        { id: 5000 + i, is_bot: false, first_name: `U${i}`, language_code: 'en' },
        h.chats.group,
        { text: `/imagine a fox number ${i} --steps 20` },
      );
      return { cmd, at };
    });
    const photoOf = (c: (typeof cmds)[number]) => h.repliesTo(c.cmd).find((m) => m.photo);
    const t0 = Date.now();
    await until(() => cmds.every((c) => photoOf(c)), 'every result', jobs * 15_000).catch(() => undefined);
    const wallMs = Date.now() - t0;
    const replyTo = (params: Record<string, unknown>) => {
      const rp = params.reply_parameters as { message_id?: number } | undefined;
      return Number(rp?.message_id ?? params.reply_to_message_id);
    };
    const seen = cmds.map((c): Seen => {
      const msg = photoOf(c);
      const shown = h.telegram.calls
        .filter((x) => x.status === 200 && x.chatId === h.chats.group.id)
        .filter(
          (x) => (msg && Number(x.params.message_id) === msg.message_id) || replyTo(x.params) === c.cmd.message_id,
        )
        .flatMap((x) => {
          const media = x.params.media as { caption?: string } | undefined;
          const text = String(x.params.text ?? x.params.caption ?? media?.caption ?? '');
          const phase = phaseOf(
            text,
            Object.values(x.files).map((f) => f.filename),
          );
          return phase ? [{ at: x.at, phase, text }] : [];
        });
      return { sentAt: c.at, shown, delivered: Boolean(msg) };
    });
    const calls = h.telegram.calls.filter((c) => c.chatId === h.chats.group.id);
    const byMethod = calls.reduce<Record<string, number>>((acc, c) => {
      const k = `${c.method} ${c.status}`;
      acc[k] = (acc[k] ?? 0) + 1;
      return acc;
    }, {});
    return { seen, runTimes: h.comfy.runTimes, four29: calls.filter((c) => c.status === 429).length, wallMs, byMethod };
  } finally {
    await h.close();
  }
}

async function discordRun(jobs: number) {
  const h = await startDiscordHarness({ LOG_LEVEL: 'silent' });
  try {
    h.discord.enforceRateLimits();
    const slashes = Array.from({ length: jobs }, (_, i) => {
      h.comfy.script({ stepDelayMs: STEP_MS.discord });
      const user = { id: String(300000000000001000n + BigInt(i)), username: `u${i}`, discriminator: '0', avatar: null };
      const at = Date.now();
      const options = [
        { name: 'prompt', type: 3, value: `a fox number ${i}` },
        { name: 'steps', type: 4, value: 20 },
      ];
      return { token: h.discord.slash(user, 'imagine', options, h.ctx).token, at };
    });
    const done = (t: string) => (h.original(t)?.attachments ?? []).some((a) => /\.png$/.test(a.filename));
    const t0 = Date.now();
    await until(() => slashes.every((s) => done(s.token)), 'every result', jobs * 8_000).catch(() => undefined);
    const wallMs = Date.now() - t0;
    const seen = slashes.map(
      (s): Seen => ({
        sentAt: s.at,
        delivered: done(s.token),
        shown: h.discord.calls
          .filter((c) => c.path.startsWith('/webhooks/') && c.path.includes(s.token) && c.status < 300)
          .filter((c) => c.method === 'PATCH' || c.method === 'POST')
          .flatMap((c) => {
            const text = String(c.body.content ?? '');
            const phase = phaseOf(text, c.files);
            return phase ? [{ at: c.at, phase, text }] : [];
          }),
      }),
    );
    const four29 = h.discord.calls.filter((c) => c.status === 429).length;
    return { seen, runTimes: h.comfy.runTimes, four29, wallMs, byMethod: {} };
  } finally {
    await h.close();
  }
}

/** The scenario for one platform: two rows of the bench table, one module. */
export function editDiscipline(platform: Platform): Scenario {
  const where = platform === 'telegram' ? 'Telegram group' : 'Discord channel';
  return {
    name: `edit discipline (${where})`,
    target: '0 429s, every result delivered, every job shows queued → running → done',
    async run() {
      const jobs = scaled(50, 3);
      const r = platform === 'telegram' ? await telegramRun(jobs) : await discordRun(jobs);
      const turnMs = TURN_MS[platform];
      const verdicts = r.seen.map((s) => {
        const id = s.shown.map((x) => /job ([0-9a-f]{8})/.exec(x.text)?.[1]).find(Boolean);
        const run = [...r.runTimes.entries()].find(([k]) => id && k.startsWith(id))?.[1];
        const firstRunning = s.shown.find((x) => x.phase === 'running')?.at;
        return { ...judge(s, run, turnMs), runningLagMs: run && firstRunning ? firstRunning - run.start : undefined };
      });
      const delivered = r.seen.filter((s) => s.delivered).length;
      const lifecycle = verdicts.filter((v) => v.ok).length;
      const lags = verdicts.flatMap((v) => (v.runningLagMs === undefined ? [] : [v.runningLagMs]));
      const misses = verdicts.filter((v) => !v.ok).map((v) => v.why);
      return {
        measured: `${jobs} jobs: ${r.four29} × 429, ${delivered}/${jobs} delivered, ${lifecycle}/${jobs} showed queued → running → done; "running" p50 ${Math.round(pct(lags, 50) / 100) / 10} s after the start (${Math.round(r.wallMs / 1000)} s)`,
        met: r.four29 === 0 && delivered === jobs && lifecycle === jobs,
        details: {
          jobs,
          stepMs: STEP_MS[platform],
          turnMs: Math.round(turnMs),
          four29: r.four29,
          delivered,
          lifecycle,
          misses,
          runningLagMs: lags.map(Math.round),
          wallMs: r.wallMs,
          ...(platform === 'telegram' ? { groupCallsByMethod: r.byMethod } : {}),
        },
      };
    },
  };
}

export default editDiscipline('telegram');
