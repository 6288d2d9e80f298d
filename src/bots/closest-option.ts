import type { Param } from '../comfy/manifest.js';

/**
 * The option someone most likely meant by an unknown `--name`: a word people use for it elsewhere (`--ratio` for
 * `--aspect`, from other image generators' flags), else the name or alias a typo or two away (`--setps`). Only
 * options of this command are offered; undefined when nothing is close.
 */
const SYNONYMS: Record<string, readonly string[]> = {
  aspect: ['ratio', 'aspect_ratio', 'size', 'shape', 'format', 'orientation', 'width', 'height', 'resolution'],
  count: ['number', 'num', 'batch', 'batch_size', 'images', 'amount', 'quantity'],
  negative: ['negative_prompt', 'np', 'no', 'avoid', 'exclude'],
  model: ['checkpoint', 'ckpt', 'base'],
  steps: ['iterations', 'sampling_steps', 'quality'],
  cfg: ['guidance', 'cfg_scale', 'guidance_scale', 'scale'],
  guidance: ['cfg', 'cfg_scale', 'guidance_scale'],
  seconds: ['length', 'duration', 'secs', 'time'],
  factor: ['scale', 'times', 'zoom'],
  strength: ['denoise', 'weight'],
  denoise: ['strength', 'variation'],
};

export function closestOption(typed: string, options: readonly Param[]): string | undefined {
  const word = typed.toLowerCase().replace(/-/g, '_');
  const synonym = options.find((p) => SYNONYMS[p.name]?.includes(word));
  if (synonym) return synonym.name;
  let best: { name: string; distance: number } | undefined;
  for (const p of options)
    for (const name of [p.name, ...p.aliases]) {
      const distance = editDistance(word, name);
      // One slip in a short name, two in a longer one, and never a name that is mostly changed (`--x` is not `--n`).
      const allowed = Math.min(name.length >= 5 ? 2 : 1, name.length - 1);
      if (distance <= allowed && (!best || distance < best.distance)) best = { name, distance };
    }
  return best?.name;
}

/** Levenshtein distance where swapping two neighbouring letters counts as one slip (`setps` → `steps`). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  return (d[a.length] as number[])[b.length] as number;
}
