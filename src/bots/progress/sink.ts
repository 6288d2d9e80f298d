import type { Locale } from '../../i18n/index.js';
import type { Failure, OutputFile } from '../../queue/contracts.js';
import type { RenderedProgress } from './render.js';

/**
 * What a frontend implements to show one job: the terminal draws a bar, Telegram and Discord edit a
 * message. The reporter guarantees at most one call in flight per sink and no repeated identical progress.
 */
export interface ProgressSink {
  showProgress(view: ProgressView): Promise<void>;
  showResult(view: ResultView): Promise<void>;
  showFailure(view: FailureView): Promise<void>;
}

export interface ProgressView extends RenderedProgress {
  jobId: string;
  shortId: string;
  locale: Locale;
  /** The Cancel control makes sense (queued or running). */
  canCancel: boolean;
}

export interface ResultView {
  jobId: string;
  shortId: string;
  locale: Locale;
  workflow: string;
  params: Record<string, unknown>;
  /** Absolute paths under STORAGE_DIR/outputs/<jobId>/. */
  files: Array<OutputFile & { absolutePath: string }>;
  durationMs: number;
  text: string;
}

export interface FailureView {
  jobId: string;
  shortId: string;
  locale: Locale;
  failure: Failure;
  text: string;
}

/** A sink's way of saying a retry cannot help (the user blocked the bot, the chat is gone): delivery gives up. */
export class PermanentDeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentDeliveryError';
  }
}

export const isPermanentDeliveryError = (e: unknown): e is PermanentDeliveryError =>
  e instanceof PermanentDeliveryError;
