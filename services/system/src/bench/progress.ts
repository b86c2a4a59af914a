// Progress on stderr while a scenario runs, and the load runner every scenario shares: bounded by count and time,
// each call timed and classified (ok, another outcome, an error), with a progress line every few seconds.
import { settings } from './settings';

/** A line on stderr, prefixed like every bench line. */
export function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** What one call answered: ok, or another outcome by name (an expected refusal, an order REJECTED, …). */
export type Answer = { ok: true; tag?: string } | { ok: false; outcome: string; detail?: string; tag?: string };

/** Latencies and counts of one load, overall and by tag (e.g. the kind of order). */
export interface LoadStats {
  name: string;
  concurrency: number;
  seconds: number;
  calls: number;
  ok: number;
  errors: number;
  outcomes: Record<string, number>;
  firstError?: string;
  firstOutcome?: string;
  /** Every call's latency in ms, in the order they finished, with its tag and whether it was ok. */
  samples: { ms: number; tag: string; ok: boolean; outcome: string }[];
}

/** Counts shown by a progress ticker. */
export interface Progress {
  done: number;
  errors: number;
  other: number;
}

/** Prints "scenario: done/total, rate, errors" every BENCH_PROGRESS_SECONDS until `stop()`. */
export function ticker(name: string, total: number | undefined, read: () => Progress): { stop(): void } {
  const started = Date.now();
  const every = Math.max(1, settings.progressSeconds) * 1000;
  const timer = setInterval(() => {
    const p = read();
    const seconds = (Date.now() - started) / 1000;
    log(
      `${name}: ${p.done}${total === undefined ? '' : `/${total}`} done in ${seconds.toFixed(0)} s ` +
        `(${(p.done / seconds).toFixed(1)}/s), errors ${p.errors}, other outcomes ${p.other}`,
    );
  }, every);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * Runs `op` for i = 0..total-1 with `concurrency` callers in flight, until every call was made or `maxSeconds`
 * passed (then no new call starts; the ones in flight are awaited). Failures are counted, never thrown.
 */
export async function runLoad(
  name: string,
  options: { total: number; concurrency: number; maxSeconds: number },
  op: (i: number) => Promise<Answer>,
): Promise<LoadStats> {
  const stats: LoadStats = {
    name,
    concurrency: options.concurrency,
    seconds: 0,
    calls: 0,
    ok: 0,
    errors: 0,
    outcomes: {},
    samples: [],
  };
  const deadline = options.maxSeconds > 0 ? Date.now() + options.maxSeconds * 1000 : Infinity;
  let next = 0;
  const progress = ticker(name, options.total, () => ({
    done: stats.calls,
    errors: stats.errors,
    other: Object.values(stats.outcomes).reduce((a, b) => a + b, 0),
  }));
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < options.total && Date.now() < deadline) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      let answer: Answer;
      try {
        answer = await op(i);
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        answer = { ok: false, outcome: 'error', detail: text };
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      stats.calls++;
      if (answer.ok) stats.ok++;
      else if (answer.outcome === 'error') {
        stats.errors++;
        stats.firstError ??= answer.detail;
      } else {
        stats.outcomes[answer.outcome] = (stats.outcomes[answer.outcome] ?? 0) + 1;
        stats.firstOutcome ??= `${answer.outcome}${answer.detail ? `: ${answer.detail.slice(0, 300)}` : ''}`;
      }
      stats.samples.push({ ms, tag: answer.tag ?? '', ok: answer.ok, outcome: answer.ok ? 'ok' : answer.outcome });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.total) }, worker));
  } finally {
    progress.stop();
  }
  stats.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (next < options.total)
    log(`${name}: stopped after ${options.maxSeconds} s with ${next}/${options.total} calls made`);
  log(
    `${name}: ${stats.calls} calls in ${stats.seconds.toFixed(1)} s, ok ${stats.ok}, errors ${stats.errors}, ` +
      `other ${JSON.stringify(stats.outcomes)}${stats.firstError ? `; first error: ${stats.firstError.slice(0, 300)}` : ''}`,
  );
  return stats;
}

/** The p-th percentile of sorted values (nearest rank), NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** p50/p95/p99/max of some latencies. */
export function percentiles(values: number[]): { p50: number; p95: number; p99: number; max: number; n: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    n: sorted.length,
  };
}

/** A latency for a table: whole ms from 100, one decimal below, "–" when there is none. */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}
