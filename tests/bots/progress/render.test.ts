import { describe, expect, it } from 'vitest';
import { estimateRemainingMs, progressBar, renderProgress } from '../../../src/bots/progress/render.js';

const job = { jobId: 'a', shortId: '1a2b3c4d', workflow: 'imagine', createdAt: 0 };

describe('progress text', () => {
  it('renders a queued job with its position, in both languages', () => {
    expect(renderProgress({ phase: 'queued', position: 2 }, job, 'en', { now: 0 }).text).toMatchInlineSnapshot(
      `"Queued — 2 ahead of you · job 1a2b3c4d"`,
    );
    expect(renderProgress({ phase: 'queued', position: 0 }, job, 'zh-TW', { now: 0 }).text).toMatchInlineSnapshot(
      `"排隊中 — 下一個就是你 · 任務 1a2b3c4d"`,
    );
  });

  it('renders a running job with bar, step, node and an ETA from history', () => {
    const text = renderProgress(
      {
        phase: 'running',
        percent: 57,
        startedAt: 0,
        node: 'sampler',
        nodeClass: 'KSampler',
        step: { value: 12, max: 20 },
      },
      { ...job, typicalMs: 100_000 },
      'en',
      { now: 40_000 },
    ).text;
    expect(text).toMatchInlineSnapshot(`
      "Generating · job 1a2b3c4d
      ███████░░░░░ 57%
      step 12/20 · node: KSampler · about 1:00 left"
    `);
  });

  it('adds "still working" with the elapsed time on a heartbeat', () => {
    const text = renderProgress({ phase: 'running', percent: 30, startedAt: 0, nodeClass: 'VAEDecode' }, job, 'zh-TW', {
      now: 221_000,
      heartbeat: true,
    }).text;
    expect(text.split('\n').at(-1)).toBe('仍在處理 · 3:41');
  });

  it('says when other prompts are ahead inside ComfyUI', () => {
    expect(
      renderProgress({ phase: 'running', percent: 0, startedAt: 0, comfyPosition: 3 }, job, 'en', {
        now: 0,
      }).text.split('\n')[0],
    ).toBe('Waiting for the GPU — 3 ahead in ComfyUI · job 1a2b3c4d');
  });

  it('says when the GPU server cannot be reached, without an ETA, in both languages', () => {
    const state = {
      phase: 'running' as const,
      percent: 40,
      startedAt: 0,
      nodeClass: 'KSampler',
      comfyPosition: 2,
      waitingForComfy: true,
    };
    expect(renderProgress(state, job, 'en', { now: 60_000 }).text).toMatchInlineSnapshot(`
      "Waiting for the GPU server… · job 1a2b3c4d
      █████░░░░░░░ 40%
      node: KSampler"
    `);
    expect(renderProgress(state, job, 'zh-TW', { now: 60_000 }).text).toMatchInlineSnapshot(`
      "正在等待 GPU 伺服器… · 任務 1a2b3c4d
      █████░░░░░░░ 40%
      節點：KSampler"
    `);
  });

  it('extrapolates the remaining time from the percent when history has nothing', () => {
    expect(estimateRemainingMs({ phase: 'running', percent: 25, startedAt: 0 }, job, 10_000)).toBe(30_000);
    expect(estimateRemainingMs({ phase: 'running', percent: 5, startedAt: 0 }, job, 10_000)).toBeUndefined();
    expect(estimateRemainingMs({ phase: 'queued', position: 1 }, { ...job, typicalMs: 60_000 }, 0)).toBe(120_000);
  });

  it('draws a bar of fixed width', () => {
    expect(progressBar(0)).toBe('░░░░░░░░░░░░');
    expect(progressBar(50)).toBe('██████░░░░░░');
    expect(progressBar(140)).toBe('████████████');
  });
});
