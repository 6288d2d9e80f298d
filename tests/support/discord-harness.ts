import { startBotRole } from '../../src/app/bot-role.js';
import { startWorkerRole } from '../../src/app/worker-role.js';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import { createLifecycle } from '../../src/lifecycle.js';
import { startFakeComfy } from '../fakes/comfy/server.js';
import { startFakeDiscord, type DcMessage, type DcUser } from '../fakes/discord/server.js';
import { fakeModels, testConfig } from './config.js';
import { memoryLogger } from './logger.js';
import { until } from './pipeline.js';

export const DISCORD_TOKEN = `MTAw.${'x'.repeat(60)}`;

/** The product's bot + worker roles against fake Discord (REST + gateway) and fake ComfyUI. */
export async function startDiscordHarness(
  env: Record<string, string> = {},
  fakeOpts: { tokenLifetimeMs?: number; uploadCap?: number; customNodes?: boolean } = {},
) {
  const comfy = await startFakeComfy({ models: fakeModels, defaultStepDelayMs: 5, customNodes: fakeOpts.customNodes });
  const discord = await startFakeDiscord({ token: DISCORD_TOKEN, ...fakeOpts });
  const guildId = '500000000000000001';
  const config = testConfig({
    DISCORD_TOKEN,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_GUILD_ID: guildId,
    COMFY_URL: comfy.url,
    PROGRESS_INTERVAL_S: '0.5',
    ...env,
  });
  const { logger, lines } = memoryLogger('info');
  const workerLifecycle = createLifecycle(logger);
  let botLifecycle = createLifecycle(logger);
  const workflows = loadWorkflows(config.workflowsDir);
  await startWorkerRole({ config, redisUrl: config.redisUrl as string, workflows, logger, lifecycle: workerLifecycle });
  let role = await startBotRole({
    config,
    redisUrl: config.redisUrl as string,
    workflows,
    logger,
    lifecycle: botLifecycle,
  });

  const alice: DcUser = { id: '300000000000000001', username: 'alice', discriminator: '0', avatar: null };
  const bob: DcUser = { id: '300000000000000002', username: 'bob', discriminator: '0', avatar: null };
  const channelId = '400000000000000001';
  const ctx = { channelId, guildId };
  const callbacks = (token: string) => discord.calls.filter((c) => c.path.includes(`/${token}/callback`));
  /** The interaction's reply message once it exists. */
  const original = (token: string) => discord.original(token);
  const componentsOf = (m: DcMessage | undefined) =>
    ((m?.components ?? []) as Array<{ components: Array<{ label?: string; custom_id: string }> }>).flatMap(
      (r) => r.components,
    );

  return {
    comfy,
    discord,
    config,
    lines,
    get role() {
      return role;
    },
    users: { alice, bob },
    ctx,
    channelId,
    guildId,
    callbacks,
    original,
    componentsOf,
    until,
    async restartBot() {
      await botLifecycle.shutdown('restart');
      botLifecycle = createLifecycle(logger);
      role = await startBotRole({
        config,
        redisUrl: config.redisUrl as string,
        workflows,
        logger,
        lifecycle: botLifecycle,
      });
    },
    async close() {
      await botLifecycle.shutdown('test done');
      await workerLifecycle.shutdown('test done');
      await discord.close();
      await comfy.close();
    },
  };
}
