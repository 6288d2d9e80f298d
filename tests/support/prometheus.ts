import parsePrometheusTextFormat, { type PromFamily, type PromSample } from 'parse-prometheus-text-format';

/**
 * /metrics text → families by name, through a real Prometheus text-format parser.
 * parse-prometheus-text-format 1.1.1 folds a histogram's samples into one and drops their labels when the histogram
 * has labels besides `le`; so histograms are read a second time with their TYPE lines removed (each _bucket, _sum
 * and _count line then parses as a plain labelled sample) and put back together per label set.
 */
export function parseMetrics(text: string): Map<string, PromFamily> {
  const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
  const histograms = [...families.values()].filter((f) => f.type === 'HISTOGRAM').map((f) => f.name);
  if (histograms.length === 0) return families;
  const untyped = text
    .split('\n')
    .filter((l) => !/^# TYPE \S+ histogram$/.test(l))
    .join('\n');
  const raw = new Map(parsePrometheusTextFormat(untyped).map((f) => [f.name, f.metrics]));
  for (const name of histograms) {
    const byLabels = new Map<string, PromSample>();
    const entry = (labels: Record<string, string>) => {
      const key = JSON.stringify(Object.entries(labels).sort());
      let s = byLabels.get(key);
      if (!s) byLabels.set(key, (s = { labels, buckets: {} }));
      return s;
    };
    for (const s of raw.get(`${name}_bucket`) ?? []) {
      const { le, ...labels } = s.labels ?? {};
      (entry(labels).buckets as Record<string, string>)[le as string] = s.value as string;
    }
    for (const s of raw.get(`${name}_sum`) ?? []) entry(s.labels ?? {}).sum = s.value;
    for (const s of raw.get(`${name}_count`) ?? []) entry(s.labels ?? {}).count = s.value;
    (families.get(name) as PromFamily).metrics = [...byLabels.values()];
  }
  return families;
}

/** Every label value of every sample, for "no user id ever becomes a label" checks. */
export function labelValues(families: Map<string, PromFamily>): string[] {
  return [...families.values()].flatMap((f) => f.metrics.flatMap((m) => Object.values(m.labels ?? {})));
}
