// @o2o/kit-bench: what every benchmark script needs. Benchmarks are bounded by count, target loopback only, and
// report figures with the machine and settings they ran on (docs/benchmarks.md).
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import os from 'node:os';
import type { Readable } from 'node:stream';

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
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const t0 = process.hrtime.bigint();
      try {
        await op(i);
      } catch (error) {
        if (errors++ === 0) process.stderr.write(`[bench] first error in ${name}: ${String(error)}\n`);
      }
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  const result = { name, ops: total, errors, seconds, p50: pct(50), p99: pct(99) };
  process.stderr.write(
    `[bench] ${name}: ${(total / seconds).toFixed(0)}/s p50 ${result.p50.toFixed(2)} ms p99 ${result.p99.toFixed(2)} ms errors ${errors}\n`,
  );
  return result;
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
