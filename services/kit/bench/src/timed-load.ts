// The load runner of every benchmark: runs bounded by time and by count, outcomes other than success counted apart
// from errors, latency percentiles.
import type { LoadResult } from './index';

/** One measured operation: kit-bench's figures plus p95, the successes and every other outcome by name. */
export interface TimedResult extends LoadResult {
  concurrency: number;
  p95: number;
  /** Calls that answered the expected outcome (e.g. an order CONFIRMED). */
  ok: number;
  /** Calls that answered something else (e.g. an order REJECTED), by outcome. */
  outcomes: Record<string, number>;
  /** The first error and the first other outcome seen, for the report. */
  firstError?: string;
  firstOutcome?: string;
  /** Seconds after the run until every service's outbox was empty (the relays' deferred work), when measured. */
  drainSeconds?: number;
}

/** What one call answered: the expected outcome (`true`), or the name of another one and why. */
export type Outcome = true | { outcome: string; detail?: string };

/**
 * Runs `op` with `concurrency` callers in flight until `seconds` have passed or `max` calls were started, whichever
 * comes first; every call started is awaited and timed. Failures are counted, not thrown.
 */
export async function runTimed(
  name: string,
  concurrency: number,
  /** Stop starting calls after `seconds` (Infinity: no time bound) or `max` calls, whichever comes first. */
  bounds: { seconds: number; max: number },
  op: (i: number) => Promise<Outcome>,
): Promise<TimedResult> {
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let next = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  let firstOutcome: string | undefined;
  const started = process.hrtime.bigint();
  // An infinite time bound (count-bounded runs) never stops a worker.
  const deadline = Number.isFinite(bounds.seconds) ? started + BigInt(Math.round(bounds.seconds * 1e9)) : undefined;
  const worker = async () => {
    while (next < bounds.max && (deadline === undefined || process.hrtime.bigint() < deadline)) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      try {
        const answer = await op(i);
        if (answer === true) ok++;
        else {
          outcomes[answer.outcome] = (outcomes[answer.outcome] ?? 0) + 1;
          firstOutcome ??= `${answer.outcome}${answer.detail ? `: ${answer.detail}` : ''}`;
        }
      } catch (error) {
        errors++;
        firstError ??= String(error);
      }
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  const others = Object.values(outcomes).reduce((a, b) => a + b, 0);
  const result: TimedResult = {
    name,
    concurrency,
    ops: latencies.length,
    ok,
    errors,
    outcomes,
    seconds,
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    ...(firstError ? { firstError } : {}),
    ...(firstOutcome ? { firstOutcome } : {}),
  };
  process.stderr.write(
    `[bench] ${name}: ${(ok / seconds).toFixed(1)} ok/s over ${seconds.toFixed(1)} s (${latencies.length} calls) ` +
      `p50 ${result.p50.toFixed(1)} p95 ${result.p95.toFixed(1)} p99 ${result.p99.toFixed(1)} ms; ` +
      `errors ${errors}, other outcomes ${others}\n`,
  );
  if (firstError) process.stderr.write(`[bench]   first error: ${firstError}\n`);
  if (firstOutcome) process.stderr.write(`[bench]   first other outcome: ${firstOutcome}\n`);
  return result;
}

/** The markdown table of timed results: successes per second, latency percentiles, errors and other outcomes. */
export function timedTable(results: TimedResult[]): string {
  const rows = results.map((r) => {
    const others = Object.entries(r.outcomes)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
    return (
      `| ${r.name} | ${r.concurrency} | ${(r.ok / r.seconds).toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ` +
      `${r.p99.toFixed(1)} | ${r.ops} | ${r.errors} | ${others || 0} | ${r.drainSeconds?.toFixed(1) ?? 'n/a'} |`
    );
  });
  return [
    '| operation | c | ok/s | p50 ms | p95 ms | p99 ms | calls | errors | other outcomes | outbox drain s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---:|',
    ...rows,
  ].join('\n');
}
