import { describe, expect, it } from 'vitest';
import { loadWorkflows } from '../../src/comfy/workflows.js';
import { type Candidate, choose, type GpuState, modelOf } from '../../src/queue/gpu-picker.js';
import { testConfig } from '../support/config.js';

const job = (jobId: string, model?: string, workflow = 'imagine'): Candidate => ({
  workflow,
  jobId,
  rank: 1,
  priority: 2,
  timestamp: 0,
  model,
});
const gpu = (id: string, model: string | undefined, isIdle: boolean, workflows = ['imagine', 'video']): GpuState => ({
  id,
  comfyUrl: `http://${id}`,
  model,
  isIdle,
  workflows,
  at: 0,
});

function pick(
  waiting: Candidate[],
  me: string | undefined,
  others: GpuState[],
  opts: { now?: number; left?: Map<string, number> } = {},
) {
  const leftSince = opts.left ?? new Map<string, number>();
  const picked = choose({
    waiting,
    me: { id: 'me', model: me },
    others,
    leftSince,
    now: opts.now ?? 1000,
    graceMs: 10_000,
  });
  return { picked: picked?.jobId, leftSince };
}

describe('which job a free GPU takes', () => {
  it('takes the head when it is warm for its model, or the job loads none', () => {
    expect(pick([job('1', 'A'), job('2', 'B')], 'A', [gpu('g2', 'A', true)]).picked).toBe('1');
    expect(pick([job('1')], 'A', [gpu('g2', undefined, true)]).picked).toBe('1');
  });

  it('leaves a job to an idle GPU that has its model loaded', () => {
    const { picked, leftSince } = pick([job('1', 'B')], 'A', [gpu('g2', 'B', true)]);
    expect(picked).toBeUndefined();
    expect(leftSince.get('1')).toBe(1000);
  });

  it('leaves it to a busy warm GPU while jobs of its own model wait behind, but no longer than the grace', () => {
    const waiting = [job('1', 'B'), job('2', 'A')];
    const others = [gpu('g2', 'B', false)];
    const left = new Map<string, number>();
    expect(pick(waiting, 'A', others, { left }).picked).toBeUndefined();
    expect(pick(waiting, 'A', others, { left, now: 10_999 }).picked).toBeUndefined();
    expect(pick(waiting, 'A', others, { left, now: 11_000 }).picked).toBe('1');
  });

  it('switches model at once when nothing of its own model waits (a burst of one model spreads over every GPU)', () => {
    expect(pick([job('1', 'B'), job('2', 'B')], 'A', [gpu('g2', 'B', false)]).picked).toBe('1');
  });

  it('lets an idle GPU that has run nothing yet load a model before one that would lose its own', () => {
    expect(pick([job('1', 'B')], 'A', [gpu('g2', undefined, true)]).picked).toBeUndefined();
    expect(pick([job('1', 'B')], undefined, [gpu('g2', 'A', true)]).picked).toBe('1');
  });

  it('a GPU that has run nothing leaves a job only to an idle warm GPU', () => {
    expect(pick([job('1', 'B')], undefined, [gpu('g2', 'B', true)]).picked).toBeUndefined();
    expect(pick([job('1', 'B'), job('2', 'C')], undefined, [gpu('g2', 'B', false)]).picked).toBe('1');
  });

  it('ignores GPUs that cannot run the job’s workflow', () => {
    expect(pick([job('1', 'B')], 'A', [gpu('g2', 'B', true, ['video'])]).picked).toBe('1');
  });

  it('takes another queue’s head it is warm for while the first is left to a warm GPU', () => {
    const waiting = [job('1', 'B', 'imagine'), job('2', 'C', 'imagine'), job('3', 'A', 'video')];
    expect(pick(waiting, 'A', [gpu('g2', 'B', true)]).picked).toBe('3');
  });

  it('only takes queue heads: a warm job behind a left one in the same queue waits', () => {
    const waiting = [job('1', 'B'), job('2', 'A')];
    expect(pick(waiting, 'A', [gpu('g2', 'B', true)]).picked).toBeUndefined();
  });
});

describe('the model a job loads', () => {
  const workflows = loadWorkflows(testConfig().workflowsDir);

  it('is the checkpoint the job chose, else the workflow’s own', () => {
    const data = (params: Record<string, unknown>) => ({ workflow: 'imagine', params: { prompt: 'a fox', ...params } });
    expect(modelOf(workflows, data({ model: 'dreamshaper_8.safetensors' }))).toBe('dreamshaper_8.safetensors');
    expect(modelOf(workflows, data({}))).toBe('v1-5-pruned-emaonly.safetensors');
  });

  it('is the diffusion model for UNet workflows, and nothing for a workflow that loads none', () => {
    expect(modelOf(workflows, { workflow: 'edit', params: {} })).toBe('flux1-dev-kontext_fp8_scaled.safetensors');
    expect(modelOf(workflows, { workflow: 'upscale', params: {} })).toBeUndefined();
    expect(modelOf(workflows, { workflow: 'nope', params: {} })).toBeUndefined();
  });
});
