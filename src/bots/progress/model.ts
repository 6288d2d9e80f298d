/** The platform-neutral state of one job's progress, as every frontend sees it. */
export type ProgressState =
  | { phase: 'queued'; position: number }
  | {
      phase: 'running';
      percent: number;
      startedAt: number;
      node?: string;
      nodeClass?: string;
      step?: { value: number; max: number };
      /** Prompts of others ahead of ours inside ComfyUI's own queue. */
      comfyPosition?: number;
      /** ComfyUI cannot be reached right now; the job waits for it (or is retried once it is back). */
      waitingForComfy?: boolean;
      /** Absolute path of the latest preview image, when the workflow produces previews. */
      previewPath?: string;
      previewSeq?: number;
    };

export interface JobInfo {
  jobId: string;
  shortId: string;
  workflow: string;
  createdAt: number;
  /** Median of recent run times of this workflow (ms), when history has any. */
  typicalMs?: number;
}
