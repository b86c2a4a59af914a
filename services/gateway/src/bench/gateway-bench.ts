// Gateway benchmark: the same order placement through the REST gateway (POST /v1/orders with a shopper's API key)
// and over gRPC straight to orders (PlaceOrder with the same shopper's principal in metadata), at the same
// concurrency, in alternating slices (gRPC, REST, REST, gRPC, …) so both see the same database and stock. Reports
// confirmed orders/s, latency percentiles, errors by status, the gateway's CPU and memory, and REST ÷ gRPC ratios;
// then a cheap call (GetOrder) both ways, which shows the gateway's fixed cost per request, and the in-process cost
// of the gateway's per-request work on a PlaceOrder (JSON parse, schema check, proto3 JSON mapping both ways).
// catalogue, inventory, payments, orders and the gateway each run as their own process (built dist/bin.js) on
// loopback with fresh databases and their own topic prefix, against the local Kafka and FerretDB or MongoDB.
// Bounded by time and count, no timed assertions. Run: npm run bench:gateway (see docs/benchmarks.md).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fromBinary, fromJson, type JsonValue, toBinary, toJson } from '@bufbuild/protobuf';
import { credentials, type Metadata, status } from '@grpc/grpc-js';
import {
  CatalogueServiceClient,
  CatalogueServiceService,
  PriceChannel,
  SalesChannel,
} from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import {
  AdjustmentReason,
  InventoryServiceClient,
  InventoryServiceService,
  LocationKind,
} from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import {
  type Order,
  OrderStatus,
  OrdersServiceClient,
  OrdersServiceService,
  PlaceOrderRequest,
  PlaceOrderResponse,
} from '@o2o/contracts/gen/o2o/orders/v1/orders';
import {
  cpuBetween,
  type CpuSnapshot,
  cpuSnapshot,
  homeDeliveryOrder,
  machineLine,
  memoryOf,
  sampleLocation,
  startServiceProcess,
} from '@o2o/kit-bench';
import { asyncClient, channelOptions, type Principal, principalMetadata } from '@o2o/kit-grpc';
import { MongoClient } from 'mongodb';
import { effectiveScopes } from '../auth/scopes';
import { createValidators } from '../http/validation';
import type { JsonSchema } from '../http/route';
import { openApiDocument } from '../openapi-document';
import { loadContract } from '../rest/contract';

const env = process.env;
const CONCURRENCIES = (env.BENCH_CONCURRENCIES ?? '1,8,32').split(',').map(Number);
/** Measured seconds per mode and concurrency, split over BENCH_ROUNDS slices. */
const SECONDS = Number(env.BENCH_SECONDS ?? 40);
const ROUNDS = Math.max(1, Number(env.BENCH_ROUNDS ?? 4));
const WARMUP_SECONDS = Number(env.BENCH_WARMUP_SECONDS ?? 10);
const WARMUP_CONCURRENCY = Number(env.BENCH_WARMUP_CONCURRENCY ?? 4);
const IDLE_SECONDS = Number(env.BENCH_IDLE_SECONDS ?? 5);
const MAX_ORDERS = Number(env.BENCH_MAX_ORDERS ?? 5000);
const READ_SECONDS = Number(env.BENCH_READ_SECONDS ?? 10);
const READ_CONCURRENCIES = (env.BENCH_READ_CONCURRENCIES ?? '1,8').split(',').map(Number);
const MAPPING_ITERATIONS = Number(env.BENCH_MAPPING_ITERATIONS ?? 3000);
const SKU_COUNT = Number(env.BENCH_SKUS ?? 50);
const UNITS = Number(env.BENCH_UNITS ?? 1_000_000);
const SHOPPERS = Number(env.BENCH_SHOPPERS ?? 8);
const MONGO_URL = env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const KAFKA_BROKERS = env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const OUT = env.BENCH_OUT;
/** The same deadline both ways: the bench's gRPC calls, and the gateway's calls to orders (DOWNSTREAM_DEADLINE_MS). */
const DEADLINE_MS = 30_000;

type ServiceName = 'catalogue' | 'inventory' | 'payments' | 'orders';
const SERVICES: readonly ServiceName[] = ['catalogue', 'inventory', 'payments', 'orders'];
type Mode = 'gRPC' | 'REST';
const WAREHOUSE = 'bench-gw-wh';

interface Running {
  name: ServiceName | 'gateway';
  port: number;
  child: ChildProcess;
}

const running: Running[] = [];
let stopping = false;
const alive = (s: Running) => s.child.exitCode === null && s.child.signalCode === null;

