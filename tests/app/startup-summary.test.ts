import { describe, expect, it } from 'vitest';
import { startupSummary } from '../../src/app/startup-summary.js';
import { loadConfig } from '../../src/config.js';

describe('startup summary', () => {
  it('turns a first run with nothing configured into a to-do list', () => {
    const config = loadConfig({ STORAGE_DIR: '/srv/relay' });
    const text = startupSummary({
      role: 'all',
      config,
      comfy: [
        {
          url: 'http://127.0.0.1:8188',
          isReachable: false,
          reason: 'connect ECONNREFUSED 127.0.0.1:8188',
          runnable: 0,
          total: 8,
        },
      ],
    });
    expect(text).toMatchInlineSnapshot(`
      "comfy-relay started:
        ✔ queue: a private Redis with its data in /srv/relay/redis (REDIS_URL unset)
        ✘ ComfyUI at http://127.0.0.1:8188 is not reachable (connect ECONNREFUSED 127.0.0.1:8188); the worker waits and retries. Start ComfyUI, or set COMFY_URL to where it runs
        ✘ no chat bot: set TELEGRAM_BOT_TOKEN (from @BotFather) or DISCORD_TOKEN in .env, then restart
        Check the whole setup with: npm run cli -- doctor"
    `);
  });

  it('lists what runs when everything is there, and leaves out what this role does not run', () => {
    const config = loadConfig({
      REDIS_URL: 'redis://:secret@redis:6379',
      TELEGRAM_BOT_TOKEN: '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ',
    });
    const comfy = [
      { url: 'http://gpu1:8188', isReachable: true, runnable: 8, total: 8 },
      { url: 'http://gpu2:8188', isReachable: true, runnable: 0, total: 8 },
    ];
    expect(startupSummary({ role: 'all', config, comfy })).toMatchInlineSnapshot(`
      "comfy-relay started:
        ✔ queue: the Redis at REDIS_URL
        ✔ ComfyUI at http://gpu1:8188: 8 of 8 workflows can run
        ✘ ComfyUI at http://gpu2:8188 can run none of the 8 workflows (nodes or models missing)
        ✔ Telegram bot
        Check the whole setup with: npm run cli -- doctor"
    `);
    expect(startupSummary({ role: 'worker', config, comfy })).not.toContain('bot');
    expect(startupSummary({ role: 'bot', config, comfy: [] })).not.toContain('ComfyUI');
  });
});
