import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Workflow } from '../comfy/workflows.js';
import { UserError } from '../errors.js';
import { normalizeImage } from '../images/normalize-input.js';
import type { Storage } from '../storage.js';
import { checkAudio } from './audio.js';

/**
 * Checks and stores the media a command brought (bytes by param name) under STORAGE_DIR/inputs with names we
 * generate, and puts those names into the params. Used by every frontend; a missing required file is refused here.
 */
export async function storeInputs(
  workflow: Workflow,
  params: Record<string, unknown>,
  media: Record<string, Buffer>,
  storage: Storage,
): Promise<Record<string, unknown>> {
  const out = { ...params };
  for (const p of workflow.manifest.params) {
    if (p.type !== 'image' && p.type !== 'audio') continue;
    const bytes = media[p.name];
    if (!bytes) {
      // A stored name from an earlier job (remix, reroll) stays as it is — while the file is still kept.
      if (typeof out[p.name] === 'string') {
        if (!existsSync(storage.inputPath(String(out[p.name])))) throw new UserError('input.expired', { name: p.name });
        continue;
      }
      if (p.required)
        throw new UserError(p.type === 'image' ? 'input.missing_image' : 'input.missing_audio', { name: p.name });
      continue;
    }
    let data: Buffer;
    let ext: string;
    if (p.type === 'image') {
      data = (await normalizeImage(bytes, { maxSide: p.maxSide })).png;
      ext = 'png';
    } else {
      ext = (await checkAudio(bytes, p.maxSeconds)).ext;
      data = bytes;
    }
    const name = `${randomUUID()}.${ext}`;
    const file = storage.inputPath(name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, data);
    out[p.name] = name;
  }
  return out;
}
