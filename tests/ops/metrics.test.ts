import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { createMetrics } from '../../src/ops/metrics.js';
import { createProducer } from '../../src/queue/producer.js';
import { connectProducer } from '../../src/queue/redis.js';
import { labelValues, parseMetrics } from '../support/prometheus.js';

const named: Record<string, { type: string; labels: string[] }> = {
  comfy_relay_jobs_total: { type: 'COUNTER', labels: ['outcome', 'workflow'] },
  comfy_relay_job_duration_seconds: { type: 'HISTOGRAM', labels: ['workflow'] },
  comfy_relay_queue_wait_seconds: { type: 'HISTOGRAM', labels: ['workflow'] },
  comfy_relay_queue_depth: { type: 'GAUGE', labels: ['state'] },
  comfy_relay_failures_total: { type: 'COUNTER', labels: ['kind'] },
  comfy_relay_comfy_ws_reconnects_total: { type: 'COUNTER', labels: ['instance'] },
  comfy_relay_platform_api_calls_total: { type: 'COUNTER', labels: ['method', 'platform'] },
  comfy_relay_platform_api_errors_total: { type: 'COUNTER', labels: ['method', 'platform'] },
  comfy_relay_platform_429_total: { type: 'COUNTER', labels: ['method', 'platform'] },
  comfy_relay_progress_edits_total: { type: 'COUNTER', labels: ['result'] },
  comfy_relay_delivery_retries_total: { type: 'COUNTER', labels: ['platform'] },
};

function exercise(m: ReturnType<typeof createMetrics>) {
  m.setQueueDepthSource(async () => ({ waiting: 3, active: 1, completed: 7 }));
  m.jobStarted('imagine', 1.5);
  m.jobFinished('imagine', 'succeeded', 12);
  m.jobFinished('edit', 'cancelled');
  m.failure('unavailable');
  m.comfyReconnect('http://127.0.0.1:8188');
  m.platformCall('telegram', 'sendPhoto');
  m.platformCall('telegram', 'editMessageText', '429');
  m.platformCall('discord', 'editReply', 'error');
  m.progressEdit('sent');
  m.progressEdit('skipped');
  m.deliveryRetry('discord');
}

describe('metrics', () => {
  afterEach(() => void vi.useRealTimers());

  it('exposes every named metric with its labels', async () => {
    const m = createMetrics({ workflows: ['imagine', 'edit'], defaultMetrics: false });
    exercise(m);
    const families = parseMetrics(await m.text());
    for (const [name, want] of Object.entries(named)) {
      const f = families.get(name);
      expect(f?.type, name).toBe(want.type);
      for (const s of f?.metrics ?? []) expect(Object.keys(s.labels ?? {}).sort(), name).toEqual(want.labels);
    }
    const sample = (name: string, labels: Record<string, string>) =>
      families.get(name)?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
    expect(sample('comfy_relay_jobs_total', { workflow: 'imagine', outcome: 'succeeded' })?.value).toBe('1');
    expect(sample('comfy_relay_job_duration_seconds', { workflow: 'imagine' })?.sum).toBe('12');
    expect(sample('comfy_relay_queue_depth', { state: 'waiting' })?.value).toBe('3');
    expect(sample('comfy_relay_comfy_ws_reconnects_total', { instance: '127.0.0.1:8188' })?.value).toBe('1');
    expect(sample('comfy_relay_platform_429_total', { method: 'editMessageText' })?.value).toBe('1');
    // A 429 is an error as well; a plain success is neither.
    expect(sample('comfy_relay_platform_api_errors_total', { method: 'editMessageText' })?.value).toBe('1');
    expect(sample('comfy_relay_platform_api_errors_total', { method: 'sendPhoto' })).toBeUndefined();
  });

  it('starts job and failure counters at zero for every workflow and kind', async () => {
    const families = parseMetrics(await createMetrics({ workflows: ['imagine'], defaultMetrics: false }).text());
    const jobs = families.get('comfy_relay_jobs_total')?.metrics ?? [];
    expect(jobs.map((s) => `${s.labels?.workflow}/${s.labels?.outcome}=${s.value}`).sort()).toEqual([
      'imagine/cancelled=0',
      'imagine/failed=0',
      'imagine/succeeded=0',
      'other/cancelled=0',
      'other/failed=0',
      'other/succeeded=0',
    ]);
    expect(families.get('comfy_relay_failures_total')?.metrics.map((s) => s.labels?.kind)).not.toContain('cancelled');
  });

  it('never turns user ids, prompts or credentials into label values', async () => {
    const m = createMetrics({ workflows: ['imagine'], defaultMetrics: false });
    exercise(m);
    m.jobFinished('123456789012', 'failed');
    m.jobStarted('a fox in the snow', 1);
    m.platformCall('telegram', '987654321');
    m.comfyReconnect('http://admin:hunter2@gpu1:8188/comfy');
    const values = labelValues(parseMetrics(await m.text()));
    for (const secret of ['123456789012', 'a fox in the snow', '987654321', 'hunter2', 'admin', '/comfy'])
      expect(values.filter((v) => v.includes(secret))).toEqual([]);
    expect(values).toContain('gpu1:8188');
    expect(values).toContain('other');
  });

  it('keeps each registry to itself and collects process metrics into it', async () => {
    const a = createMetrics({ workflows: ['imagine'] });
    const b = createMetrics({ workflows: ['imagine'] });
    a.deliveryRetry('telegram');
    const fa = parseMetrics(await a.text());
    const fb = parseMetrics(await b.text());
    expect(fa.has('process_cpu_user_seconds_total')).toBe(true);
    expect(fa.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(fa.get('comfy_relay_delivery_retries_total')?.metrics).toHaveLength(1);
    expect(fb.get('comfy_relay_delivery_retries_total')?.metrics ?? []).toHaveLength(0);
  });

  it('reads queue depth from a real producer at every scrape', async () => {
    const redis = await connectProducer(inject('redisUrl'));
    const producer = createProducer({
      redis,
      prefix: `t${randomUUID().slice(0, 8)}`,
      workflows: ['imagine'],
    });
    try {
      const m = createMetrics({ workflows: ['imagine'], defaultMetrics: false });
      m.setQueueDepthSource(() => producer.counts());
      const waiting = async () =>
        parseMetrics(await m.text())
          .get('comfy_relay_queue_depth')
          ?.metrics.find((s) => s.labels?.state === 'waiting')?.value;
      expect(await waiting()).toBe('0');
      await producer.enqueue({
        jobId: randomUUID(),
        workflow: 'imagine',
        params: {},
        requestedBy: { platform: 'telegram', userId: '42' },
        createdAt: Date.now(),
      });
      expect(await waiting()).toBe('1');
    } finally {
      await producer.close();
      redis.disconnect();
    }
  });

  it('leaves queue depth out of a scrape when its source fails or hangs', async () => {
    const m = createMetrics({ defaultMetrics: false, depthTimeoutMs: 2000 });
    m.setQueueDepthSource(async () => {
      throw new Error('Stream isn’t writeable');
    });
    expect(parseMetrics(await m.text()).get('comfy_relay_queue_depth')?.metrics ?? []).toEqual([]);

    vi.useFakeTimers();
    m.setQueueDepthSource(() => new Promise(() => undefined));
    const scrape = m.text();
    await vi.advanceTimersByTimeAsync(2000);
    const families = parseMetrics(await scrape);
    expect(families.get('comfy_relay_queue_depth')?.metrics ?? []).toEqual([]);
    expect(families.has('comfy_relay_jobs_total')).toBe(true);
  });
});
