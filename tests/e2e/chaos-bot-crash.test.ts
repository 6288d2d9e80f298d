import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startBotRole } from '../../src/app/bot-role.js';
import { startWorkerRole } from '../../src/app/worker-role.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import { type Db, openDb } from '../../src/history/db.js';
import { createJobsRepo } from '../../src/history/jobs-repo.js';
import { createLifecycle, type Lifecycle } from '../../src/lifecycle.js';
import { type FakeComfy, startFakeComfy } from '../fakes/comfy/server.js';
import { type FakeTelegram, startFakeTelegram, type TgChat, type TgUser } from '../fakes/telegram/server.js';
import { fakeModels, testConfig } from '../support/config.js';
import { memoryLogger } from '../support/logger.js';
import { until } from '../support/pipeline.js';
import { buttonsOf, TOKEN } from '../support/telegram-harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const alice: TgUser = { id: 1001, is_bot: false, first_name: 'Alice', language_code: 'en' };
const dm: TgChat = { id: 1001, type: 'private', first_name: 'Alice' };
const photoCalls = ['editMessageMedia', 'sendPhoto', 'sendMediaGroup'];

describe('the bot process SIGKILLed after the worker finished, before the result reached the chat', () => {
  let comfy: FakeComfy | undefined;
  let telegram: FakeTelegram | undefined;
  let child: ChildProcess | undefined;
  let db: Db | undefined;
  const lifecycles: Lifecycle[] = [];
  afterEach(async () => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const l of lifecycles.reverse()) await l.shutdown('test done');
    db?.close();
    await telegram?.close();
    await comfy?.close();
  });

  it('a fresh bot on the same history and queue delivers the result once and marks it delivered', async () => {
    comfy = await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 5 });
    telegram = await startFakeTelegram({ token: TOKEN });
    const config = testConfig({
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      TELEGRAM_API_LOCAL: 'false',
      COMFY_URL: comfy.url,
    });
    const { logger, lines } = memoryLogger('info');
    const workflows = loadWorkflows(config.workflowsDir);
    const workerLifecycle = createLifecycle(logger);
    lifecycles.push(workerLifecycle);
    await startWorkerRole({
      config,
      redisUrl: config.redisUrl as string,
      workflows,
      logger,
      lifecycle: workerLifecycle,
    });

    // Uploads of the result are never answered: the bot process is mid-delivery when it dies.
    const blackhole = telegram.outage({ mode: 'hang', only: photoCalls });
    let output = '';
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'bot'], {
      cwd: root,
      env: {
        ...process.env,
        REDIS_URL: config.redisUrl,
        STORAGE_DIR: config.storageDir,
        QUEUE_PREFIX: config.queuePrefix,
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_API_LOCAL: 'false',
        COMFY_URL: comfy.url,
        PROGRESS_INTERVAL_S: '0.5',
        LOG_LEVEL: 'warn',
        HTTP_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    const exited = new Promise((r) => child?.once('exit', r));

    const cmd = telegram.userSends(alice, dm, { text: '/imagine a fox no crash can lose' });
    const progress = await until(
      () => telegram?.botMessages(dm.id).find((m) => m.reply_to_message?.message_id === cmd.message_id),
      'the child bot’s progress message',
      40_000,
    ).catch((err: Error) => Promise.reject(new Error(`${err.message}; child output:\n${output}`)));
    db = openDb(config.databasePath);
    const repo = createJobsRepo({ db });
    const jobId = repo.page({ platform: 'telegram', userId: String(alice.id) }, 0, 1).items[0]!.id;
    await until(
      () => repo.get(jobId)?.status === 'succeeded' && telegram?.calls.some((c) => photoCalls.includes(c.method)),
      'the finished job’s upload to hang',
      30_000,
    );
    child.kill('SIGKILL');
    await exited;
    blackhole.end();
    expect(repo.get(jobId)?.deliveredAt).toBeUndefined();
    expect(telegram.message(dm.id, progress.message_id)?.photo).toBeUndefined();

    const botLifecycle = createLifecycle(logger);
    lifecycles.push(botLifecycle);
    await startBotRole({ config, redisUrl: config.redisUrl as string, workflows, logger, lifecycle: botLifecycle });
    await until(() => repo.get(jobId)?.deliveredAt, 'delivered_at', 30_000);
    // Time for a second delivery to show, were the restart to deliver twice.
    await new Promise((r) => setTimeout(r, 1_500));

    const delivered = telegram.calls.filter((c) => photoCalls.includes(c.method) && c.status === 200);
    expect(delivered.map((c) => c.method)).toEqual(['editMessageMedia']);
    expect(telegram.botMessages(dm.id).filter((m) => m.photo)).toHaveLength(1);
    const final = telegram.message(dm.id, progress.message_id);
    expect(final?.caption).toMatch(/^a fox no crash can lose\nseed \d+/);
    expect(buttonsOf(final).some((b) => b.callback_data?.startsWith('v1:c:'))).toBe(false);
    expect(comfy.submissions()).toBe(1);
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  }, 120_000);
});
