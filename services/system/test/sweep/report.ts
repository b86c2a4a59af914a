// The sweep's short report: cases per transport and the statuses seen, written to .o2o/reports/bad-input-sweep.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One transport's tally. */
export interface Tally {
  transport: string;
  cases: number;
  /** What was swept, e.g. "56 RPCs of 5 services". */
  scope: string;
  /** Status label → how many cases got it. */
  statuses: Record<string, number>;
  /** Status label → a few of the cases that got it (what answered OK, 404, 409… and why is worth a look). */
  examples: Record<string, string[]>;
  failures: string[];
}

/** Counts labels. */
export function countBy<T>(items: readonly T[], label: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[label(item)] = (counts[label(item)] ?? 0) + 1;
  return counts;
}

/** Up to `max` descriptions of the items under each label. */
export function examplesBy<T>(
  items: readonly T[],
  label: (item: T) => string,
  describe: (item: T) => string,
  max = 6,
): Record<string, string[]> {
  const examples: Record<string, string[]> = {};
  for (const item of items) {
    const list = (examples[label(item)] ??= []);
    if (list.length < max) list.push(describe(item));
  }
  return examples;
}

/** The report as Markdown. */
export function renderReport(tallies: Tally[], seconds: number, notes: string[] = []): string {
  const lines = ['# Bad-input sweep', '', `Run ${new Date().toISOString()}, ${seconds.toFixed(1)} s in all.`, ''];
  for (const note of notes) lines.push(`- ${note}`);
  if (notes.length) lines.push('');
  for (const t of tallies) {
    lines.push(
      `## ${t.transport}: ${t.cases} cases (${t.scope})`,
      '',
      '| status | cases | for example |',
      '| --- | ---: | --- |',
    );
    for (const [label, n] of Object.entries(t.statuses).sort((a, b) => b[1] - a[1])) {
      lines.push(`| ${label} | ${n} | ${(t.examples[label] ?? []).join('; ').replace(/\|/g, '\\|')} |`);
    }
    lines.push('', t.failures.length ? `**${t.failures.length} failures:**` : 'No failures.', '');
    for (const f of t.failures.slice(0, 50)) lines.push(`- ${f}`);
    if (t.failures.length > 50) lines.push(`- … and ${t.failures.length - 50} more`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Writes the report under <repo>/.o2o/reports and returns its path. */
export function writeReport(repoRoot: string, markdown: string): string {
  const dir = path.join(repoRoot, '.o2o', 'reports');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'bad-input-sweep.md');
  writeFileSync(file, markdown);
  return file;
}
