// The report's building blocks: what every scenario hands back, the memory of every process at the end of a
// scenario, and markdown tables.
import { memoryOf } from '@o2o/kit-bench';
import { ms, percentiles } from './progress';

/** What a scenario hands back: its section of the report, and whether its checks held (else the bench fails). */
export interface ScenarioResult {
  title: string;
  markdown: string;
  /** Checks that failed (empty: all held). */
  failures: string[];
  json: unknown;
}

/** Resident memory (MiB) of every process the figures cover, read now. */
export function memorySample(pids: Record<string, number | undefined>): Record<string, number | undefined> {
  return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, memoryOf(pid)?.rssMiB]));
}

/** One markdown table row per sample: RSS MiB of each process. */
export function memoryTable(rows: { after: string; mib: Record<string, number | undefined> }[]): string {
  const labels = Object.keys(rows[0]?.mib ?? {});
  return [
    `| RSS MiB at the end of | ${labels.join(' | ')} |`,
    `|---|${labels.map(() => '---:|').join('')}`,
    ...rows.map((r) => `| ${r.after} | ${labels.map((l) => r.mib[l]?.toFixed(0) ?? 'n/a').join(' | ')} |`),
  ].join('\n');
}

/** A markdown table from a header and rows. */
export function table(header: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const sep = header.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'r' ? '---:' : '---'));
  return [`| ${header.join(' | ')} |`, `|${sep.join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The latency cells p50, p95, p99, max of some latencies. */
export function latencyCells(values: number[]): string[] {
  const p = percentiles(values);
  return [ms(p.p50), ms(p.p95), ms(p.p99), ms(p.max)];
}

/** Outcomes as "3 REJECTED, 1 HTTP 500", or "0". */
export function outcomeText(outcomes: Record<string, number>): string {
  return (
    Object.entries(outcomes)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ') || '0'
  );
}
