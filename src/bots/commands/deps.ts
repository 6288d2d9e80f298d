import type { ObjectInfo } from '../../comfy/client.js';
import type { WorkflowRegistry } from '../../comfy/workflows.js';
import type { JobsRepo } from '../../history/jobs-repo.js';
import type { SettingsRepo } from '../../history/settings-repo.js';
import type { Logger } from '../../logger.js';
import type { Producer } from '../../queue/producer.js';
import type { Quotas } from '../../queue/quotas.js';
import type { Storage } from '../../storage.js';
import type { Access } from '../access.js';
import type { JobTracker } from '../jobs/tracker.js';

/** What the built-in commands and actions are made from (the bot role and the terminal build it alike). */
export interface CommandDeps {
  tracker: JobTracker;
  repo: JobsRepo;
  /** /settings: each user's defaults and preferences, each chat's policy. */
  settings: SettingsRepo;
  producer: Producer;
  workflows: WorkflowRegistry;
  storage: Storage;
  access: Access;
  quotas: Quotas;
  logger: Logger;
  maxPromptChars: number;
  /** A job's time limit (JOB_TIMEOUT_S): /status calls jobs unfinished well past it stuck. */
  jobTimeoutMs?: number;
  /** Latest /object_info of the first ComfyUI (model lists); undefined when not fetched yet. */
  objectInfo: () => Promise<ObjectInfo | undefined>;
}
