import path from 'node:path';
import type { Config } from '../config.js';

/** What a worker found at its first look at its ComfyUI. */
export interface ComfyCheck {
  url: string;
  isReachable: boolean;
  /** Why not, when unreachable ("connect ECONNREFUSED 127.0.0.1:8188"). */
  reason?: string;
  /** Workflows this ComfyUI can run, of how many. */
  runnable: number;
  total: number;
}

export interface StartupFacts {
  role: 'all' | 'worker' | 'bot';
  config: Pick<Config, 'redisUrl' | 'storageDir' | 'telegram' | 'discord'>;
  /** One entry per COMFY_URL when this process runs workers. */
  comfy: ComfyCheck[];
}

/**
 * One block at start saying what runs and what is missing, each missing piece with the setting that fixes it.
 * Pure, so the wording is pinned by a test; the expected trouble of a first run (no ComfyUI yet, no token) reads
 * as a to-do list, not as stack traces.
 */
export function startupSummary(f: StartupFacts): string {
  const lines = [`comfy-relay started${f.role === 'all' ? '' : ` (${f.role} role only)`}:`];
  const ok = (t: string) => lines.push(`  ✔ ${t}`);
  const missing = (t: string) => lines.push(`  ✘ ${t}`);

  if (f.config.redisUrl) ok('queue: the Redis at REDIS_URL');
  else ok(`queue: a private Redis with its data in ${path.join(f.config.storageDir, 'redis')} (REDIS_URL unset)`);

  if (f.role !== 'bot') {
    for (const c of f.comfy) {
      if (!c.isReachable)
        missing(
          `ComfyUI at ${c.url} is not reachable${c.reason ? ` (${c.reason})` : ''}; the worker waits and retries. ` +
            'Start ComfyUI, or set COMFY_URL to where it runs',
        );
      else if (c.runnable === 0)
        missing(`ComfyUI at ${c.url} can run none of the ${c.total} workflows (nodes or models missing)`);
      else ok(`ComfyUI at ${c.url}: ${c.runnable} of ${c.total} workflows can run`);
    }
  }

  if (f.role !== 'worker') {
    if (f.config.telegram) ok('Telegram bot');
    if (f.config.discord) ok('Discord bot');
    if (!f.config.telegram && !f.config.discord)
      missing('no chat bot: set TELEGRAM_BOT_TOKEN (from @BotFather) or DISCORD_TOKEN in .env, then restart');
  }
  lines.push('  Check the whole setup with: npm run cli -- doctor');
  return lines.join('\n');
}
