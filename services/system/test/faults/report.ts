// The fault suite's report: one section per fault with the load it ran under, what the load saw, and every
// invariant checked afterwards. Printed at the end and written to .o2o/reports/faults.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OrderStatus } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { repoRoot } from '@o2o/kit-testing';
import type { Journey } from './shoppers';
import type { InvariantResult } from './verifier';

export interface FaultRecord {
  fault: string;
  /** What was done, step by step, with times relative to the start of the load. */
  steps: string[];
  journeys: Journey[];
  /** Seconds from healing the fault until every journey had ended. */
  seconds: number;
  invariants: InvariantResult[];
  /** Extra checks particular to the fault (e.g. replayed events changed nothing). */
  extra: InvariantResult[];
}

const records: FaultRecord[] = [];

export function record(r: FaultRecord): void {
  records.push(r);
}

function ends(journeys: Journey[]): string {
  const counts = new Map<string, number>();
  for (const j of journeys) {
    const end = j.end === undefined ? 'gave up' : OrderStatus[j.end].replace('ORDER_STATUS_', '');
    const key = `${j.kind} → ${end}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()].map(([k, n]) => `${n} ${k}`).join(', ');
}

function retries(journeys: Journey[]): string {
  const counts = new Map<string, number>();
  for (const j of journeys) for (const [k, n] of Object.entries(j.retries)) counts.set(k, (counts.get(k) ?? 0) + n);
  return counts.size === 0 ? 'none' : [...counts.entries()].map(([k, n]) => `${k} ×${n}`).join(', ');
}

export function renderReport(): string {
  const lines = [
    '# Fault suite report',
    '',
    `Run ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}: ` +
      'every service its own process, the real Kafka broker and database server, all on loopback.',
    '',
    '| fault | journeys (kind → end) | retried calls | settled in | invariants |',
    '|---|---|---|---:|---|',
  ];
  for (const r of records) {
    const all = [...r.invariants, ...r.extra];
    const failed = all.filter((i) => i.violations.length > 0).length;
    lines.push(
      `| ${r.fault} | ${ends(r.journeys)} | ${retries(r.journeys)} | ${r.seconds.toFixed(1)} s | ` +
        `${failed === 0 ? `all ${all.length} held` : `**${failed} of ${all.length} violated**`} |`,
    );
  }
  for (const r of records) {
    lines.push('', `## ${r.fault}`, '');
    for (const s of r.steps) lines.push(`- ${s}`);
    lines.push('', '| invariant | checked | result |', '|---|---|---|');
    for (const i of [...r.invariants, ...r.extra]) {
      const result = i.violations.length === 0 ? 'held' : `**violated**: ${i.violations.slice(0, 5).join('; ')}`;
      lines.push(`| ${i.name} | ${i.checked} | ${result} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the report to .o2o/reports/faults.md (or O2O_FAULTS_REPORT) and returns its path. */
export function writeReport(): string {
  const file = process.env.O2O_FAULTS_REPORT ?? path.join(repoRoot(), '.o2o', 'reports', 'faults.md');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, renderReport());
  return file;
}
