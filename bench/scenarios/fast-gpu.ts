/**
 * fast GPU: the whole product as `npm start` builds it (bot role + worker role, grammY against the fake Bot API
 * enforcing Telegram's flood limits), a user sending `/imagine … --steps 10` in a private chat, the fake ComfyUI
 * taking 300 ms (10 × 30 ms), one job at a time, as a person works: the next command 1 s after the previous photo
 * arrived. Back to back, no bot could do better than one result a second in one chat: Telegram allows about one
 * message a second per chat (a burst of 3 tolerated), and every job needs at least its photo. Measures the user's
 * message landing in the fake Telegram → the photo reply existing there, the calls each job cost in the chat, and
 * 429 answers.
 */
import { startTelegramHarness } from '../../tests/support/telegram-harness.js';
import { pct, scaled, sleep, until, type Scenario } from '../lib.js';

const PAUSE_MS = 1_000;

const scenario: Scenario = {
  name: 'fast GPU',
  target: 'p50 command → result ≤ 400 ms',
  async run() {
    const jobs = scaled(100, 5);
    const h = await startTelegramHarness({ LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '1000' }); // the default 10/min would refuse job 11
    const lat: number[] = [];
    const gpu: number[] = [];
    let calls = 0;
    try {
      h.telegram.enforceFloodLimits();
      const { alice } = h.users;
      const toChat = () => h.telegram.calls.filter((c) => c.chatId === h.chats.dmAlice.id).length;
      for (let i = -1; i < jobs; i++) {
        h.comfy.script({ stepDelayMs: 30 });
        await sleep(PAUSE_MS);
        const before = toChat();
        const t0 = performance.now();
        const cmd = h.telegram.userSends(alice, h.chats.dmAlice, { text: `/imagine a fox number ${i} --steps 10` });
        await until(
          () => h.repliesTo(cmd).find((m) => m.photo),
          `the photo of job ${i + 1}/${jobs} (${lat.length} done, p50 so far ${Math.round(pct(lat, 50))} ms)`,
          30_000,
        );
        if (i < 0) continue; // warm-up
        lat.push(performance.now() - t0);
        calls += toChat() - before;
        const rt = [...h.comfy.runTimes.values()].at(-1);
        if (rt?.end) gpu.push(rt.end - rt.start);
      }
    } finally {
      await h.close();
    }
    const four29 = h.telegram.calls.filter((c) => c.status === 429).length;
    const p50 = pct(lat, 50);
    return {
      measured: `${jobs} jobs: p50 ${Math.round(p50)} ms, p90 ${Math.round(pct(lat, 90))} ms, max ${Math.round(Math.max(...lat))} ms (ComfyUI run p50 ${Math.round(pct(gpu, 50))} ms); ${Math.round((calls / jobs) * 10) / 10} calls a job, ${four29} × 429`,
      met: p50 <= 400 && four29 === 0,
      details: {
        jobs,
        pauseMs: PAUSE_MS,
        latencyMs: lat.map(Math.round),
        comfyRunMs: gpu,
        callsPerJob: calls / jobs,
        four29,
      },
    };
  },
};
export default scenario;
