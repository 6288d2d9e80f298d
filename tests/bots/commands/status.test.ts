import { describe, expect, it } from 'vitest';
import type { Producer, WorkerInfo } from '../../../src/queue/producer.js';
import { strictCommandDeps } from '../../support/command-deps.js';
import { dispatcherFor, memoryRepo, recordingContext, seedJob, strict } from '../../support/doubles.js';

function setup(counts: Record<string, number>, workers: WorkerInfo[]) {
  const repo = memoryRepo();
  const producer = strict<Producer>('producer', {
    counts: async () => counts,
    onlineWorkers: async () => workers,
  });
  return { repo, d: dispatcherFor(strictCommandDeps({ repo, producer, jobTimeoutMs: 3_600_000 })) };
}

describe('/status', () => {
  it('sums the queue, names the workers and counts the history, for admins', async () => {
    const { repo, d } = setup({ waiting: 2, prioritized: 1, active: 1, failed: 4, completed: 9 }, [
      {
        id: 'w1',
        comfyUrl: 'http://gpu-a:8188',
        busyJobId: 'abcdef0123',
        gpu: { name: 'cuda:0 NVIDIA GeForce RTX 4090', vramTotal: 24 * 1024 ** 3, vramFree: 18.25 * 1024 ** 3 },
      },
      { id: 'w2', comfyUrl: 'http://gpu-b:8188' },
    ]);
    seedJob(repo, { status: 'succeeded' });
    seedJob(repo, { status: 'succeeded', userId: '2' });
    seedJob(repo, { status: 'failed' });
    seedJob(repo, { status: 'cancelled' });
    seedJob(repo, { status: 'queued' });
    seedJob(repo, { status: 'running', at: Date.now() - 2 * 3_600_000, id: '0badc0de-0000-4000-8000-000000000000' });
    const c = recordingContext({ user: { isAdmin: true } });
    await d.command('status', { text: '' }, c.ctx);
    expect(c.calls).toMatchInlineSnapshot(`
      [
        {
          "op": "reply",
          "reply": {
            "private": true,
            "text": "Queue: 3 waiting, 1 running, 4 failed
      Workers online: 2
      • http://gpu-a:8188 — busy (job abcdef01) · cuda:0 NVIDIA GeForce RTX 4090 · VRAM 18.3 of 24.0 GB free
      • http://gpu-b:8188 — idle
      Stuck (unfinished after 1:10:00): 0badc0de (imagine, running)
      History: 2 done, 1 failed, 1 cancelled",
          },
        },
      ]
    `);
  });

  it('reads zero for an empty queue and no workers', async () => {
    const { d } = setup({}, []);
    const c = recordingContext({ user: { isAdmin: true, locale: 'zh-TW' } });
    await d.command('status', { text: '' }, c.ctx);
    expect(c.replies[0]?.text).toMatchInlineSnapshot(`
      "佇列：0 個等待、0 個執行中、0 個失敗
      線上工作節點：0
      歷史：0 個完成、0 個失敗、0 個已取消"
    `);
  });

  it('is refused to everyone else without reading the queue', async () => {
    const { d } = setup({}, []);
    const c = recordingContext();
    await d.command('status', { text: '' }, c.ctx);
    expect(c.ops).toEqual(['fail']);
  });
});
