import { formatDuration, t } from '../i18n/index.js';
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
