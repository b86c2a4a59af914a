// Throttled writes of live positions: a courier streams 10 fixes a second, the database needs one every few seconds.
import type { TrackingLog } from './tracking-ports';

/** A per-key write rate limit that always writes the latest value in the end. */
export interface Throttle<V> {
  /** Offers the key's newest value; it is written now, or when the key's interval has passed (only the newest). */
  offer(key: string, value: V): void;
  /** Writes every pending value now (ignoring the interval) and waits for the writes in flight. */
  flush(): Promise<void>;
  /** Forgets keys with nothing pending or in flight whose last write started more than `idleMs` ago. */
  sweep(idleMs: number): void;
  /** Keys currently remembered (for tests and stats). */
  readonly size: number;
}

interface KeyState<V> {
  lastStartMs: number;
  pending?: { value: V };
  timer?: ReturnType<typeof setTimeout>;
  inFlight?: Promise<void>;
}

/**
 * Writes each key's value at most once every `intervalMs` (leading edge: the first value at once), never two writes
 * of one key at a time, and the last value offered always gets written (trailing edge), so a courier that stops
 * reporting still has its final position stored. A failed write is reported to `onError` and not retried: the next
 * offer writes newer data anyway.
 */
export function createThrottle<V>(options: {
  intervalMs: number;
  write: (key: string, value: V) => Promise<void>;
  onError: (key: string, error: unknown) => void;
  now: () => number;
}): Throttle<V> {
  const states = new Map<string, KeyState<V>>();

  function schedule(key: string, state: KeyState<V>): void {
    if (!state.pending || state.inFlight || state.timer) return;
    const wait = state.lastStartMs + options.intervalMs - options.now();
    if (wait <= 0) {
      run(key, state);
      return;
    }
    state.timer = setTimeout(() => {
      state.timer = undefined;
      schedule(key, state);
    }, wait);
    // A pending position must not keep a stopping process alive; close() flushes it instead.
    state.timer.unref?.();
  }

  function run(key: string, state: KeyState<V>): void {
    const pending = state.pending;
    if (!pending) return;
    state.pending = undefined;
    state.lastStartMs = options.now();
    state.inFlight = (async () => {
      try {
        await options.write(key, pending.value);
      } catch (error) {
        options.onError(key, error);
      }
    })().finally(() => {
      state.inFlight = undefined;
      schedule(key, state);
    });
  }

  return {
    offer(key, value) {
      let state = states.get(key);
      if (!state) {
        state = { lastStartMs: -Infinity };
        states.set(key, state);
      }
      state.pending = { value };
      schedule(key, state);
    },
    async flush() {
      const waits: Promise<void>[] = [];
      for (const [key, state] of states) {
        if (state.timer) {
          clearTimeout(state.timer);
          state.timer = undefined;
        }
        if (state.inFlight) {
          // The write in flight would schedule the pending one after the interval: write it right after instead.
          waits.push(state.inFlight.then(() => run(key, state)).then(() => state.inFlight));
        } else {
          run(key, state);
          if (state.inFlight) waits.push(state.inFlight);
        }
      }
      await Promise.all(waits);
    },
    sweep(idleMs) {
      const now = options.now();
      for (const [key, state] of states) {
        if (!state.pending && !state.inFlight && !state.timer && now - state.lastStartMs > idleMs) states.delete(key);
      }
    },
    get size() {
      return states.size;
    },
  };
}

/**
 * Logs a failing throttled write at most once per `everyMs` per kind, with how many failed since: a database outage
 * with a thousand couriers streaming must not flood the log.
 */
export function failureReporter(log: TrackingLog, now: () => number, everyMs = 10_000) {
  const last = new Map<string, { atMs: number; suppressed: number }>();
  return (kind: string, key: string, error: unknown): void => {
    const seen = last.get(kind);
    const at = now();
    if (seen && at - seen.atMs < everyMs) {
      seen.suppressed++;
      return;
    }
    log.warn(
      { err: error, write: kind, key, failedSinceLastReport: seen?.suppressed ?? 0 },
      `Tracking write ${kind} failed; the live stream goes on and the next write carries newer data`,
    );
    last.set(kind, { atMs: at, suppressed: 0 });
  };
}
