import type { Catalog } from './en.js';

type P = Record<string, string | number>;
const s = (p: P, k: string) => String(p[k] ?? '');

export const zhTW = {
  'progress.queued': (p: P) => (Number(p.position) > 0 ? `排隊中 — 前面還有 ${s(p, 'position')} 個` : '排隊中 — 下一個就是你'),
  'progress.waiting_gpu': (p: P) => `等待 GPU — ComfyUI 中前面還有 ${s(p, 'position')} 個`,
  'progress.starting': '準備開始…',
  'progress.running': '生成中',
  'progress.step': (p: P) => `第 ${s(p, 'value')}/${s(p, 'max')} 步`,
  'progress.node': (p: P) => `節點：${s(p, 'node')}`,
  'progress.elapsed': (p: P) => `已用 ${s(p, 'time')}`,
  'progress.eta': (p: P) => `約剩 ${s(p, 'time')}`,
  'progress.still_working': (p: P) => `仍在處理 · ${s(p, 'time')}`,
  'progress.done': (p: P) => `完成，用時 ${s(p, 'time')} — 共 ${s(p, 'count')} 個檔案`,
  'progress.job': (p: P) => `任務 ${s(p, 'id')}`,
  'failure.cancelled': '已取消。',
  'failure.rejected': (p: P) => `ComfyUI 拒絕了這個工作流程${p.node ? `（節點 ${s(p, 'node')}）` : ''}：${s(p, 'message')}`,
  'failure.execution': (p: P) => `生成失敗${p.node ? `（節點 ${s(p, 'node')}）` : ''}：${s(p, 'message')}`,
  'failure.timeout': (p: P) => `逾時：${s(p, 'message')}`,
  'failure.invalid': (p: P) => `任務無效：${s(p, 'message')}`,
  'failure.unavailable': (p: P) => `多次重試後仍無法連上 ComfyUI：${s(p, 'message')}`,
  'failure.lost': (p: P) => `ComfyUI 遺失了這個任務（可能已重新啟動），重試後仍失敗：${s(p, 'message')}`,
  'failure.internal': (p: P) => `發生錯誤（參考編號 ${s(p, 'ref')}）。`,
  'error.invalid_options': (p: P) => `部分選項無效：\n${s(p, 'issues')}`,
  'error.unknown_option': (p: P) => `未知的選項 --${s(p, 'name')}。`,
  'error.prompt_too_long': (p: P) => `提示詞太長：${s(p, 'length')} 個字元，上限為 ${s(p, 'max')}。`,
  'error.unknown_workflow': (p: P) => `沒有名為「${s(p, 'name')}」的工作流程。`,
  'error.queue_unavailable': '目前無法連上任務佇列，請稍後再試。',
  'error.job_not_found': (p: P) => `找不到你的任務 ${s(p, 'id')}。`,
  'cli.saved': (p: P) => `已將 ${s(p, 'count')} 個檔案存到 ${s(p, 'dir')}`,
  'cli.cancelling': '正在取消…',
  'cli.local_worker': '目前沒有線上的 worker：本次任務將在此程序中執行一個。',
  'cli.usage': '用法：npm run cli -- <工作流程> "提示詞" [--選項 值 …] [--out 目錄] | doctor | workflows',
} satisfies Catalog;
