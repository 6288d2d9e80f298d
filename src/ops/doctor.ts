import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { createComfyClient } from '../comfy/client.js';
import { checkWorkflow } from '../comfy/object-info.js';
import type { WorkflowRegistry } from '../comfy/workflows.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

export interface DoctorLine {
  ok: boolean;
  text: string;
}

/** ✔/✘ checks: Redis, each ComfyUI (system_stats), each workflow's node classes and models on each instance. */
export async function runDoctor(deps: {
  config: Config;
  redisUrl?: string;
  workflows: WorkflowRegistry;
  logger: Logger;
  fetch?: typeof fetch;
}): Promise<DoctorLine[]> {
  const lines: DoctorLine[] = [];
  const add = (ok: boolean, text: string) => lines.push({ ok, text });

  if (deps.redisUrl) {
    const r = new Redis(deps.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 3000,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    r.on('error', () => undefined);
    try {
      await r.connect();
      const info = await r.info('server');
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
      const policy = (await r.config('GET', 'maxmemory-policy').catch(() => [])) as string[];
      add(true, `Redis reachable (${redactUrl(deps.redisUrl)}, v${version})`);
      if (policy[1] && policy[1] !== 'noeviction')
        add(false, `Redis maxmemory-policy is ${policy[1]}; BullMQ needs noeviction`);
    } catch (err) {
      add(false, `Redis not reachable at ${redactUrl(deps.redisUrl)}: ${(err as Error).message}`);
    } finally {
      r.disconnect();
    }
  } else {
    try {
      const v = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
      add(true, `no REDIS_URL: npm start runs an embedded redis-server (${v.split(' ').slice(0, 3).join(' ')})`);
    } catch {
      add(
        false,
        'no REDIS_URL and no redis-server on PATH: install redis-server (apt-get install redis-server) or set REDIS_URL',
      );
    }
  }

  for (const url of deps.config.comfyUrls) {
    const client = createComfyClient({
      baseUrl: url,
      logger: deps.logger,
      fetch: deps.fetch,
      requestTimeoutMs: 10_000,
    });
    try {
      const stats = await client.systemStats();
      const system = (stats.system ?? {}) as Record<string, unknown>;
      const devices = Array.isArray(stats.devices) ? (stats.devices as Array<Record<string, unknown>>) : [];
      add(
        true,
        `ComfyUI ${url} reachable (version ${String(system.comfyui_version ?? '?')}, ${devices.map((d) => String(d.name ?? d.type)).join(', ') || 'no device info'})`,
      );
    } catch (err) {
      add(false, `ComfyUI ${url} not reachable: ${(err as Error).message}`);
      continue;
    }
    const info = await client.objectInfo();
    for (const wf of deps.workflows.values()) {
      const c = checkWorkflow(info, wf);
      const packs = wf.manifest.requires.customNodes.map((p) => p.name + (p.url ? ` (${p.url})` : '')).join(', ');
      if (c.missingClasses.length)
        add(
          false,
          `${wf.name} on ${url}: missing node classes ${c.missingClasses.join(', ')}${packs ? ` — install ${packs}` : ''}`,
        );
      for (const m of c.missingModels)
        add(false, `${wf.name} on ${url}: model "${m.value}" (${m.node}.${m.input}) is not installed`);
      if (!c.missingClasses.length && !c.missingModels.length)
        add(true, `${wf.name} on ${url}: all ${wf.classTypes.length} node classes and models present`);
    }
  }
  return lines;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
