import { randomUUID } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { isMediaParam } from '../../comfy/param-kinds.js';
import { UserError } from '../../errors.js';
import { defineAction } from '../dispatch.js';
import { submitJob } from '../submit.js';
import { parseOptions } from '../validate.js';
import type { CommandDeps } from './deps.js';

/** Image `index` (1-based) of a finished job through the `upscale` workflow, without the user sending it again. */
export const upscaleAction = (deps: CommandDeps) =>
  defineAction({
    kind: 'upscale',
    async run(action, ctx, { record }) {
      if (!record) return;
      const file = record.outputs.filter((f) => f.kind === 'image')[action.index - 1];
      const upscale = deps.workflows.get('upscale');
      const imageParam = upscale?.manifest.params.find(isMediaParam);
      if (!file || !upscale || !imageParam) throw new UserError('error.job_not_found', { id: record.shortId });
      // Its other options at their defaults, through the one parse submitJob relies on (it marks them valid).
      const options = parseOptions(upscale.manifest.params, {}, deps.maxPromptChars);
      const name = `${randomUUID()}.png`;
      const dest = deps.storage.inputPath(name);
      await mkdir(path.dirname(dest), { recursive: true });
      await copyFile(deps.storage.resolveInside(file.path), dest);
      await submitJob(deps, ctx, 'upscale', { ...options, [imageParam.name]: name });
    },
  });