/** SIGTERM, waited for up to 15 s, then SIGKILL: the gateway, then orders (it calls the others), then the rest. */
async function stopAll(): Promise<void> {
  stopping = true;
  const stop = async (s: Running) => {
    if (!alive(s)) return;
    const exited = new Promise((r) => s.child.once('exit', r));
    s.child.kill('SIGTERM');
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  for (const first of ['gateway', 'orders'] as const)
    for (const s of running.filter((r) => r.name === first)) await stop(s);
  await Promise.all(running.filter((s) => s.name !== 'gateway' && s.name !== 'orders').map(stop));
}

process.on('exit', () => {
  for (const s of running) if (alive(s)) s.child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`[bench] ${signal}: stopping the services\n`);
    void stopAll().finally(() => process.exit(130));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const codeOf = (error: unknown) => (error as { code?: number }).code;
const repo = path.join(__dirname, '..', '..', '..', '..');
const dbName = (who: string, run: string) => `bench_gw_${who.slice(0, 3)}_${run}`;
/** This run's id: its databases, topic prefix, consumer groups and request ids carry it. */
const run = Date.now().toString(36);

/** Drops every database of this run (also when the run failed before it could measure). */
async function dropDatabases(): Promise<void> {
  const mongo = await MongoClient.connect(MONGO_URL, { serverSelectionTimeoutMS: 5000 }).catch(() => undefined);
  if (!mongo) return;
  for (const who of [...SERVICES, 'gwy'])
    await mongo
      .db(dbName(who, run))
      .dropDatabase()
      .catch(() => undefined);
  await mongo.close();
}

function commonEnv(run: string, who: string): Record<string, string | undefined> {
  return {
    ...env,
    MONGO_URL,
    MONGO_DB: dbName(who, run),
    KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: `bench-gateway-${run}.`,
    KAFKA_GROUP_ID: `bench-gateway-${run}-${who}`,
    LOG_LEVEL: 'info',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
  };
}

async function startService(name: ServiceName, extra: Record<string, string>, run: string): Promise<Running> {
  const service = await startServiceProcess(path.join(repo, 'services', name, 'dist', 'bin.js'), {
    ...commonEnv(run, name),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    ...extra,
  });
  const s: Running = { name, port: service.port, child: service.child };
  running.push(s);
  service.child.on('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`[bench] ${name} exited unexpectedly (code ${code}, signal ${signal})\n`);
  });
  return s;
}

/** The gateway as its own process on a free loopback port (HTTP_PORT=0; the port is read from its log). */
async function startGateway(extra: Record<string, string>, run: string): Promise<Running> {
  const child = spawn(process.execPath, [path.join(repo, 'services', 'gateway', 'dist', 'bin.js')], {
    env: {
      ...commonEnv(run, 'gwy'),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/gw-prof` to see where the gateway's time goes (the gateway only).
      ...(env.BENCH_GATEWAY_NODE_OPTIONS ? { NODE_OPTIONS: env.BENCH_GATEWAY_NODE_OPTIONS } : {}),
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const s: Running = { name: 'gateway', port: 0, child };
  running.push(s);
  s.port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('the gateway did not listen within 60 s')), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const m = /"port":(\d+)[^\n]*"msg":"gateway listening"/.exec(buffer);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
      if (buffer.length > 1_000_000) buffer = buffer.slice(-10_000);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with ${code}:\n${buffer.slice(-3000)}`));
    });
  });
  child.stdout.resume();
  child.on('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`[bench] gateway exited unexpectedly (code ${code}, signal ${signal})\n`);
  });
  return s;
}

// ---- HTTP client: node:http with keep-alive, one connection per caller in flight ----

interface HttpAnswer {
  status: number;
  text: string;
}

function httpClient(port: number, maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
  const call = (method: string, route: string, headers: Record<string, string>, body?: string) =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method,
          path: route,
          agent,
          timeout: DEADLINE_MS + 10_000,
          headers:
            body === undefined
              ? headers
              : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('client timeout')));
      req.on('error', reject);
      req.end(body);
    });
  return { call, close: () => agent.destroy() };
}

// ---- the load: bounded by time and count, every call timed, every answer classified ----

/** What one call answered: `status` is the transport's (HTTP code, gRPC code name); `ok` means a CONFIRMED order. */
interface Answer {
  status: string;
  ok: boolean;
  /** For an answer that is not ok: what it was (an order's status, a problem's title). */
  outcome?: string;
  detail?: string;
}

interface Slice {
  mode: Mode;
  concurrency: number;
  /** Wall time of the slice; in a call-by-call run, the time spent in this way's calls. */
  seconds: number;
  latencies: number[];
  ok: number;
  statuses: Record<string, number>;
  /** Answers other than the expected one, by outcome (e.g. `201 ORDER_STATUS_REJECTED`, `HTTP 504`). */
  others: Record<string, number>;
  firstOther?: string;
  /** CPU over the slice (a call-by-call run: over the whole run, both ways). */
  cpu: ReturnType<typeof cpuBetween>;
  /** When it ran, µs of the monotonic clock (the clock of a V8 CPU profile): to cut a profile of the gateway. */
  window: [number, number];
  drainSeconds: number;
}

