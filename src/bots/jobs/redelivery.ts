import type { JobRecord, JobsRepo } from '../../history/jobs-repo.js';
import type { Logger } from '../../logger.js';
import type { ProgressSink } from '../progress/sink.js';
import type { Follower } from './follower.js';

/** How often results whose delivery failed are tried again, and when they are given up. */
const REDELIVER_MS = 60_000;
const GIVE_UP_MS = 24 * 3_600_000;

type SinkFor = (r: JobRecord) => ProgressSink | undefined;

/**
 * What a platform owes its chats: at start-up, every unfinished job (followed again, same message) and every final
 * row not yet delivered; then, every minute, rows whose delivery failed meanwhile. A row owed for a day is given up.
 */
export function createRedelivery(deps: { repo: JobsRepo; follower: Follower; logger: Logger; now: () => number }) {
  const sinks = new Map<string, SinkFor>();
  const followAll = (rows: JobRecord[], sinkFor: SinkFor) =>
    rows.flatMap((r) => {
      if (deps.follower.isFollowing(r.id)) return [];
      const sink = sinkFor(r);
      return sink ? [deps.follower.follow(r, sink)] : [];
    });

  const timer = setInterval(() => {
    for (const [platform, sinkFor] of sinks) {
      const owed = deps.repo.undelivered(platform).filter((r) => {
        if (deps.now() - (r.finishedAt ?? deps.now()) <= GIVE_UP_MS) return true;
        deps.logger.warn({ jobId: r.id }, 'result owed for over a day; no longer retried');
        deps.repo.markDelivered(r.id);
        return false;
      });
      void Promise.all(followAll(owed, sinkFor));
    }
  }, REDELIVER_MS);
  timer.unref();

  return {
    reconcile(platform: string, sinkFor: SinkFor): Promise<void>[] {
      sinks.set(platform, sinkFor);
      return followAll([...deps.repo.unfinished(platform), ...deps.repo.undelivered(platform)], sinkFor);
    },
    close: () => clearInterval(timer),
  };
}
