/** English catalog: the keys every other catalog must have (zh-TW.ts `satisfies Catalog`). */
type P = Record<string, string | number>;
const s = (p: P, k: string) => String(p[k] ?? '');

export const en = {
  'progress.queued': (p: P) => (Number(p.position) > 0 ? `Queued — ${s(p, 'position')} ahead of you` : 'Queued — next up'),
  'progress.waiting_gpu': (p: P) => `Waiting for the GPU — ${s(p, 'position')} ahead in ComfyUI`,
  'progress.starting': 'Starting…',
  'progress.running': 'Generating',
  'progress.step': (p: P) => `step ${s(p, 'value')}/${s(p, 'max')}`,
  'progress.node': (p: P) => `node: ${s(p, 'node')}`,
  'progress.elapsed': (p: P) => `elapsed ${s(p, 'time')}`,
  'progress.eta': (p: P) => `about ${s(p, 'time')} left`,
  'progress.still_working': (p: P) => `still working · ${s(p, 'time')}`,
  'progress.done': (p: P) => `Done in ${s(p, 'time')} — ${s(p, 'count')} file(s)`,
  'progress.job': (p: P) => `job ${s(p, 'id')}`,
  'failure.cancelled': 'Cancelled.',
  'failure.rejected': (p: P) => `ComfyUI refused the workflow${p.node ? ` at node ${s(p, 'node')}` : ''}: ${s(p, 'message')}`,
  'failure.execution': (p: P) => `Generation failed${p.node ? ` at node ${s(p, 'node')}` : ''}: ${s(p, 'message')}`,
  'failure.timeout': (p: P) => `Timed out: ${s(p, 'message')}`,
  'failure.invalid': (p: P) => `The job was invalid: ${s(p, 'message')}`,
  'failure.unavailable': (p: P) => `ComfyUI could not be reached, even after retries: ${s(p, 'message')}`,
  'failure.lost': (p: P) => `ComfyUI lost the job (it restarted), even after retries: ${s(p, 'message')}`,
  'failure.internal': (p: P) => `Something went wrong (ref ${s(p, 'ref')}).`,
  'error.invalid_options': (p: P) => `Some options are not valid:\n${s(p, 'issues')}`,
  'error.unknown_option': (p: P) => `Unknown option --${s(p, 'name')}.`,
  'error.prompt_too_long': (p: P) => `The prompt is too long: ${s(p, 'length')} characters, at most ${s(p, 'max')}.`,
  'error.unknown_workflow': (p: P) => `There is no workflow called "${s(p, 'name')}".`,
  'error.queue_unavailable': 'The job queue is not reachable right now. Please try again in a minute.',
  'error.job_not_found': (p: P) => `No job ${s(p, 'id')} of yours was found.`,
  'cli.saved': (p: P) => `Saved ${s(p, 'count')} file(s) to ${s(p, 'dir')}`,
  'cli.cancelling': 'Cancelling…',
  'cli.local_worker': 'No worker is online: running one in this process for this job.',
  'cli.usage': 'Usage: npm run cli -- <workflow> "prompt" [--option value …] [--out DIR] | doctor | workflows',
} as const;

export type MessageKey = keyof typeof en;
export type Catalog = { [K in MessageKey]: (typeof en)[K] extends string ? string : (p: P) => string };
