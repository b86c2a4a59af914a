// @o2o/kit-bench: what every benchmark script needs. Benchmarks are bounded by count, target loopback only, and
// report figures with the machine and settings they ran on (docs/benchmarks.md).
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import os from 'node:os';
import type { Readable } from 'node:stream';
import { runTimed } from './timed-load';

export { runTimed, timedTable, type Outcome, type TimedResult } from './timed-load';
export { cpuBetween, cpuSnapshot, memoryOf, type CpuSnapshot } from './process-stats';
export { APPROVED_CARD, homeDeliveryOrder, SAMPLE_DELIVERY_POINT, sampleLocation } from './sample-orders';

/** One measured operation: how many, how long, the latency percentiles, and how many failed. */
export interface LoadResult {
  name: string;
  ops: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

/** Runs `op` `total` times with `concurrency` callers in flight, timing each call; failures are counted, not thrown. */
export async function runLoad(
  name: string,
  total: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<LoadResult> {
  const result = await runTimed(name, concurrency, { seconds: Infinity, max: total }, async (i) => {
    await op(i);
    return true;
  });
  return { name, ops: result.ops, errors: result.errors, seconds: result.seconds, p50: result.p50, p99: result.p99 };
}

/** A service started as its own Node process; resolves with the gRPC port it logged once listening. */
export async function startServiceProcess(
  bin: string,
  env: Record<string, string | undefined>,
): Promise<{ port: number; child: ChildProcessByStdio<null, Readable, null>; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [bin], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const m = /"port":(\d+)[^\n]*"msg":"gRPC server listening"/.exec(buffer);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`${bin} exited with ${code}`)));
  });
  child.stdout.resume();
  return {
    port,
    child,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    },
  };
}

/** The markdown table rows of results: ops/s, p50, p99, errors. */
export function resultTable(results: LoadResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${(r.ops / r.seconds).toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |`,
  );
  return ['| operation | ops/s | p50 ms | p99 ms | errors |', '|---|---:|---:|---:|---:|', ...rows].join('\n');
}

/** One line naming the machine the figures came from. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `Machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}.`;
}
