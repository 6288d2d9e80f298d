import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c.comfyUrls).toEqual(['http://127.0.0.1:8188']);
    expect(c.redisUrl).toBeUndefined();
    expect(c.jobTimeoutMs).toBe(3_600_000);
    expect(c.progressIntervalMs).toBe(3000);
    expect(c.databasePath.endsWith('storage/history.db')).toBe(true);
  });

  it('takes a comma list of ComfyUI instances', () => {
    expect(loadConfig({ COMFY_URL: 'http://gpu1:8188/, http://gpu2:8188' }).comfyUrls).toEqual([
      'http://gpu1:8188',
      'http://gpu2:8188',
    ]);
  });

  it('reports every bad variable at once, by name', () => {
    let err: unknown;
    try {
      loadConfig({ COMFY_URL: 'gpu-box', JOB_TIMEOUT_S: '-5', LOG_LEVEL: 'loud', REDIS_URL: 'http://x' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const name of ['COMFY_URL', 'JOB_TIMEOUT_S', 'LOG_LEVEL', 'REDIS_URL']) expect(msg).toContain(name);
  });

  it('accepts .env.example as it ships', () => {
    const env = Object.fromEntries(
      readFileSync('.env.example', 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(Object.keys(env).length).toBeGreaterThan(8);
    expect(() => loadConfig(env)).not.toThrow();
  });
});
