import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { t } from '../../i18n/index.js';
import type { FailureView, ProgressSink, ProgressView, ResultView } from '../progress/sink.js';

/**
 * The terminal frontend's sink: a live bar on a TTY (cli-progress), one line per change otherwise
 * (CI logs, pipes). Results are copied to --out when given; the paths are printed either way.
 */
export interface TerminalSinkOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  /** Copy results here (created if missing); else they stay under STORAGE_DIR/outputs/<jobId>/. */
  outDir?: string;
  onResultFiles?: (paths: string[]) => void;
}

export function createTerminalSink(opts: TerminalSinkOptions): ProgressSink {
  const isTTY = Boolean(opts.out.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  const oneLine = (text: string) =>
    text
      .split('\n')
      .filter((l) => !/[█░]/.test(l))
      .join(' · ');

  const stopBar = () => {
    bar?.stop();
    bar = undefined;
  };

  return {
    // A bar has no room for a picture; the reporter then sends no preview-only updates.
    showsPreviews: false,
    async showProgress(view: ProgressView) {
      if (!isTTY) {
        opts.out.write(`[${view.percent.toString().padStart(3)}%] ${oneLine(view.text)}\n`);
        return;
      }
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format: '{bar} {percentage}% | {status}',
            stream: opts.out as NodeJS.WritableStream,
            hideCursor: true,
            clearOnComplete: false,
            barsize: 24,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(100, view.percent, { status: oneLine(view.text) });
      } else bar.update(view.percent, { status: oneLine(view.text) });
    },
    async showResult(view: ResultView) {
      if (bar) bar.update(100, { status: `✔ ${t(view.locale, 'progress.job', { id: view.shortId })}` });
      stopBar();
      let paths = view.files.map((f) => f.absolutePath);
      if (opts.outDir) {
        await mkdir(opts.outDir, { recursive: true });
        paths = await Promise.all(
          view.files.map(async (f) => {
            const dest = path.join(opts.outDir as string, `${view.shortId}-${path.basename(f.absolutePath)}`);
            await copyFile(f.absolutePath, dest);
            return dest;
          }),
        );
      }
      opts.out.write(`${view.text}\n${paths.map((p) => `  ${p}`).join('\n')}\n`);
      opts.onResultFiles?.(paths);
    },
    async showFailure(view: FailureView) {
      stopBar();
      opts.out.write(`✘ ${view.text}\n`);
    },
  };
}
