import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';

/** A Config through the real schema: own storage dir, own queue prefix on the shared test Redis. */
export function testConfig(env: Record<string, string> = {}): Config {
  const storage = mkdtempSync(path.join(tmpdir(), 'relay-test-'));
  return loadConfig({
    REDIS_URL: inject('redisUrl'),
    STORAGE_DIR: storage,
    QUEUE_PREFIX: `t${Math.random().toString(36).slice(2, 10)}`,
    LOG_LEVEL: 'silent',
    PROGRESS_INTERVAL_S: '0.5',
    ...env,
  });
}

/** Model lists the fake ComfyUI serves for the shipped workflows. */
export const fakeModels = {
  'CheckpointLoaderSimple.ckpt_name': ['v1-5-pruned-emaonly.safetensors', 'dreamshaper_8.safetensors'],
  'UNETLoader.unet_name': ['flux1-dev-kontext_fp8_scaled.safetensors'],
  'DualCLIPLoader.clip_name1': ['clip_l.safetensors', 't5xxl_fp8_e4m3fn_scaled.safetensors'],
  'DualCLIPLoader.clip_name2': ['clip_l.safetensors', 't5xxl_fp8_e4m3fn_scaled.safetensors'],
  'VAELoader.vae_name': ['ae.safetensors', 'pixel_space'],
  'UpscaleModelLoader.model_name': ['RealESRGAN_x4plus.pth'],
};
