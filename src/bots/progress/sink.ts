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
  /**
   * Optional: waits for this message's turn in a send budget it shares with other messages (a chat's flood limit).
   * The reporter renders the view only once the turn came and shows it through `slot.run`; undefined means the
   * wait was given up (`signal` aborted, or a newer request for the same message took its place).
   */
  slot?(lane: ProgressLane, signal: AbortSignal): Promise<SendSlot | undefined>;
  /** False when new preview pictures are of no use to this sink (the terminal): views then never carry one. */
  readonly showsPreviews?: boolean;
  /**
   * Optional: how long the job's first message waits, so that a job done by then shows only its result (one send
   * instead of two or three). The platform shows some activity meanwhile (`showActivity`, or Discord's "thinking…").
   */
  readonly graceMs?: number;
  /** Optional: a sign of life while the first message waits for its grace (Telegram: "sending a photo…"). */
  showActivity?(): Promise<void>;
}

/**
 * What a turn is for, most urgent first: a job running while its message does not say so yet (`started`), a queued
 * job's first message (`queued`), newer percentages and previews (`progress`), "still working" ticks (`heartbeat`),
 * which go only when the budget has room to spare.
 */
export type ProgressLane = 'started' | 'queued' | 'progress' | 'heartbeat';

/** A granted turn: `run` makes the sink call that spends it, `release` hands it back unused. */
export interface SendSlot {
  run<T>(send: () => Promise<T>): Promise<T>;
  release(): void;
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
  /** The job took long (NOTIFY_AFTER_S): besides the edit, which notifies nobody, ping the user. */
  notify?: boolean;
  /** Pictures and videos hidden until tapped (the user's /settings, or the chat's policy set by its admins). */
  spoiler?: boolean;
}

export interface FailureView {
  jobId: string;
  shortId: string;
  locale: Locale;
  failure: Failure;
  text: string;
  /** As in ResultView. */
  notify?: boolean;
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
