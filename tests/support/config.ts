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
  'UNETLoader.unet_name': [
    'flux1-dev-kontext_fp8_scaled.safetensors',
    'wan2.2_s2v_14B_fp8_scaled.safetensors',
    'wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors',
    'wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors',
  ],
  'CLIPLoader.clip_name': ['umt5_xxl_fp8_e4m3fn_scaled.safetensors'],
  'LoraLoaderModelOnly.lora_name': [
    'wan2.2_t2v_lightx2v_4steps_lora_v1.1_high_noise.safetensors',
    'wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors',
    'wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors',
  ],
  'AudioEncoderLoader.audio_encoder_name': ['wav2vec2_large_english_fp16.safetensors'],
  'ControlNetLoader.control_net_name': ['control_v11p_sd15_scribble_fp16.safetensors'],
  'DualCLIPLoader.clip_name1': ['clip_l.safetensors', 't5xxl_fp8_e4m3fn_scaled.safetensors'],
  'DualCLIPLoader.clip_name2': ['clip_l.safetensors', 't5xxl_fp8_e4m3fn_scaled.safetensors'],
  'VAELoader.vae_name': ['ae.safetensors', 'wan_2.1_vae.safetensors', 'pixel_space'],
  'UpscaleModelLoader.model_name': ['RealESRGAN_x4plus.pth'],
};
