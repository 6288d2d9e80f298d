import { createAccess } from '../../../src/bots/access.js';
import { createActions, createCommands } from '../../../src/bots/commands/index.js';
import type { CommandDeps } from '../../../src/bots/commands/deps.js';
import { createDispatcher } from '../../../src/bots/dispatch.js';
import type { ObjectInfo } from '../../../src/comfy/client.js';
import { openDb } from '../../../src/history/db.js';
import { createJobsRepo } from '../../../src/history/jobs-repo.js';
import { createSettingsRepo } from '../../../src/history/settings-repo.js';
import type { QuotaLeft } from '../../../src/queue/quotas.js';
import { strictCommandDeps } from '../../support/command-deps.js';
import { memoryLogger } from '../../support/logger.js';
import { quotasDouble, tempStorage, trackerDouble } from '../../support/doubles.js';

/** The checkpoints the fake /object_info offers imagine's `model` option. */
export const MODELS = ['dreamshaper_8.safetensors', 'v1-5-pruned-emaonly.safetensors'];
const info: ObjectInfo = { CheckpointLoaderSimple: { input: { required: { ckpt_name: [MODELS, {}] } } } };

/**
 * The real dispatcher with /settings wired as the frontend core wires it: history and settings on one in-memory
 * SQLite database, the tracker and quotas as strict doubles, models from a fixed /object_info.
 */
export function personalSetup(opts: { left?: QuotaLeft; deps?: Partial<CommandDeps> } = {}) {
  const db = openDb(':memory:');
  const repo = createJobsRepo({ db });
  const settings = createSettingsRepo({ db });
  const storage = tempStorage();
  const t = trackerDouble({ repo });
  const { logger } = memoryLogger();
  const deps = strictCommandDeps({
    repo,
    settings,
    storage,
    tracker: t.tracker,
    quotas: quotasDouble({ left: opts.left }).quotas,
    objectInfo: async () => info,
    logger,
    ...opts.deps,
  });
  const d = createDispatcher({
    commands: createCommands(deps),
    actions: createActions(deps),
    access: createAccess({ admins: [], allowedUsers: [], allowedChats: [] }),
    repo,
    logger,
    maxPromptChars: 1000,
    suggest: async () => [],
    settings,
  });
  return { d, db, repo, settings, storage, deps, ...t };
}