/** Collects one way's calls: latencies, answers by status, and what was not the expected outcome. */
function recorder(mode: Mode, concurrency: number) {
  const slice: Omit<Slice, 'seconds' | 'cpu' | 'window' | 'drainSeconds'> = {
    mode,
    concurrency,
    latencies: [],
    ok: 0,
    statuses: {},
    others: {},
  };
  return {
    slice,
    /** Times one call; failures are classified, never thrown. Returns the latency in ms. */
    async call(op: (i: number) => Promise<Answer>, i: number): Promise<number> {
      const t0 = process.hrtime.bigint();
      let answer: Answer;
      try {
        answer = await op(i);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const name =
          typeof code === 'number' ? (status[code] ?? String(code)) : typeof code === 'string' ? code : 'ERROR';
        answer = {
          status: name,
          ok: false,
          outcome: name,
          detail: error instanceof Error ? error.message : String(error),
        };
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      slice.latencies.push(ms);
      slice.statuses[answer.status] = (slice.statuses[answer.status] ?? 0) + 1;
      if (answer.ok) slice.ok++;
      else {
        const outcome = answer.outcome ?? answer.status;
        slice.others[outcome] = (slice.others[outcome] ?? 0) + 1;
        slice.firstOther ??= `${outcome}${answer.detail ? `: ${answer.detail.slice(0, 300)}` : ''}`;
      }
      return ms;
    },
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const sortedCopy = (values: number[]) => [...values].sort((a, b) => a - b);

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

function logSlice(s: Omit<Slice, 'drainSeconds'>, how: string): void {
  const sorted = sortedCopy(s.latencies);
  process.stderr.write(
    `[bench] ${s.mode} c=${s.concurrency}${how}: ${(s.ok / s.seconds).toFixed(1)} ok/s over ${s.seconds.toFixed(1)} s ` +
      `(${s.latencies.length} calls) p50 ${percentile(sorted, 50).toFixed(1)} p99 ${percentile(sorted, 99).toFixed(1)} ms; ` +
      `statuses ${JSON.stringify(s.statuses)}${s.firstOther ? `; first other: ${s.firstOther}` : ''}; ` +
      `monotonic µs ${s.window[0]}–${s.window[1]}\n`,
  );
}

/** `concurrency` callers of one way until `seconds` have passed (or MAX_ORDERS calls); every call is awaited. */
async function runSlice(
  mode: Mode,
  concurrency: number,
  seconds: number,
  op: (i: number) => Promise<Answer>,
  pids: Record<string, number | undefined>,
): Promise<Omit<Slice, 'drainSeconds'>> {
  const r = recorder(mode, concurrency);
  let next = 0;
  const before: CpuSnapshot = cpuSnapshot(pids);
  const from = monotonicMicros();
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  const worker = async () => {
    while (next < MAX_ORDERS && process.hrtime.bigint() < deadline) await r.call(op, next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const result = {
    ...r.slice,
    seconds: elapsed,
    cpu: cpuBetween(before, cpuSnapshot(pids)),
    window: [from, monotonicMicros()] as [number, number],
  };
  logSlice(result, '');
  return result;
}

/**
 * One caller, the two ways call by call (gRPC then REST, then REST then gRPC, …), so each pair of calls meets the
 * same machine: the fairest comparison of latency when the load around the bench changes by the second. Returns a
 * slice per way (its seconds: the time spent in its calls) and the difference REST − gRPC of every pair.
 */
async function runPaired(
  seconds: number,
  ops: Record<Mode, (i: number) => Promise<Answer>>,
  pids: Record<string, number | undefined>,
): Promise<{ slices: Record<Mode, Slice>; differences: number[] }> {
  const rec = { gRPC: recorder('gRPC', 1), REST: recorder('REST', 1) };
  const differences: number[] = [];
  const before: CpuSnapshot = cpuSnapshot(pids);
  const from = monotonicMicros();
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  for (let k = 0; k < MAX_ORDERS && process.hrtime.bigint() < deadline; k++) {
    const order: Mode[] = k % 2 === 0 ? ['gRPC', 'REST'] : ['REST', 'gRPC'];
    const took: Partial<Record<Mode, number>> = {};
    for (const mode of order) took[mode] = await rec[mode].call(ops[mode], k);
    differences.push((took.REST ?? 0) - (took.gRPC ?? 0));
  }
  const cpu = cpuBetween(before, cpuSnapshot(pids));
  const window: [number, number] = [from, monotonicMicros()];
  const slices = {} as Record<Mode, Slice>;
  for (const mode of ['gRPC', 'REST'] as const) {
    const busy = rec[mode].slice.latencies.reduce((a, b) => a + b, 0) / 1000;
    slices[mode] = { ...rec[mode].slice, seconds: busy, cpu, window, drainSeconds: 0 };
    logSlice(slices[mode], ', call by call');
  }
  return { slices, differences };
}

interface Merged {
  mode: Mode;
  concurrency: number;
  /** `slices`: each way alone in alternating slices; `call by call`: one caller alternating the two ways. */
  how: 'slices' | 'call by call';
  slices: number;
  /** Time in this way's calls: the slices' wall time, or (call by call) the sum of the call latencies. */
  seconds: number;
  /** Wall time the CPU figures cover (call by call: the whole run, both ways). */
  wallSeconds: number;
  calls: number;
  ok: number;
  okPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  statuses: Record<string, number>;
  others: Record<string, number>;
  firstOther?: string;
  /** CPU seconds per process over wallSeconds. */
  cpuSeconds: Record<string, number | undefined>;
  busyCores: number;
  othersCores: number;
  drainSeconds: number;
  /** Each slice's p50 and ok/s, in the order they ran: how much the same way varied over the run. */
  sliceP50s: number[];
  sliceOkPerSecond: number[];
  /** Call by call only: REST − gRPC of each pair, median and mean (ms). */
  pairedMedian?: number;
  pairedMean?: number;
}

function merge(slices: Slice[], how: Merged['how'], differences?: number[]): Merged {
  const first = slices[0];
  if (!first) throw new Error('nothing to merge');
  const latencies = sortedCopy(slices.flatMap((s) => s.latencies));
  const seconds = slices.reduce((n, s) => n + s.seconds, 0);
  const wallSeconds = slices.reduce((n, s) => n + s.cpu.seconds, 0);
  const ok = slices.reduce((n, s) => n + s.ok, 0);
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
    return into;
  };
  const cpuSeconds: Record<string, number | undefined> = {};
  for (const label of Object.keys(first.cpu.processes)) {
    const values = slices.map((s) => s.cpu.processes[label]);
    cpuSeconds[label] = values.some((v) => v === undefined) ? undefined : values.reduce((a = 0, b = 0) => a + b, 0);
  }
  const weighted = (f: (s: Slice) => number) => slices.reduce((n, s) => n + f(s) * s.cpu.seconds, 0) / wallSeconds;
  const firstOther = slices.find((s) => s.firstOther)?.firstOther;
  const diffs = differences ? sortedCopy(differences) : undefined;
  return {
    mode: first.mode,
    concurrency: first.concurrency,
    how,
    slices: slices.length,
    seconds,
    wallSeconds,
    calls: latencies.length,
    ok,
    okPerSecond: ok / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? 0,
    mean: latencies.reduce((a, b) => a + b, 0) / (latencies.length || 1),
    statuses: slices.reduce((acc, s) => add(acc, s.statuses), {} as Record<string, number>),
    others: slices.reduce((acc, s) => add(acc, s.others), {} as Record<string, number>),
    ...(firstOther ? { firstOther } : {}),
    cpuSeconds,
    busyCores: weighted((s) => s.cpu.busyCores),
    othersCores: weighted((s) => s.cpu.othersCores),
    drainSeconds: slices.reduce((n, s) => n + s.drainSeconds, 0),
    sliceP50s: slices.map((s) => percentile(sortedCopy(s.latencies), 50)),
    sliceOkPerSecond: slices.map((s) => s.ok / s.seconds),
    ...(diffs && diffs.length > 0
      ? { pairedMedian: percentile(diffs, 50), pairedMean: diffs.reduce((a, b) => a + b, 0) / diffs.length }
      : {}),
  };
}

/** Each way at `concurrency`: one caller call by call, more in alternating slices gRPC, REST, REST, gRPC, … */
async function compare(
  concurrency: number,
  seconds: number,
  rounds: number,
  opOf: (mode: Mode, label: string) => (i: number) => Promise<Answer>,
  label: string,
  pids: Record<string, number | undefined>,
  drain: () => Promise<number>,
): Promise<[Merged, Merged]> {
  if (concurrency === 1) {
    // Twice the time: each way gets about `seconds` of calls.
    const { slices, differences } = await runPaired(
      2 * seconds,
      { gRPC: opOf('gRPC', `${label}-gRPC-paired`), REST: opOf('REST', `${label}-REST-paired`) },
      pids,
    );
    const drainSeconds = await drain();
    return [
      merge([{ ...slices.gRPC, drainSeconds }], 'call by call', differences),
      merge([{ ...slices.REST, drainSeconds }], 'call by call', differences),
    ];
  }
  const slices: Record<Mode, Slice[]> = { gRPC: [], REST: [] };
  for (let round = 0; round < rounds; round++) {
    const modes: Mode[] = round % 2 === 0 ? ['gRPC', 'REST'] : ['REST', 'gRPC'];
    for (const mode of modes) {
      const slice = await runSlice(
        mode,
        concurrency,
        seconds / rounds,
        opOf(mode, `${label}-${mode}-c${concurrency}-r${round}`),
        pids,
      );
      slices[mode].push({ ...slice, drainSeconds: await drain() });
    }
  }
  return [merge(slices.gRPC, 'slices'), merge(slices.REST, 'slices')];
}

/** The lines of the i-th order: 1..3 different SKUs, 1 or 2 units each (as the orders benchmark places). */
function linesOf(i: number, skus: string[]): { skuCode: string; quantity: string }[] {
  const n = 1 + (i % 3);
  const stride = Math.floor(skus.length / 3) || 1;
  return Array.from({ length: Math.min(n, skus.length) }, (_, k) => ({
    skuCode: skus[(i * 7 + k * stride) % skus.length] ?? '',
    quantity: String(1 + ((i + k) % 2)),
  }));
}

/**
 * The REST body of the i-th order (proto3 JSON): the shared sample order (kit-bench's homeDeliveryOrder: WEB, home
 * delivery near People's Square, an approved card) without its request id. The gRPC request is this body plus
 * requestId and customerId.
 */
function orderBody(i: number, skus: string[]): Record<string, JsonValue> {
  const lines = linesOf(i, skus).map((l) => ({ skuCode: l.skuCode, quantity: Number(l.quantity) }));
  return PlaceOrderRequest.toJSON(homeDeliveryOrder({ requestId: '', customerId: '', lines })) as Record<
    string,
    JsonValue
  >;
}

/** Mean microseconds per call of `fn` over `iterations` calls (after a tenth as many unmeasured). */
function microsPerCall(iterations: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.ceil(iterations / 10); i++) fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / 1e3 / iterations;
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg();
  const began = Date.now();

  // ---- the processes: the three the saga calls, orders pointed at them, the gateway pointed at all ----
  const upstream = await Promise.allSettled([
    startService('catalogue', {}, run),
    startService('inventory', {}, run),
    startService('payments', { WALLET_CALLBACK_PORT: '0' }, run),
  ]);
  const failed = upstream.find((u) => u.status === 'rejected');
  if (failed) throw new Error(`a service did not start: ${String(failed.reason)}`);
  const [cat, inv, pay] = upstream.map((u) => (u as PromiseFulfilledResult<Running>).value) as [
    Running,
    Running,
    Running,
  ];
  const addresses = {
    CATALOGUE_ADDRESS: `127.0.0.1:${cat.port}`,
    INVENTORY_ADDRESS: `127.0.0.1:${inv.port}`,
    PAYMENTS_ADDRESS: `127.0.0.1:${pay.port}`,
  };
  const ord = await startService('orders', addresses, run);
  const adminKey = `o2o_benchadmin${run}_${randomBytes(24).toString('base64url')}`;
  const gw = await startGateway(
    {
      ...addresses,
      ORDERS_ADDRESS: `127.0.0.1:${ord.port}`,
      // Delivery is not started: no placement route calls it (a call to it would fail fast, and show as an error).
      DELIVERY_ADDRESS: '127.0.0.1:9',
      BOOTSTRAP_ADMIN_KEY: adminKey,
      RATE_LIMIT_PER_MINUTE: '10000000',
      DOWNSTREAM_DEADLINE_MS: String(DEADLINE_MS),
      REQUEST_TIMEOUT_MS: String(DEADLINE_MS + 5_000),
      SHUTDOWN_DRAIN_DELAY_MS: '0',
      SHUTDOWN_GRACE_MS: '5000',
    },
    run,
  );
  const stateDir = env.O2O_STATE_DIR ?? path.join(repo, '.o2o');
  const infraPid = (name: string) => {
    const file = path.join(stateDir, 'run', `${name}.pid`);
    return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || undefined : undefined;
  };
  const pids: Record<string, number | undefined> = {
    gateway: gw.child.pid,
    orders: ord.child.pid,
    catalogue: cat.child.pid,
    inventory: inv.child.pid,
    payments: pay.child.pid,
    bench: process.pid,
    ferretdb: infraPid('ferretdb'),
    kafka: infraPid('kafka'),
  };
  process.stderr.write(
    `[bench] catalogue :${cat.port}, inventory :${inv.port}, payments :${pay.port}, orders :${ord.port}, ` +
      `gateway http://127.0.0.1:${gw.port}; topic prefix bench-gateway-${run}.; ` +
      `load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}\n`,
  );

  const mongo = await MongoClient.connect(MONGO_URL);
  const databases = SERVICES.map((s) => mongo.db(dbName(s, run)));
  /** Waits until every service's outbox is empty, so a slice does not pay for the events of the one before. */
  const drain = async (): Promise<number> => {
    const started = Date.now();
    for (;;) {
      let unsent = 0;
      for (const db of databases) {
        for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
          unsent += await db.collection(name).countDocuments({ 'outbox.0': { $exists: true } });
        }
      }
      if (unsent === 0) return (Date.now() - started) / 1000;
      if (Date.now() - started > 300_000) throw new Error(`outboxes not drained after 300 s (${unsent} unsent)`);
      await sleep(250);
    }
  };

  const insecure = credentials.createInsecure();
  const raw = {
    catalogue: new CatalogueServiceClient(`127.0.0.1:${cat.port}`, insecure),
    inventory: new InventoryServiceClient(`127.0.0.1:${inv.port}`, insecure),
    // The same channel options as the gateway's own channel to orders (one HTTP/2 connection, round robin).
    orders: new OrdersServiceClient(`127.0.0.1:${ord.port}`, insecure, channelOptions()),
  };
  const catalogue = asyncClient(raw.catalogue, CatalogueServiceService);
  const inventory = asyncClient(raw.inventory, InventoryServiceService);
  const orders = asyncClient(raw.orders, OrdersServiceService);
  const http = httpClient(gw.port, Math.max(...CONCURRENCIES, WARMUP_CONCURRENCY, ...READ_CONCURRENCIES));

  try {
    // ---- seed: a warehouse, SKUs with ONLINE prices, UNITS of each at the warehouse ----
    await inventory.createLocation({
      locationId: WAREHOUSE,
      location: sampleLocation(
        'Bench warehouse',
        LocationKind.LOCATION_KIND_WAREHOUSE,
        { latitude: 31.21, longitude: 121.49 },
        { addressLine: 'Bench warehouse 1' },
      ),
    });
    const skus = Array.from({ length: SKU_COUNT }, (_, i) => `GWB-${String(i).padStart(3, '0')}`);
    const perProduct = 5;
    for (let at = 0; at < skus.length; at += perProduct) {
      const { product } = await catalogue.createProduct({
        requestId: randomUUID(),
        product: {
          name: `Bench oolong ${at / perProduct}`,
          description: 'for the gateway benchmark',
          brand: 'Bench',
          categories: ['food/tea'],
          attributes: {},
          imageUrls: [],
          skus: skus.slice(at, at + perProduct).map((code, k) => ({
            code,
            name: code,
            attributes: {},
            prices: [
              {
                channel: PriceChannel.PRICE_CHANNEL_ONLINE,
                price: { currencyCode: 'CNY', amountMinor: String(1000 + 37 * (at + k)) },
              },
            ],
            sellableChannels: [SalesChannel.SALES_CHANNEL_ONLINE],
            barcode: '',
            imageUrls: [],
          })),
        },
      });
      if (!product) throw new Error('CreateProduct answered no product');
      await catalogue.activateProduct({
        requestId: randomUUID(),
        productId: product.id,
        expectedVersion: product.version,
      });
    }
    // Inventory learns SKUs from the catalogue's events (outbox → Kafka → consumer).
    for (const code of skus) {
      for (let waited = 0; ; waited++) {
        try {
          await inventory.getStock({ skuCode: code, locationId: WAREHOUSE });
          break;
        } catch (error) {
          if (codeOf(error) !== Number(status.NOT_FOUND) || waited > 600) throw error;
          await sleep(100);
        }
      }
    }
    for (const [i, skuCode] of skus.entries()) {
      await inventory.adjustStock({
        requestId: `recv-${i}`,
        skuCode,
        locationId: WAREHOUSE,
        reason: AdjustmentReason.ADJUSTMENT_REASON_RECEIPT,
        quantity: String(UNITS),
        note: 'bench receipt',
      });
    }

    // ---- shoppers: one API key each (issued through the admin API), the same principal over gRPC ----
    const shoppers: { subject: string; key: string; principal: Principal }[] = [];
    for (let k = 0; k < SHOPPERS; k++) {
      const subject = `bench-shopper-${run}-${k}`;
      const answer = await http.call(
        'POST',
        '/v1/admin/api-keys',
        { 'x-api-key': adminKey },
        JSON.stringify({ role: 'shopper', subject, rateLimitPerMinute: 1_000_000, description: 'gateway bench' }),
      );
      if (answer.status !== 201) throw new Error(`issuing a shopper key failed: ${answer.status} ${answer.text}`);
      const { key } = JSON.parse(answer.text) as { key: string };
      shoppers.push({
        subject,
        key,
        principal: { role: 'shopper', subject, storeIds: [], scopes: effectiveScopes('shopper', undefined) },
      });
    }
    const shopperOf = (i: number) => {
      const s = shoppers[i % shoppers.length];
      if (!s) throw new Error('no shoppers');
      return s;
    };
    const metadataOf = (p: Principal): Metadata => principalMetadata(p);

    // ---- the two ways of placing the i-th order ----
    const placed: { orderId: string; shopper: number }[] = [];
    let sampleOrder: Order | undefined;
    const orderAnswer = (order: Order | undefined, transport: string): Answer =>
      order?.status === OrderStatus.ORDER_STATUS_CONFIRMED
        ? { status: transport, ok: true }
        : {
            status: transport,
            ok: false,
            outcome: `${transport} ${order ? (OrderStatus[order.status] ?? String(order.status)) : 'no order'}`,
            detail: order?.statusReason,
          };
    const viaGrpc =
      (label: string) =>
      async (i: number): Promise<Answer> => {
        const shopper = shopperOf(i);
        const request = PlaceOrderRequest.fromJSON({
          ...orderBody(i, skus),
          requestId: `bench-${run}-${label}-${i}`,
          customerId: shopper.subject,
        });
        const { order } = await orders.placeOrder(request, {
          metadata: metadataOf(shopper.principal),
          deadlineMs: DEADLINE_MS,
        });
        if (order?.status === OrderStatus.ORDER_STATUS_CONFIRMED) {
          sampleOrder ??= order;
          if (placed.length < 2000) placed.push({ orderId: order.id, shopper: i % shoppers.length });
        }
        return orderAnswer(order, 'OK');
      };
    const viaRest =
      (label: string) =>
      async (i: number): Promise<Answer> => {
        const shopper = shopperOf(i);
        const answer = await http.call(
          'POST',
          '/v1/orders',
          { 'x-api-key': shopper.key, 'idempotency-key': `bench-${run}-${label}-${i}` },
          JSON.stringify(orderBody(i, skus)),
        );
        const transport = String(answer.status);
        if (answer.status !== 201) {
          let title = '';
          try {
            const problem = JSON.parse(answer.text) as { title?: unknown };
            if (typeof problem.title === 'string') title = problem.title;
          } catch {
            // not problem+json
          }
          return {
            status: transport,
            ok: false,
            outcome: `HTTP ${transport}${title ? ` ${title}` : ''}`,
            detail: answer.text,
          };
        }
        const body = JSON.parse(answer.text) as { order?: { id?: string; status?: string; statusReason?: string } };
        if (body.order?.status === 'ORDER_STATUS_CONFIRMED') {
          if (placed.length < 2000 && body.order.id)
            placed.push({ orderId: body.order.id, shopper: i % shoppers.length });
          return { status: transport, ok: true };
        }
        return {
          status: transport,
          ok: false,
          outcome: `201 ${body.order?.status ?? 'no order'}`,
          detail: body.order?.statusReason,
        };
      };
    const opOf = (mode: Mode, label: string) => (mode === 'gRPC' ? viaGrpc(label) : viaRest(label));

    const memory: { after: string; gatewayMiB: number | undefined; ordersMiB: number | undefined }[] = [];
    const sampleMemory = (after: string) =>
      memory.push({ after, gatewayMiB: memoryOf(gw.child.pid)?.rssMiB, ordersMiB: memoryOf(ord.child.pid)?.rssMiB });
    await drain();
    sampleMemory('seeding, keys issued');

    // ---- warm-up (not reported): JIT, channels, connections, the key cache, both ways ----
    if (WARMUP_SECONDS > 0) {
      for (const mode of ['gRPC', 'REST'] as const) {
        await runSlice(mode, WARMUP_CONCURRENCY, WARMUP_SECONDS, opOf(mode, `warm-${mode}`), pids);
        await drain();
      }
      sampleMemory('warm-up');
    }
    // What every process uses with no calls at all (the gateway's share is taken out of its cost per call).
    const idleBefore = cpuSnapshot(pids);
    await sleep(IDLE_SECONDS * 1000);
    const idle = cpuBetween(idleBefore, cpuSnapshot(pids));

    // ---- placement: one caller call by call, more callers in alternating slices ----
    const results: Merged[] = [];
    for (const concurrency of CONCURRENCIES) {
      results.push(...(await compare(concurrency, SECONDS, ROUNDS, opOf, 'place', pids, drain)));
      sampleMemory(`PlaceOrder, c=${concurrency}`);
    }

    // ---- a cheap call both ways: GetOrder of orders placed above, by their shopper ----
    const reads: Merged[] = [];
    if (READ_SECONDS > 0 && placed.length > 0) {
      const readOp =
        (mode: Mode) =>
        async (i: number): Promise<Answer> => {
          const target = placed[i % placed.length];
          const shopper = shoppers[target?.shopper ?? 0];
          if (!target || !shopper) throw new Error('no order to read');
          if (mode === 'gRPC') {
            const { order } = await orders.getOrder(
              { orderId: target.orderId },
              { metadata: metadataOf(shopper.principal), deadlineMs: DEADLINE_MS },
            );
            return order?.id === target.orderId
              ? { status: 'OK', ok: true }
              : { status: 'OK', ok: false, outcome: 'another order' };
          }
          const answer = await http.call('GET', `/v1/orders/${encodeURIComponent(target.orderId)}`, {
            'x-api-key': shopper.key,
          });
          if (answer.status !== 200)
            return { status: String(answer.status), ok: false, outcome: `HTTP ${answer.status}`, detail: answer.text };
          const body = JSON.parse(answer.text) as { order?: { id?: string } };
          return body.order?.id === target.orderId
            ? { status: '200', ok: true }
            : { status: '200', ok: false, outcome: 'another order' };
        };
      for (const concurrency of READ_CONCURRENCIES) {
        reads.push(
          ...(await compare(
            concurrency,
            READ_SECONDS,
            2,
            (mode) => readOp(mode),
            'read',
            pids,
            async () => 0,
          )),
        );
        sampleMemory(`GetOrder, c=${concurrency}`);
      }
    }

    // ---- stock left: no run may have been short of it ----
    let minAvailable = Infinity;
    for (const skuCode of skus) {
      const { stock } = await inventory.getStock({ skuCode, locationId: WAREHOUSE });
      minAvailable = Math.min(minAvailable, Number(stock?.available ?? 0));
    }
    const gatewayPeakMiB = memoryOf(gw.child.pid)?.peakMiB;
    const loadAtEnd = os.loadavg();

    // ---- the gateway's own per-request work on a PlaceOrder, in this process (no I/O), µs per call ----
    const contract = loadContract();
    const place = contract.method('o2o.orders.v1.OrdersService', 'PlaceOrder');
    const document = openApiDocument() as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>;
    };
    const schema = document.paths['/v1/orders']?.post?.requestBody?.content['application/json']?.schema;
    if (!schema) throw new Error('the OpenAPI document has no POST /v1/orders body');
    const validate = createValidators(document).body(schema);
    const requestText = JSON.stringify(orderBody(1, skus));
    const requestParsed: unknown = JSON.parse(requestText);
    const requestJson = {
      ...orderBody(1, skus),
      requestId: 'rest-abcdefghijklmnopqrstuvwxyz0123456789ABCD',
      customerId: shoppers[0]?.subject ?? 'c',
    };
    const responseBytes = PlaceOrderResponse.encode({ order: sampleOrder }).finish();
    const responseJson = toJson(place.output, fromBinary(place.output, responseBytes), { alwaysEmitImplicit: true });
    const mapping = {
      'JSON.parse of the body': microsPerCall(MAPPING_ITERATIONS, () => JSON.parse(requestText)),
      'schema check (ajv, the OpenAPI body schema)': microsPerCall(MAPPING_ITERATIONS, () => validate(requestParsed)),
      'request JSON → protobuf (fromJson + toBinary)': microsPerCall(MAPPING_ITERATIONS, () =>
        toBinary(place.input, fromJson(place.input, requestJson)),
      ),
      'response protobuf → JSON (fromBinary + toJson)': microsPerCall(MAPPING_ITERATIONS, () =>
        toJson(place.output, fromBinary(place.output, responseBytes), { alwaysEmitImplicit: true }),
      ),
      'JSON.stringify of the answer': microsPerCall(MAPPING_ITERATIONS, () => JSON.stringify(responseJson)),
    };
    if (!validate(requestParsed))
      throw new Error(`the sample body fails the schema: ${JSON.stringify(validate.errors)}`);
    const minutes = (Date.now() - began) / 60_000;

    // ---- report ----
    const find = (list: Merged[], mode: Mode, c: number) => list.find((r) => r.mode === mode && r.concurrency === c);
    const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
    const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
    const idleRate = (label: string) => (idle.seconds > 0 ? (idle.processes[label] ?? 0) / idle.seconds : 0);
    /**
     * The gateway's CPU ms per REST call: over alternating slices, its CPU less its rate during the gRPC slices at the
     * same concurrency (its background work: the webhook dispatcher reading the same order events, the key cache);
     * call by call, less its idle rate only (so it also carries the dispatch of the gRPC orders' events: at most).
     */
    const gatewayPerCall = (r: Merged, list: Merged[]): string => {
      const v = r.cpuSeconds.gateway;
      if (r.mode !== 'REST' || v === undefined || r.calls === 0) return '–';
      const g = find(list, 'gRPC', r.concurrency);
      const gv = g?.cpuSeconds.gateway;
      if (r.how === 'slices' && g && gv !== undefined) {
        return (((v - (gv / g.wallSeconds) * r.wallSeconds) / r.calls) * 1000).toFixed(1);
      }
      return `≤ ${(((v - idleRate('gateway') * r.wallSeconds) / r.calls) * 1000).toFixed(1)}`;
    };
    const gatewayCores = (r: Merged) => {
      const v = r.cpuSeconds.gateway;
      return v === undefined ? 'n/a' : (v / r.wallSeconds).toFixed(2);
    };
    const statusText = (r: Merged) =>
      Object.entries(r.statuses)
        .map(([k, v]) => `${v}× ${k}`)
        .join(', ');
    const otherText = (r: Merged) =>
      Object.entries(r.others)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || '0';
    const cLabel = (r: Merged) => (r.how === 'call by call' ? '1, call by call' : String(r.concurrency));
    const mainTable = (list: Merged[], what: string) =>
      [
        `| ${what} | c | ok/s | p50 ms | p95 ms | p99 ms | max ms | calls | answers by status | not ok | p50 of each slice ms | ok/s of each slice | gateway cores | gateway CPU ms per REST call |`,
        '|---|---|---:|---:|---:|---:|---:|---:|---|---|---|---|---:|---:|',
        ...list.map(
          (r) =>
            `| ${r.mode} | ${cLabel(r)} | ${r.okPerSecond.toFixed(1)} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.calls} | ${statusText(r)} | ${otherText(r)} | ${r.how === 'slices' ? r.sliceP50s.map(ms).join(' / ') : '–'} | ${r.how === 'slices' ? r.sliceOkPerSecond.map((v) => v.toFixed(1)).join(' / ') : '–'} | ${gatewayCores(r)} | ${gatewayPerCall(r, list)} |`,
        ),
      ].join('\n');
    const ratioRows = (list: Merged[], levels: number[]) =>
      levels.flatMap((c) => {
        const g = find(list, 'gRPC', c);
        const r = find(list, 'REST', c);
        if (!g || !r) return [];
        return [
          `| ${cLabel(r)} | ${ratio(r.okPerSecond, g.okPerSecond)} | ${ratio(r.p50, g.p50)} | ${ratio(r.p95, g.p95)} | ${ratio(r.p99, g.p99)} | ${(r.p50 - g.p50).toFixed(1)} | ${(r.mean - g.mean).toFixed(1)} | ${r.pairedMedian === undefined ? '–' : r.pairedMedian.toFixed(1)} |`,
        ];
      });
    const ratioTable = (list: Merged[], levels: number[], what: string) =>
      [
        `| ${what}, c | throughput REST ÷ gRPC | p50 REST ÷ gRPC | p95 REST ÷ gRPC | p99 REST ÷ gRPC | p50 REST − gRPC ms | mean REST − gRPC ms | median of REST − gRPC over pairs of calls, ms |`,
        '|---|---:|---:|---:|---:|---:|---:|---:|',
        ...ratioRows(list, levels),
      ].join('\n');
    const cpuLabels = ['gateway', 'orders', 'catalogue', 'inventory', 'payments', 'bench', 'ferretdb', 'kafka'];
    const cpuRow = (name: string, c: ReturnType<typeof cpuBetween> | Merged) => {
      const seconds = 'wallSeconds' in c ? c.wallSeconds : c.seconds;
      const processes = 'wallSeconds' in c ? c.cpuSeconds : c.processes;
      const cells = cpuLabels.map((l) => {
        const v = processes[l];
        return v === undefined ? 'n/a' : (v / seconds).toFixed(2);
      });
      return `| ${name} | ${cells.join(' | ')} | ${c.othersCores.toFixed(2)} | ${c.busyCores.toFixed(2)} |`;
    };
    const cpuTable = [
      `| CPU cores used during | ${cpuLabels.join(' | ')} | everything else | machine busy |`,
      `|---|${cpuLabels.map(() => '---:|').join('')}---:|---:|`,
      cpuRow(`idle ${IDLE_SECONDS} s after the warm-up, no calls`, idle),
      ...[...results, ...reads]
        .filter((r) => r.how === 'slices' || r.mode === 'REST')
        .map((r) =>
          cpuRow(
            `${reads.includes(r) ? 'GetOrder' : 'PlaceOrder'} ${r.how === 'slices' ? `${r.mode}, c=${r.concurrency}` : 'both ways, one caller call by call'}`,
            r,
          ),
        ),
    ].join('\n');
    const mappingTotal = Object.values(mapping).reduce((a, b) => a + b, 0);
    const mappingTable = [
      '| the gateway’s per-request work on one PlaceOrder (this process, no I/O) | µs per call |',
      '|---|---:|',
      ...Object.entries(mapping).map(([k, v]) => `| ${k} | ${v.toFixed(1)} |`),
      `| total | ${mappingTotal.toFixed(1)} |`,
    ].join('\n');
    const memoryTable = [
      '| RSS MiB after | gateway | orders |',
      '|---|---:|---:|',
      ...memory.map(
        (m) => `| ${m.after} | ${m.gatewayMiB?.toFixed(0) ?? 'n/a'} | ${m.ordersMiB?.toFixed(0) ?? 'n/a'} |`,
      ),
      `| gateway peak (VmHWM) | ${gatewayPeakMiB?.toFixed(0) ?? 'n/a'} | |`,
    ].join('\n');
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
    const report = `### Gateway: REST vs gRPC, ${new Date().toISOString().slice(0, 10)}

${machineLine()}
Settings: PlaceOrder (WEB, HOME_DELIVERY, CARD approved, 1–3 lines of 1–2 units of ${SKU_COUNT} SKUs, ${UNITS} units of each at one warehouse; minimum available at the end ${minAvailable}) by ${SHOPPERS} shoppers at concurrency ${CONCURRENCIES.join(', ')}: ${SECONDS} s per way and concurrency, one caller alternating the two ways call by call, more callers in ${ROUNDS} alternating slices of ${(SECONDS / ROUNDS).toFixed(0)} s (gRPC, REST, REST, gRPC, …; outboxes drained after each); ${WARMUP_SECONDS} s of warm-up each way at ${WARMUP_CONCURRENCY} first. GetOrder (orders placed above, by their shopper) ${READ_SECONDS} s per way at concurrency ${READ_CONCURRENCIES.join(', ')}. REST: node:http keep-alive, a connection per caller, X-API-Key and Idempotency-Key; gRPC: one channel to orders (as the gateway has), the same shopper principal in metadata as the gateway sends. Deadline ${DEADLINE_MS / 1000} s both ways (gateway DOWNSTREAM_DEADLINE_MS); gateway RATE_LIMIT_PER_MINUTE 10000000, API_KEY_CACHE_MS default (30 s), LOG_LEVEL info, no tracing or metrics export. Database ${MONGO_URL.replace(/\/\/[^@]*@/, '//')}; Kafka ${KAFKA_BROKERS}; the gateway, catalogue, inventory, payments, orders, the load generator, Kafka and the database all on this one machine. Load average ${load(loadAtStart)} at the start, ${load(loadAtEnd)} at the end; ${minutes.toFixed(1)} min in all.

ok/s counts CONFIRMED orders (REST: a 201 whose order is CONFIRMED) or, for GetOrder, the order read; call by call, it is calls per second of time spent in that way's calls. Latencies are over every call, from the bench sending to the answer read. Gateway cores: its CPU over the slices (call by call: the whole run, both ways); it also runs the partner-webhook dispatcher, which reads the order events whichever way the orders were placed. Gateway CPU per REST call: its CPU in the REST slices less its rate in the gRPC slices, per call; call by call, less its idle rate only (an upper bound: it includes dispatching the gRPC orders' events).

${mainTable(results, 'PlaceOrder')}

${ratioTable(results, CONCURRENCIES, 'PlaceOrder')}
${reads.length > 0 ? `\n${mainTable(reads, 'GetOrder')}\n\n${ratioTable(reads, READ_CONCURRENCIES, 'GetOrder')}\n` : ''}
${cpuTable}

${mappingTable}

${memoryTable}
`;
    process.stdout.write(`${report}\n`);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'gateway',
        date: new Date().toISOString(),
        machine: machineLine(),
        loadAverage: { start: loadAtStart, end: loadAtEnd },
        settings: {
          concurrencies: CONCURRENCIES,
          seconds: SECONDS,
          rounds: ROUNDS,
          warmupSeconds: WARMUP_SECONDS,
          warmupConcurrency: WARMUP_CONCURRENCY,
          maxOrdersPerSlice: MAX_ORDERS,
          readSeconds: READ_SECONDS,
          readConcurrencies: READ_CONCURRENCIES,
          skus: SKU_COUNT,
          units: UNITS,
          shoppers: SHOPPERS,
          deadlineMs: DEADLINE_MS,
          mongoUrl: MONGO_URL.replace(/\/\/[^@]*@/, '//'),
          kafkaBrokers: KAFKA_BROKERS,
        },
        placement: results,
        ratios: CONCURRENCIES.map((c) => {
          const g = find(results, 'gRPC', c);
          const r = find(results, 'REST', c);
          return g && r
            ? {
                concurrency: c,
                throughput: r.okPerSecond / g.okPerSecond,
                p50: r.p50 / g.p50,
                p95: r.p95 / g.p95,
                p99: r.p99 / g.p99,
              }
            : { concurrency: c };
        }),
        getOrder: reads,
        idleCpu: idle,
        mappingMicros: mapping,
        minAvailable,
        memoryMiB: memory,
        gatewayPeakMiB,
        minutes,
      })}\n`,
    );
    if (OUT) writeFileSync(OUT, report);
  } finally {
    http.close();
    for (const c of Object.values(raw)) c.close();
    await stopAll();
    await mongo.close();
    await dropDatabases();
  }
}

main().catch(async (error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await stopAll();
  await dropDatabases();
  process.exit(1);
});
