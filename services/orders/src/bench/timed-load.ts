// What the orders benchmark adds to kit-bench: runs bounded by time as well as by count, outcomes other than
// success counted apart from errors, p95, and the resident memory of the service processes.
import { readFileSync } from 'node:fs';
import type { LoadResult } from '@o2o/kit-bench';

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
  const deadline = started + BigInt(Math.round(bounds.seconds * 1e9));
  const worker = async () => {
    while (next < bounds.max && process.hrtime.bigint() < deadline) {
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

/** Resident and peak resident memory of a process in MiB (Linux /proc), or undefined when it cannot be read. */
export function memoryOf(pid: number | undefined): { rssMiB: number; peakMiB: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by each process (Linux /proc), and by the whole machine (busy and all). */
export interface CpuSnapshot {
  at: number;
  processes: Record<string, number | undefined>;
  machineBusy: number;
  machineAll: number;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** Reads the CPU times of these processes (by label) and of the machine; missing ones are undefined. */
export function cpuSnapshot(pids: Record<string, number | undefined>): CpuSnapshot {
  const processes: Record<string, number | undefined> = {};
  for (const [label, pid] of Object.entries(pids)) {
    try {
      if (pid === undefined) throw new Error('no pid');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      processes[label] = (Number(fields[11]) + Number(fields[12])) / TICKS;
    } catch {
      processes[label] = undefined;
    }
  }
  let machineBusy = NaN;
  let machineAll = NaN;
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    machineAll = cpu.reduce((a, b) => a + b, 0) / TICKS;
    machineBusy = machineAll - (cpu[3]! + cpu[4]!) / TICKS;
  } catch {
    // not Linux: machine figures stay NaN
  }
  return { at: Date.now(), processes, machineBusy, machineAll };
}

/** CPU use between two snapshots: seconds per process, the machine's busy cores, and what nobody listed used. */
export function cpuBetween(
  before: CpuSnapshot,
  after: CpuSnapshot,
): { seconds: number; processes: Record<string, number | undefined>; busyCores: number; othersCores: number } {
  const seconds = (after.at - before.at) / 1000;
  const processes: Record<string, number | undefined> = {};
  let listed = 0;
  for (const label of Object.keys(after.processes)) {
    const a = after.processes[label];
    const b = before.processes[label];
    processes[label] = a === undefined || b === undefined ? undefined : a - b;
    listed += processes[label] ?? 0;
  }
  const busy = after.machineBusy - before.machineBusy;
  return { seconds, processes, busyCores: busy / seconds, othersCores: (busy - listed) / seconds };
}
