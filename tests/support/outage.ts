import type http from 'node:http';

/**
 * How calls fail during an outage:
 * - '5xx': answered at once with a server error (a gateway in front of the platform is up, the API is not);
 * - 'drop': the connection is destroyed without an answer (connections open when the outage starts, too);
 * - 'hang': accepted and never answered, a black hole; the connection is destroyed when the outage ends.
 */
export type OutageMode = '5xx' | 'drop' | 'hang';

export interface OutageOptions {
  mode: OutageMode;
  /** Ends by itself after this long; without it, it lasts until `end()`. */
  ms?: number;
  /** Only calls these patterns match (Telegram: method names; Discord: route prefixes). Unset: every API call. */
  only?: string[];
}

export interface Outage {
  /** Ends the outage now: calls are served again, held ('hang') connections are destroyed. */
  end(): void;
  /** Resolves when the outage ended (by itself or through `end()`). */
  ended: Promise<void>;
}

/**
 * The outage state a platform fake keeps: `keyOf` names an API call (method or path; undefined for what an outage
 * never touches, such as file downloads), `matches` says whether a key falls under one of `only`'s patterns.
 */
export function createOutages(
  keyOf: (req: http.IncomingMessage) => string | undefined,
  matches: (key: string, pattern: string) => boolean,
) {
  const open = new Map<http.ServerResponse, string>(); // responses not answered yet → their call's key
  let current: (OutageOptions & { held: Set<http.ServerResponse>; stop: () => void }) | undefined;
  const hits = (key: string) => current !== undefined && (!current.only || current.only.some((p) => matches(key, p)));

  return {
    /** Called for every request as it arrives, so a 'drop' outage can cut calls already in flight. */
    track(req: http.IncomingMessage, res: http.ServerResponse) {
      const key = keyOf(req);
      if (key === undefined) return;
      open.set(res, key);
      res.on('close', () => open.delete(res));
    },
    /** What the outage does to this call, if anything: 'drop' and 'hang' are already done, '5xx' is the fake's. */
    intercept(req: http.IncomingMessage, res: http.ServerResponse): OutageMode | undefined {
      const key = keyOf(req);
      if (!current || key === undefined || !hits(key)) return undefined;
      if (current.mode === 'drop') res.socket?.destroy();
      if (current.mode === 'hang') current.held.add(res);
      return current.mode;
    },
    start(opts: OutageOptions): Outage {
      current?.stop();
      let settle!: () => void;
      const ended = new Promise<void>((r) => (settle = r));
      const held = new Set<http.ServerResponse>();
      let timer: NodeJS.Timeout | undefined;
      const stop = () => {
        clearTimeout(timer);
        if (current === state) current = undefined;
        for (const res of held) res.socket?.destroy();
        settle();
      };
      const state = { ...opts, held, stop };
      if (opts.ms !== undefined) timer = setTimeout(stop, opts.ms);
      current = state;
      if (opts.mode === 'drop') for (const [res, key] of open) if (hits(key)) res.socket?.destroy();
      return { end: stop, ended };
    },
    close() {
      current?.stop();
    },
  };
}
