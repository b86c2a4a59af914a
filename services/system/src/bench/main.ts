// The system benchmark suite (npm run bench): starts the whole system (catalogue, inventory, payments, orders,
// delivery and the REST gateway, each its own process on loopback, fresh databases and topics), runs the scenarios
// BENCH_SCENARIOS names (all by default), prints a markdown report and one JSON line on stdout, writes the report
// into docs/benchmarks.md between the bench:system markers (unless BENCH_NO_WRITE=1), and stops everything it
// started, also on failure and on Ctrl-C. Exits non-zero when a scenario's checks fail (e.g. the flash sale
// oversells) or the run fails. Settings: settings.ts; docs/benchmarks.md, "The whole system".
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuBetween, cpuSnapshot, machineLine } from '@o2o/kit-bench';
import { log } from './progress';
import { memorySample, memoryTable, type ScenarioResult, table } from './report';
import { ceilings } from './scenarios/ceilings';
import { flashSale } from './scenarios/flash';
import { orderMix } from './scenarios/mix';
import { trackingFanOut } from './scenarios/tracking';
import { webhookThroughput } from './scenarios/webhooks';
import { seedLocations } from './seed';
import { type ScenarioName, settings, settingsRows } from './settings';
import { REPO, startSystem, stopStarted, type System } from './system';
import { toolNotes, toolPath } from './tools';

const START = '<!-- bench:system:start -->';
const END = '<!-- bench:system:end -->';

const RUNNERS: Record<ScenarioName, (sys: System) => Promise<ScenarioResult>> = {
  ceilings,
  flash: flashSale,
  mix: orderMix,
  tracking: trackingFanOut,
  webhooks: webhookThroughput,
};

let current: System | undefined;
let stopped = false;
async function stopSystem(): Promise<void> {
  if (stopped) return;
  stopped = true;
  log('stopping every process started, dropping the run’s databases and topics');
  // Before the system was up (Ctrl-C or a failure during start-up), whatever started so far.
  await (current ? current.stop() : stopStarted());
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void stopSystem().finally(() => process.exit(130));
  });
}

/** The section of docs/benchmarks.md between the markers: replaced if present, else appended. */
function writeDocs(section: string): string {
  const file = settings.docsFile ?? path.join(REPO, 'docs', 'benchmarks.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${START}\n${section.trim()}\n${END}`;
  const at = text.indexOf(START);
  const end = text.indexOf(END);
  const next =
    at >= 0 && end > at
      ? `${text.slice(0, at)}${block}${text.slice(end + END.length)}`
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
  return file;
}

async function main(): Promise<number> {
  const began = Date.now();
  const loadAtStart = os.loadavg();
  // Say at once which tools will be used, before minutes of start-up.
  if (settings.scenarios.includes('ceilings')) toolPath('ghz');
  if (settings.scenarios.includes('mix')) toolPath('k6');
  current = await startSystem();
  const sys = current;
  await seedLocations(sys);
  const results: {
    name: ScenarioName;
    result: ScenarioResult;
    seconds: number;
    memory: Record<string, number | undefined>;
    cpu: ReturnType<typeof cpuBetween>;
  }[] = [];
  for (const name of settings.scenarios) {
    log(`---- scenario ${name} ----`);
    const before = cpuSnapshot(sys.pids);
    const t0 = Date.now();
    const result = await RUNNERS[name](sys);
    const cpu = cpuBetween(before, cpuSnapshot(sys.pids));
    results.push({ name, result, seconds: (Date.now() - t0) / 1000, memory: memorySample(sys.pids), cpu });
    if (result.failures.length > 0) log(`${name}: checks failed: ${result.failures.join('; ')}`);
  }
  const loadAtEnd = os.loadavg();
  const minutes = (Date.now() - began) / 60_000;
  const failures = results.flatMap((r) => r.result.failures.map((f) => `${r.name}: ${f}`));
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const command = `${Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_') || ['MONGO_URL', 'KAFKA_BROKERS', 'O2O_STATE_DIR'].includes(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')} npm run bench`.trim();
  const cpuLabels = Object.keys(sys.pids);
  const cpuTable = table(
    ['CPU cores used during', ...cpuLabels, 'everything else', 'machine busy'],
    results.map((r) => [
      `${r.name} (${r.seconds.toFixed(0)} s)`,
      ...cpuLabels.map((l) => {
        const v = r.cpu.processes[l];
        return v === undefined ? 'n/a' : (v / r.cpu.seconds).toFixed(2);
      }),
      r.cpu.othersCores.toFixed(2),
      r.cpu.busyCores.toFixed(2),
    ]),
  );
  const report = `### Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC

${machineLine()}
Command: \`${command}\`. Load average ${load(loadAtStart)} at the start, ${load(loadAtEnd)} at the end; ${minutes.toFixed(1)} min in all.
catalogue, inventory, payments, orders, delivery and the gateway each ran as their own process (built dist/bin.js) on loopback, with fresh databases and topic prefix \`${sys.topicPrefix}\`; Kafka ${settings.kafkaBrokers}, the database ${settings.mongoUrl.replace(/\/\/[^@]*@/, '//')} and the load generators on the same machine. Services: LOG_LEVEL info, no tracing or metrics export; gateway RATE_LIMIT_PER_MINUTE 10000000, DOWNSTREAM_DEADLINE_MS 300000, WEBHOOK_ALLOW_PRIVATE_URLS true; delivery TASK_ACCEPT_MS 3600000 (no re-routing of unaccepted tasks during the run).
Tools: ${[...toolNotes, 'the Node load generator for everything else'].join('; ')}.

Settings:

${table(['knob', 'value'], settingsRows(), ['l', 'l'])}

${results.map((r) => `#### ${r.result.title}\n\n${r.result.markdown}`).join('\n\n')}

#### Memory and CPU

${memoryTable(results.map((r) => ({ after: r.name, mib: r.memory })))}

${cpuTable}
${failures.length > 0 ? `\n**Checks that failed**: ${failures.join('; ')}\n` : ''}`;
  process.stdout.write(`${report}\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'system', date: new Date().toISOString(), machine: machineLine(), command, settings, loadAverage: { start: loadAtStart, end: loadAtEnd }, minutes, toolNotes, scenarios: results.map((r) => ({ name: r.name, seconds: r.seconds, memoryMiB: r.memory, cpu: r.cpu, failures: r.result.failures, figures: r.result.json })) })}\n`,
  );
  if (!settings.noWrite) {
    const previous = existsSync(path.join(REPO, 'docs', 'benchmarks.md'))
      ? readFileSync(path.join(REPO, 'docs', 'benchmarks.md'), 'utf8')
      : '';
    const file = writeDocs(sectionWith(report, previous));
    log(`report written to ${file}`);
  }
  return failures.length > 0 ? 1 : 0;
}

/**
 * The docs section: the fixed introduction (command and knobs) and the notes written after a run (kept from the
 * file, between "<!-- bench:system:notes -->" markers), around this run's report.
 */
function sectionWith(report: string, previous: string): string {
  const notes = /<!-- bench:system:notes -->[\s\S]*?<!-- bench:system:notes-end -->/.exec(previous)?.[0];
  const intro = /<!-- bench:system:intro -->[\s\S]*?<!-- bench:system:intro-end -->/.exec(previous)?.[0];
  return [intro ?? '## The whole system: `npm run bench`', report, notes ?? ''].join('\n\n');
}

main()
  .then(async (code) => {
    await stopSystem();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await stopSystem().catch(() => undefined);
    process.exit(1);
  });
