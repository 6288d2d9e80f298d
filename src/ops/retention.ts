import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { JobsRepo } from '../history/jobs-repo.js';
import type { Logger } from '../logger.js';
import type { Storage } from '../storage.js';

/**
 * Clean-up, as the old studio did it: uploaded inputs are kept INPUT_RETENTION_H (24 h), outputs
 * OUTPUT_RETENTION_D (30 days); a job whose outputs are deleted is soft-deleted in history (the row stays, marked).
 * Runs at start and hourly in the process that owns the history database.
 */
export async function sweepStorage(deps: {
  storage: Storage;
  repo: JobsRepo;
  logger: Logger;
  inputMaxAgeMs: number;
  outputMaxAgeMs: number;
  now?: number;
}) {
  const now = deps.now ?? Date.now();
  let inputs = 0;
  let outputs = 0;
  const inputsDir = path.join(deps.storage.root, 'inputs');
  for (const name of await readdir(inputsDir).catch(() => [] as string[])) {
    const file = path.join(inputsDir, name);
    const st = await stat(file).catch(() => undefined);
    if (st?.isFile() && now - st.mtimeMs > deps.inputMaxAgeMs) {
      await rm(file, { force: true });
      inputs += 1;
    }
  }
  const outputsDir = path.join(deps.storage.root, 'outputs');
  for (const jobId of await readdir(outputsDir).catch(() => [] as string[])) {
    const dir = path.join(outputsDir, jobId);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory() || now - st.mtimeMs <= deps.outputMaxAgeMs) continue;
    const row = deps.repo.get(jobId);
    // Never pull files from under a job that has not finished.
    if (row && (row.status === 'queued' || row.status === 'running')) continue;
    await rm(dir, { recursive: true, force: true });
    if (row) deps.repo.softDelete(jobId);
    outputs += 1;
  }
  if (inputs || outputs) deps.logger.info({ inputs, outputs }, 'retention sweep removed old files');
  return { inputs, outputs };
}

export function startRetention(deps: Parameters<typeof sweepStorage>[0] & { everyMs?: number }) {
  const run = () => sweepStorage(deps).catch((err) => deps.logger.warn({ err }, 'retention sweep failed'));
  void run();
  const timer = setInterval(run, deps.everyMs ?? 3_600_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
