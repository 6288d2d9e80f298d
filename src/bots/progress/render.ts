import { formatDuration, t, type Locale } from '../../i18n/index.js';
import type { JobInfo, ProgressState } from './model.js';

/** The only place progress wording is put together. Same input → same text (the reporter dedupes on it). */
export interface RenderedProgress {
  text: string;
  percent: number;
  bar: string;
  /** The latest preview picture of a running job, and its frame number (a new number is a new picture). */
  previewPath?: string;
  previewSeq?: number;
  isRunning: boolean;
}

const BAR_WIDTH = 12;

export function progressBar(percent: number, width = BAR_WIDTH): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** Remaining time: from the typical run time when known, else extrapolated from the percent so far. */
export function estimateRemainingMs(state: ProgressState, job: JobInfo, now: number): number | undefined {
  if (state.phase === 'queued') return job.typicalMs !== undefined ? job.typicalMs * (state.position + 1) : undefined;
  const elapsed = now - state.startedAt;
  if (job.typicalMs !== undefined && job.typicalMs > elapsed) return job.typicalMs - elapsed;
  if (state.percent >= 10 && state.percent < 100) return (elapsed * (100 - state.percent)) / state.percent;
  return undefined;
}

export function renderProgress(
  state: ProgressState,
  job: JobInfo,
  locale: Locale,
  opts: { now: number; heartbeat?: boolean },
): RenderedProgress {
  const id = t(locale, 'progress.job', { id: job.shortId });
  if (state.phase === 'queued') {
    const eta = estimateRemainingMs(state, job, opts.now);
    const lines = [`${t(locale, 'progress.queued', { position: state.position })} · ${id}`];
    if (eta !== undefined) lines.push(t(locale, 'progress.eta', { time: formatDuration(roundEta(eta)) }));
    if (opts.heartbeat)
      lines.push(t(locale, 'progress.still_working', { time: formatDuration(opts.now - job.createdAt) }));
    return { text: lines.join('\n'), percent: 0, bar: progressBar(0), isRunning: false };
  }
  const bar = progressBar(state.percent);
  const head = state.waitingForComfy
    ? t(locale, 'progress.waiting_comfy')
    : state.comfyPosition !== undefined && state.comfyPosition > 0
      ? t(locale, 'progress.waiting_gpu', { position: state.comfyPosition })
      : state.percent === 0 && !state.node
        ? t(locale, 'progress.starting')
        : t(locale, 'progress.running');
  const details: string[] = [];
  if (state.step) details.push(t(locale, 'progress.step', { value: state.step.value, max: state.step.max }));
  if (state.nodeClass ?? state.node)
    details.push(t(locale, 'progress.node', { node: state.nodeClass ?? state.node ?? '' }));
  // No ETA while the GPU server is away: nobody knows when it is back.
  const eta = state.waitingForComfy ? undefined : estimateRemainingMs(state, job, opts.now);
  if (eta !== undefined) details.push(t(locale, 'progress.eta', { time: formatDuration(roundEta(eta)) }));
  const lines = [`${head} · ${id}`, `${bar} ${state.percent}%`];
  if (details.length) lines.push(details.join(' · '));
  if (opts.heartbeat)
    lines.push(t(locale, 'progress.still_working', { time: formatDuration(opts.now - state.startedAt) }));
  const preview = state.previewPath ? { previewPath: state.previewPath, previewSeq: state.previewSeq ?? 0 } : {};
  return { text: lines.join('\n'), percent: state.percent, bar, ...preview, isRunning: true };
}

/** ETAs jump around; rounding to 10 s (1 min above 10 min) keeps them from forcing an edit on every tick. */
function roundEta(ms: number): number {
  const step = ms > 600_000 ? 60_000 : 10_000;
  return Math.max(step, Math.round(ms / step) * step);
}

/** The one edit a running job's message gets when the bot shuts down: no Cancel (nobody would answer it). */
export function renderRestarting(shortId: string, locale: Locale): RenderedProgress {
  return { text: t(locale, 'progress.restarting', { id: shortId }), percent: 0, bar: '', isRunning: false };
}
