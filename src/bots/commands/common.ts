import { type Localized, type Param, paramSchema } from '../../comfy/manifest.js';
import { primaryTextParam } from '../../comfy/param-kinds.js';
import type { WorkflowRegistry } from '../../comfy/workflows.js';
import { UserError } from '../../errors.js';
import type { JobRecord, JobsRepo } from '../../history/jobs-repo.js';
import { type MessageKey, t } from '../../i18n/index.js';
import type { Identity, OptionSpec } from '../command.js';

/** Helpers the built-in commands share: localized descriptions, option specs, ownership, a job's main text. */

export const localized = (key: MessageKey): Localized => ({ en: t('en', key), 'zh-TW': t('zh-TW', key) });

/** A built-in option, through the same schema (and so the same kinds) as a manifest parameter. */
export function option(
  spec: { name: string; type: 'text' | 'int'; description: MessageKey } & Record<string, unknown>,
  suggest?: OptionSpec['suggest'],
): OptionSpec {
  const p: Param = paramSchema.parse({ ...spec, description: localized(spec.description) });
  return suggest ? { ...p, suggest } : p;
}

/** A job the user may act on (their own; any for admins), or a clear refusal. */
export function ownedJob(repo: JobsRepo, user: Identity, id: string): JobRecord {
  const rec = repo.getOwned(id, { platform: user.platform, userId: user.userId, isAdmin: user.isAdmin });
  if (!rec) throw new UserError('error.job_not_found', { id: id.slice(0, 36) });
  return rec;
}

/** What a job was about (its prompt or instruction, whatever the manifest calls it). */
export function mainText(workflows: WorkflowRegistry, rec: Pick<JobRecord, 'workflow' | 'params'>): string {
  const p = primaryTextParam(workflows.get(rec.workflow)?.manifest.params ?? []);
  const v = p ? rec.params[p.name] : undefined;
  return typeof v === 'string' ? v : '';
}

/** One line per param for a job's details. */
export function paramsSummary(params: Record<string, unknown>, max = 1000): string {
  const text = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
