import path from 'node:path';
import { formatDuration, type Locale, t } from '../i18n/index.js';
import type { ResultView } from './progress/sink.js';

/** The caption under a result (prompt, seed, time, job id), cut to a platform's limit by shortening the prompt only. */
export function resultCaption(view: ResultView, maxLength: number): string {
  const prompt = String(view.params.prompt ?? view.params.instruction ?? view.workflow);
  const facts = { seed: String(view.params.seed ?? '–'), time: formatDuration(view.durationMs), id: view.shortId };
  const room = maxLength - t(view.locale, 'bot.result_caption', { prompt: '', ...facts }).length - 1;
  return t(view.locale, 'bot.result_caption', {
    prompt: prompt.length > room ? `${prompt.slice(0, Math.max(0, room - 1))}…` : prompt,
    ...facts,
  });
}

/**
 * The note for a result file above the platform's upload cap: a download link when the deployment has a public
 * address, else a note that the file was kept. `unit` is how the platform counts a megabyte (Discord: MiB).
 */
export function oversizeText(
  locale: Locale,
  relativePath: string,
  size: number,
  max: number,
  linkFor: ((relativePath: string) => { url: string; hours: number } | undefined) | undefined,
  unit = 1e6,
): string {
  const name = path.basename(relativePath);
  const mb = (size / unit).toFixed(1);
  const link = linkFor?.(relativePath);
  return link
    ? t(locale, 'bot.file_link', { name, size: mb, hours: link.hours, url: link.url })
    : t(locale, 'bot.file_skipped', { name, size: mb, max: Math.round(max / unit) });
}
