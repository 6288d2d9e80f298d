import { startBotRole } from '../../src/app/bot-role.js';
import { freePort } from '../../src/app/embedded-redis.js';
import { startHttpServer } from '../../src/app/http-role.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createStorage } from '../../src/storage.js';
import { startWorkerRole } from '../../src/app/worker-role.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import { createLifecycle } from '../../src/lifecycle.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/server.js';
import {
  startFakeTelegram,
  type FakeTelegram,
  type TgChat,
  type TgMessage,
  type TgUser,
} from '../fakes/telegram/server.js';
import { fakeModels, testConfig } from './config.js';
import { memoryLogger } from './logger.js';
import { until } from './pipeline.js';

export const TOKEN = '123456:TEST-token-for-the-fake-server';

/** The inline buttons under a message, flattened. */
export const buttonsOf = (
  m: { reply_markup?: { inline_keyboard?: Array<Array<{ text: string; callback_data?: string }>> } } | undefined,
) => (m?.reply_markup?.inline_keyboard ?? []).flat();

/** The whole product as `npm start` builds it (bot role + worker role), against fake Telegram and fake ComfyUI. */
export async function startTelegramHarness(
  env: Record<string, string> = {},
  opts: {
    withWorker?: boolean;
    secondGpu?: boolean;
    beforeBot?: (telegram: FakeTelegram) => void;
    /** The worker's own STORAGE_DIR (a worker on another host, no shared disk); default: the bot's. */
    workerStorageDir?: string;
    /**
     * Webhook mode: the bot role gets an HTTP server on a free port, and TELEGRAM_WEBHOOK_URL points at `path` on it
     * (with this TELEGRAM_WEBHOOK_SECRET).
     */
    webhook?: { secret?: string; path?: string };
  } = {},
) {
  const comfy: FakeComfy = await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 5 });
  const comfy2 = opts.secondGpu ? await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 5 }) : undefined;
  const telegram: FakeTelegram = await startFakeTelegram({ token: TOKEN });
  const httpPort = opts.webhook ? await freePort() : undefined;
  const webhookEnv: Record<string, string> = opts.webhook
    ? {
        TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${httpPort}${opts.webhook.path ?? '/telegram/webhook'}`,
        ...(opts.webhook.secret ? { TELEGRAM_WEBHOOK_SECRET: opts.webhook.secret } : {}),
      }
    : {};
  const config = testConfig({
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_API_LOCAL: 'false',
    COMFY_URL: comfy2 ? `${comfy.url},${comfy2.url}` : comfy.url,
    PROGRESS_INTERVAL_S: '0.5',
    ...webhookEnv,
    ...env,
  });
  const { logger, lines } = memoryLogger('info');
  // Separate lifecycles, so a test can restart the bot process while the worker keeps running.
  const workerLifecycle = createLifecycle(logger);
  let botLifecycle = createLifecycle(logger);
  const workflows = loadWorkflows(config.workflowsDir);
  const workerConfig = opts.workerStorageDir ? { ...config, storageDir: opts.workerStorageDir } : config;
  const startWorker = () =>
    startWorkerRole({
      config: workerConfig,
      redisUrl: config.redisUrl as string,
      workflows,
      logger,
      lifecycle: workerLifecycle,
    });
  if (opts.withWorker !== false) await startWorker();
  opts.beforeBot?.(telegram);
  const http =
    httpPort === undefined
      ? undefined
      : await startHttpServer({
          port: httpPort,
          host: '127.0.0.1',
          storage: createStorage(config.storageDir),
          metrics: createMetrics({ workflows: workflows.keys(), defaultMetrics: false }),
          logger,
        });
  let role = await startBotRole({
    config,
    redisUrl: config.redisUrl as string,
    workflows,
    logger,
    lifecycle: botLifecycle,
    http,
  });

  const alice: TgUser = { id: 1001, is_bot: false, first_name: 'Alice', language_code: 'en' };
  const bob: TgUser = { id: 1002, is_bot: false, first_name: 'Bob', language_code: 'zh-hant' };
  const dmAlice: TgChat = { id: 1001, type: 'private', first_name: 'Alice' };
  const dmBob: TgChat = { id: 1002, type: 'private', first_name: 'Bob' };
  const group: TgChat = { id: -100777, type: 'supergroup', title: 'Artists' };

  /** Replies of the bot (new messages) to a given user message. */
  const repliesTo = (msg: TgMessage) =>
    telegram.botMessages(msg.chat.id).filter((m) => m.reply_to_message?.message_id === msg.message_id);
  const textOf = (m: TgMessage | undefined) => m?.text ?? m?.caption ?? '';
  /** Waits for the bot's first reply to `msg` whose text or caption matches. */
  const reply = (msg: TgMessage, re: RegExp, timeoutMs = 15_000) =>
    until(() => repliesTo(msg).find((m) => re.test(textOf(m))), `a reply matching ${re}`, timeoutMs);

  return {
    comfy,
    comfy2,
    telegram,
    http,
    config,
    lines,
    get role() {
      return role;
    },
    startWorker,
    /** Stops the bot role (as a crash or deploy would) and starts a fresh one on the same history and queue. */
    async restartBot() {
      await botLifecycle.shutdown('restart');
      botLifecycle = createLifecycle(logger);
      role = await startBotRole({
        config,
        redisUrl: config.redisUrl as string,
        workflows,
        logger,
        lifecycle: botLifecycle,
        http,
      });
    },
    users: { alice, bob },
    chats: { dmAlice, dmBob, group },
    repliesTo,
    reply,
    textOf,
    async close() {
      await botLifecycle.shutdown('test done');
      await workerLifecycle.shutdown('test done');
      await http?.close();
      await telegram.close();
      await comfy.close();
      await comfy2?.close();
    },
  };
}
