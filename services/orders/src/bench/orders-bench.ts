// Orders benchmark: PlaceOrder to CONFIRMED (orders/s, p50/p95/p99) with catalogue, inventory, payments and orders
// each its own process (built dist/bin.js) on loopback, against the local Kafka and FerretDB or MongoDB. Beside it,
// in the same run, the ceiling: the rate of each single call the placement saga makes (BatchGetSkus,
// PlanFulfilment, Reserve, AuthorizePayment, ExtendHold, plus ReleaseHold to give the stock back) at one
// concurrency, and their latency with one caller; and the resident memory of every process after every run.
// Bounded by time and count, loopback only, no timed assertions. Run: npm run bench:orders (see docs/benchmarks.md).
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import {
  CatalogueServiceClient,
  CatalogueServiceService,
  PriceChannel,
  SalesChannel,
} from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import {
  AdjustmentReason,
  FulfilmentType as InventoryFulfilmentType,
  type HoldLine,
  HoldStatus,
  InventoryServiceClient,
  InventoryServiceService,
  LocationKind,
} from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import {
  OrderStatus,
  OrdersServiceClient,
  OrdersServiceService,
  type PlaceOrderRequest,
} from '@o2o/contracts/gen/o2o/orders/v1/orders';
import {
  PaymentMethod as PayMethod,
  PaymentStatus,
  PaymentsServiceClient,
  PaymentsServiceService,
} from '@o2o/contracts/gen/o2o/payments/v1/payments';
import {
  APPROVED_CARD,
  cpuBetween,
  cpuSnapshot,
  homeDeliveryOrder,
  machineLine,
  memoryOf,
  type Outcome,
  runLoad,
  runTimed as runTimedBare,
  SAMPLE_DELIVERY_POINT,
  sampleLocation,
  startServiceProcess,
  type TimedResult,
  timedTable,
} from '@o2o/kit-bench';
import { asyncClient } from '@o2o/kit-grpc';
import { MongoClient } from 'mongodb';

const env = process.env;
const CONCURRENCIES = (env.BENCH_CONCURRENCIES ?? '8,32,64').split(',').map(Number);
const SECONDS = Number(env.BENCH_SECONDS ?? 15);
const MAX_ORDERS = Number(env.BENCH_MAX_ORDERS ?? 3000);
const CEILING_MAX = Number(env.BENCH_CEILING_MAX ?? 1000);
const CEILING_CONCURRENCY = Number(env.BENCH_CEILING_CONCURRENCY ?? 32);
const CEILING_SECONDS = Number(env.BENCH_CEILING_SECONDS ?? 7);
const SINGLE_SECONDS = Number(env.BENCH_SINGLE_SECONDS ?? 4);
const SKU_COUNT = Number(env.BENCH_SKUS ?? 50);
const UNITS = Number(env.BENCH_UNITS ?? 1_000_000);
const WARMUP = Number(env.BENCH_WARMUP ?? 40);
const IDLE_SECONDS = Number(env.BENCH_IDLE_SECONDS ?? 5);
const MONGO_URL = env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const KAFKA_BROKERS = env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const OUT = env.BENCH_OUT;
/** Every bench call has a deadline, so a stuck service shows as errors rather than a hung run. */
const CALL = { deadlineMs: 30_000 };

type ServiceName = 'catalogue' | 'inventory' | 'payments' | 'orders';
const SERVICES: readonly ServiceName[] = ['catalogue', 'inventory', 'payments', 'orders'];

/** A warehouse and three stores in central Shanghai, all within same-day reach of the delivery point. */
const WAREHOUSE = 'bench-wh';
const STORES = ['bench-store-a', 'bench-store-b', 'bench-store-c'];
const LOCATIONS = [WAREHOUSE, ...STORES];

interface Running {
  name: ServiceName;
  port: number;
  child: ChildProcess;
}

const running: Running[] = [];
let stopping = false;

function alive(s: Running): boolean {
  return s.child.exitCode === null && s.child.signalCode === null;
}

/** SIGTERM, waited for up to 15 s, then SIGKILL. Orders first: it calls the others while it winds down. */
async function stopAll(): Promise<void> {
  stopping = true;
  const order = [...running].sort((a, b) => (a.name === 'orders' ? -1 : b.name === 'orders' ? 1 : 0));
  const stop = async (s: Running) => {
    if (!alive(s)) return;
    const exited = new Promise((r) => s.child.once('exit', r));
    s.child.kill('SIGTERM');
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  const orders = order.filter((s) => s.name === 'orders');
  for (const s of orders) await stop(s);
  await Promise.all(order.filter((s) => s.name !== 'orders').map(stop));
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

async function start(name: ServiceName, extra: Record<string, string>, run: string): Promise<Running> {
  const service = await startServiceProcess(path.join(__dirname, '..', '..', '..', name, 'dist', 'bin.js'), {
    ...env,
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    MONGO_URL,
    MONGO_DB: `bench_ord_${name.slice(0, 3)}_${run}`,
    KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: `bench-orders-${run}.`,
    KAFKA_GROUP_ID: `bench-orders-${run}-${name}`,
    LOG_LEVEL: 'info',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
    ...extra,
  });
  const s: Running = { name, port: service.port, child: service.child };
  running.push(s);
  service.child.on('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`[bench] ${name} exited unexpectedly (code ${code}, signal ${signal})\n`);
  });
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const codeOf = (error: unknown) => (error as { code?: number }).code;

/** The lines of the i-th order (and of the i-th ceiling call): 1..3 different SKUs, 1 or 2 units each. */
function linesOf(i: number, skus: string[]): { skuCode: string; quantity: number }[] {
  const n = 1 + (i % 3);
  const stride = Math.floor(skus.length / 3) || 1;
  return Array.from({ length: Math.min(n, skus.length) }, (_, k) => ({
    skuCode: skus[(i * 7 + k * stride) % skus.length]!,
    quantity: 1 + ((i + k) % 2),
  }));
}

function placeRequest(i: number, run: string, label: string, skus: string[]): PlaceOrderRequest {
  return homeDeliveryOrder({
    requestId: `bench-${run}-${label}-${i}`,
    customerId: `bench-customer-${i % 500}`,
    lines: linesOf(i, skus),
  });
}

async function main(): Promise<void> {
  const run = Date.now().toString(36);
  const loadAtStart = os.loadavg();
  const began = Date.now();

  // ---- the four processes: the three the saga calls, then orders pointed at them ----
  const upstream = await Promise.allSettled([
    start('catalogue', {}, run),
    start('inventory', {}, run),
    start('payments', { WALLET_CALLBACK_PORT: '0' }, run),
  ]);
  const failed = upstream.find((u) => u.status === 'rejected');
  if (failed) throw new Error(`a service did not start: ${String(failed.reason)}`);
  const [cat, inv, pay] = upstream.map((u) => (u as PromiseFulfilledResult<Running>).value) as [
    Running,
    Running,
    Running,
  ];
  const ord = await start(
    'orders',
    {
      CATALOGUE_ADDRESS: `127.0.0.1:${cat.port}`,
      INVENTORY_ADDRESS: `127.0.0.1:${inv.port}`,
      PAYMENTS_ADDRESS: `127.0.0.1:${pay.port}`,
    },
    run,
  );
  const byName: Record<ServiceName, Running> = { catalogue: cat, inventory: inv, payments: pay, orders: ord };
  // CPU used during every run, by our processes, the local Kafka and FerretDB (their pid files, when they run here)
  // and everything else on the machine: how much of the two cores the run had, and what each service cost.
  const stateDir = env.O2O_STATE_DIR ?? path.join(__dirname, '..', '..', '..', '..', '.o2o');
  const infraPid = (name: string) => {
    const file = path.join(stateDir, 'run', `${name}.pid`);
    return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || undefined : undefined;
  };
  const pids = {
    ...Object.fromEntries(SERVICES.map((s) => [s, byName[s].child.pid])),
    bench: process.pid,
    ferretdb: infraPid('ferretdb'),
    kafka: infraPid('kafka'),
  };
  const cpuOf = new Map<TimedResult, ReturnType<typeof cpuBetween>>();
  // The relays publish after the calls answered: every run waits until every outbox is empty, so the next run does
  // not pay for this one's events (and the time it took is reported as the run's deferred work).
  const mongo = await MongoClient.connect(MONGO_URL);
  const databases = SERVICES.map((s) => mongo.db(`bench_ord_${s.slice(0, 3)}_${run}`));
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
  const runTimed: typeof runTimedBare = async (...args) => {
    const before = cpuSnapshot(pids);
    const result = await runTimedBare(...args);
    cpuOf.set(result, cpuBetween(before, cpuSnapshot(pids)));
    result.drainSeconds = await drain();
    process.stderr.write(`[bench]   outboxes drained ${result.drainSeconds.toFixed(1)} s after the run\n`);
    return result;
  };
  process.stderr.write(
    `[bench] catalogue :${cat.port}, inventory :${inv.port}, payments :${pay.port}, orders :${ord.port}; ` +
      `topic prefix bench-orders-${run}.; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}\n`,
  );
  const insecure = credentials.createInsecure();
  const raw = {
    catalogue: new CatalogueServiceClient(`127.0.0.1:${cat.port}`, insecure),
    inventory: new InventoryServiceClient(`127.0.0.1:${inv.port}`, insecure),
    payments: new PaymentsServiceClient(`127.0.0.1:${pay.port}`, insecure),
    orders: new OrdersServiceClient(`127.0.0.1:${ord.port}`, insecure),
  };
  const catalogue = asyncClient(raw.catalogue, CatalogueServiceService);
  const inventory = asyncClient(raw.inventory, InventoryServiceService);
  const payments = asyncClient(raw.payments, PaymentsServiceService);
  const orders = asyncClient(raw.orders, OrdersServiceService);

  try {
    // ---- seed: locations, products (ONLINE prices), stock everywhere once inventory has learnt the SKUs ----
    const [whPoint, ...storePoints] = [
      { latitude: 31.21, longitude: 121.49 },
      { latitude: 31.2336, longitude: 121.4752 },
      { latitude: 31.2197, longitude: 121.475 },
      { latitude: 31.2401, longitude: 121.4602 },
    ];
    await inventory.createLocation({
      locationId: WAREHOUSE,
      location: sampleLocation('Bench warehouse', LocationKind.LOCATION_KIND_WAREHOUSE, whPoint),
    });
    for (const [k, id] of STORES.entries()) {
      await inventory.createLocation({
        locationId: id,
        location: sampleLocation(`Bench store ${k}`, LocationKind.LOCATION_KIND_STORE, storePoints[k]!),
      });
    }
    const skus = Array.from({ length: SKU_COUNT }, (_, i) => `BENCH-${String(i).padStart(3, '0')}`);
    const priceOf = (code: string) => 1000 + 37 * skus.indexOf(code);
    const perProduct = 5;
    for (let at = 0; at < skus.length; at += perProduct) {
      let { product } = await catalogue.createProduct({
        requestId: randomUUID(),
        product: {
          name: `Bench tea ${at / perProduct}`,
          description: 'for the orders benchmark',
          brand: 'Bench',
          categories: ['food/tea'],
          attributes: {},
          imageUrls: [],
          skus: skus.slice(at, at + perProduct).map((code) => ({
            code,
            name: code,
            attributes: {},
            prices: [
              {
                channel: PriceChannel.PRICE_CHANNEL_ONLINE,
                price: { currencyCode: 'CNY', amountMinor: String(priceOf(code)) },
              },
            ],
            sellableChannels: [SalesChannel.SALES_CHANNEL_ONLINE],
            barcode: '',
            imageUrls: [],
          })),
        },
      });
      ({ product } = await catalogue.activateProduct({
        requestId: randomUUID(),
        productId: product!.id,
        expectedVersion: product!.version,
      }));
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
    const receipts = skus.flatMap((skuCode) => LOCATIONS.map((locationId) => ({ skuCode, locationId })));
    await runLoad('setup: AdjustStock receipts', receipts.length, 8, (i) =>
      inventory.adjustStock({
        requestId: `recv-${i}`,
        skuCode: receipts[i]!.skuCode,
        locationId: receipts[i]!.locationId,
        reason: AdjustmentReason.ADJUSTMENT_REASON_RECEIPT,
        quantity: String(UNITS),
        note: 'bench receipt',
      }),
    );

    // ---- the calls of the saga, one at a time ----
    const batchGet = async (i: number): Promise<Outcome> => {
      const answer = await catalogue.batchGetSkus({ skuCodes: linesOf(i, skus).map((l) => l.skuCode) }, CALL);
      return answer.missingSkuCodes.length === 0 ? true : { outcome: 'missing SKUs' };
    };
    const plan = async (i: number): Promise<Outcome> => {
      const answer = await inventory.planFulfilment(
        {
          items: linesOf(i, skus).map((l) => ({ skuCode: l.skuCode, quantity: String(l.quantity) })),
          fulfilmentType: InventoryFulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
          deliveryPoint: SAMPLE_DELIVERY_POINT,
          storeLocationId: '',
          maxDistanceM: 0,
          excludeLocationIds: [],
        },
        CALL,
      );
      return answer.feasible ? true : { outcome: 'infeasible' };
    };
    const holdLines = (i: number): HoldLine[] =>
      linesOf(i, skus).map((l) => ({
        skuCode: l.skuCode,
        locationId: LOCATIONS[i % LOCATIONS.length]!,
        quantity: String(l.quantity),
      }));
    const authorize = (label: string) => async (i: number) => {
      const { payment } = await payments.authorizePayment(
        {
          idempotencyKey: `bench-${run}-${label}-${i}:authorize`,
          orderId: `bench-${run}-${label}-${i}`,
          amount: { currencyCode: 'CNY', amountMinor: String(1000 + (i % 5000)) },
          method: PayMethod.PAYMENT_METHOD_CARD,
          card: { number: APPROVED_CARD },
          wallet: undefined,
          store: undefined,
          expireTime: undefined,
          attribution: undefined,
        },
        CALL,
      );
      return payment?.status === PaymentStatus.PAYMENT_STATUS_AUTHORIZED
        ? (true as const)
        : { outcome: PaymentStatus[payment?.status ?? 0] ?? 'no payment' };
    };
    const extendTo = () => new Date(Date.now() + 24 * 3_600_000);

    /** Reserve (then ExtendHold and ReleaseHold of every hold taken) at one concurrency. */
    const holds = async (label: string, concurrency: number, seconds: number): Promise<TimedResult[]> => {
      const taken: string[] = [];
      const reserve = await runTimed(
        `Reserve (1–3 lines)${label}`,
        concurrency,
        { seconds, max: CEILING_MAX },
        async (i) => {
          const holdId = `bench-${run}-${label.length}-${concurrency}-${i}`;
          const { hold } = await inventory.reserve(
            { holdId, ownerId: `owner-${i}`, lines: holdLines(i), expireTime: undefined },
            CALL,
          );
          if (hold?.status === HoldStatus.HOLD_STATUS_ACTIVE) taken.push(holdId);
          return hold?.status === HoldStatus.HOLD_STATUS_ACTIVE
            ? true
            : { outcome: HoldStatus[hold?.status ?? 0] ?? 'no hold' };
        },
      );
      const extend = await runTimed(`ExtendHold${label}`, concurrency, { seconds, max: taken.length }, async (i) => {
        await inventory.extendHold({ holdId: taken[i]!, expireTime: extendTo() }, CALL);
        return true;
      });
      // Every hold is given back, however long it takes, so the stock stays as seeded.
      const release = await runTimed(
        `ReleaseHold${label}`,
        concurrency,
        { seconds: 3600, max: taken.length },
        async (i) => {
          await inventory.releaseHold({ holdId: taken[i]!, reason: 'bench' }, CALL);
          return true;
        },
      );
      return [reserve, extend, release];
    };

    const memory: { after: string; mib: Record<ServiceName, number | undefined> }[] = [];
    const sampleMemory = (after: string) => {
      const mib = Object.fromEntries(SERVICES.map((s) => [s, memoryOf(byName[s].child.pid)?.rssMiB])) as Record<
        ServiceName,
        number | undefined
      >;
      memory.push({ after, mib });
    };
    sampleMemory('seeding');
    // The background work of the four services with no calls at all (relay polls, sweepers, recovery loops).
    const idle: { name: string; cpu: ReturnType<typeof cpuBetween> }[] = [];
    const idleFor = async (label: string) => {
      if (IDLE_SECONDS <= 0) return;
      const before = cpuSnapshot(pids);
      await sleep(IDLE_SECONDS * 1000);
      idle.push({ name: `idle ${IDLE_SECONDS} s, no calls (${label})`, cpu: cpuBetween(before, cpuSnapshot(pids)) });
    };
    await drain();
    await idleFor('after seeding');

    // Warm-up (not reported): JIT, connection pools, the producers and topics of every service.
    if (WARMUP > 0) {
      await runTimed('warm-up: PlaceOrder', 8, { seconds: 60, max: WARMUP }, async (i) => {
        const { order } = await orders.placeOrder(placeRequest(i, run, 'warmup', skus), CALL);
        return order?.status === OrderStatus.ORDER_STATUS_CONFIRMED ? true : { outcome: 'not confirmed' };
      });
      await runTimed('warm-up: calls', 8, { seconds: 60, max: WARMUP }, async (i) => {
        await batchGet(i);
        await plan(i);
        await authorize('warmup-pay')(i);
        return true;
      });
    }

    // ---- 1. ceiling: each call alone, with one caller (latency) and at CEILING_CONCURRENCY (rate) ----
    const single: TimedResult[] = [];
    const ceiling: TimedResult[] = [];
    for (const [results, concurrency, seconds, label] of [
      [single, 1, SINGLE_SECONDS, ', one caller'],
      [ceiling, CEILING_CONCURRENCY, CEILING_SECONDS, ''],
    ] as const) {
      if (seconds <= 0) continue;
      const bounds = { seconds, max: CEILING_MAX };
      results.push(await runTimed(`catalogue BatchGetSkus (1–3 SKUs)${label}`, concurrency, bounds, batchGet));
      results.push(await runTimed(`inventory PlanFulfilment (HOME_DELIVERY)${label}`, concurrency, bounds, plan));
      const [reserve, extend, release] = await holds(label, concurrency, seconds);
      for (const r of [reserve!, extend!, release!]) {
        r.name = `inventory ${r.name}`;
        results.push(r);
      }
      results.push(
        await runTimed(
          `payments AuthorizePayment (CARD)${label}`,
          concurrency,
          bounds,
          authorize(`ceil-${concurrency}`),
        ),
      );
      sampleMemory(concurrency === 1 ? 'single calls, one caller' : `single calls, c=${concurrency}`);
    }

    // ---- 2. PlaceOrder to CONFIRMED: with one caller (the saga's own latency), then at each concurrency ----
    const placements: TimedResult[] = [];
    const groups: Record<number, number> = {};
    const place = (label: string) => async (i: number) => {
      const { order } = await orders.placeOrder(placeRequest(i, run, label, skus), CALL);
      if (order?.status === OrderStatus.ORDER_STATUS_CONFIRMED) {
        groups[order.groups.length] = (groups[order.groups.length] ?? 0) + 1;
        return true as const;
      }
      return {
        outcome: OrderStatus[order?.status ?? 0]?.replace('ORDER_STATUS_', '') ?? 'no order',
        detail: order?.statusReason,
      };
    };
    if (SINGLE_SECONDS > 0) {
      single.push(
        await runTimed(
          'orders PlaceOrder → CONFIRMED, one caller',
          1,
          { seconds: 2 * SINGLE_SECONDS, max: MAX_ORDERS },
          place('c1'),
        ),
      );
      sampleMemory('PlaceOrder, one caller');
    }
    for (const concurrency of CONCURRENCIES) {
      // Let the relays drain the events of the run before.
      await sleep(2000);
      const bounds = { seconds: SECONDS, max: MAX_ORDERS };
      placements.push(await runTimed('orders PlaceOrder → CONFIRMED', concurrency, bounds, place(`c${concurrency}`)));
      sampleMemory(`PlaceOrder, c=${concurrency}`);
    }
    await idleFor(`after ${placements.reduce((n, r) => n + r.ops, 0)} orders`);
    for (const s of SERVICES) {
      const m = memoryOf(byName[s].child.pid);
      if (m) process.stderr.write(`[bench] ${s}: RSS ${m.rssMiB.toFixed(0)} MiB, peak ${m.peakMiB.toFixed(0)} MiB\n`);
    }
    const peak = Object.fromEntries(SERVICES.map((s) => [s, memoryOf(byName[s].child.pid)?.peakMiB])) as Record<
      ServiceName,
      number | undefined
    >;
    const loadAtEnd = os.loadavg();
    const minutes = (Date.now() - began) / 60_000;

    // ---- report ----
    const mibCell = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(0));
    const memoryTable = [
      '| RSS MiB after | catalogue | inventory | payments | orders |',
      '|---|---:|---:|---:|---:|',
      ...memory.map((m) => `| ${m.after} | ${SERVICES.map((s) => mibCell(m.mib[s])).join(' | ')} |`),
      `| peak (VmHWM) over the run | ${SERVICES.map((s) => mibCell(peak[s])).join(' | ')} |`,
    ].join('\n');
    const cpuLabels = ['catalogue', 'inventory', 'payments', 'orders', 'bench', 'ferretdb', 'kafka'];
    const cores = (v: number | undefined, seconds: number) => (v === undefined ? 'n/a' : (v / seconds).toFixed(2));
    const cpuRows = [
      ...[...placements, ...ceiling, ...single].map((r) => ({
        name: `${r.name}, c=${r.concurrency}`,
        cpu: cpuOf.get(r),
      })),
      ...idle,
    ];
    const cpuTable = [
      `| CPU cores used during | ${cpuLabels.join(' | ')} | everything else | machine busy |`,
      `|---|${cpuLabels.map(() => '---:|').join('')}---:|---:|`,
      ...cpuRows.map(({ name, cpu: c }) => {
        if (!c) return `| ${name} | ${cpuLabels.map(() => 'n/a').join(' | ')} | n/a | n/a |`;
        const cells = cpuLabels.map((l) => cores(c.processes[l], c.seconds));
        return `| ${name} | ${cells.join(' | ')} | ${c.othersCores.toFixed(2)} | ${c.busyCores.toFixed(2)} |`;
      }),
    ].join('\n');
    const perOrder = [
      `| CPU ms per confirmed order | ${cpuLabels.join(' | ')} |`,
      `|---|${cpuLabels.map(() => '---:|').join('')}`,
      ...[...single.filter((r) => r.name.startsWith('orders')), ...placements].map((r) => {
        const c = cpuOf.get(r);
        const cells = cpuLabels.map((l) => {
          const v = c?.processes[l];
          return v === undefined || r.ok === 0 ? 'n/a' : ((v / r.ok) * 1000).toFixed(1);
        });
        return `| c=${r.concurrency} | ${cells.join(' | ')} |`;
      }),
    ].join('\n');
    const groupText = Object.entries(groups)
      .map(([n, count]) => `${count} with ${n} group${n === '1' ? '' : 's'}`)
      .join(', ');
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
    const report = `### Orders, ${new Date().toISOString().slice(0, 10)}

${machineLine()}
Settings: PlaceOrder (WEB, HOME_DELIVERY, CARD approved, 1–3 lines of 1–2 units) for ${SECONDS} s or ${MAX_ORDERS} orders at concurrency ${CONCURRENCIES.join(', ')}; single calls for ${CEILING_SECONDS} s or ${CEILING_MAX} calls at concurrency ${CEILING_CONCURRENCY} and ${SINGLE_SECONDS} s with one caller (PlaceOrder with one caller ${2 * SINGLE_SECONDS} s); ${SKU_COUNT} SKUs × ${UNITS} units at each of ${LOCATIONS.length} locations (a warehouse, ${STORES.length} stores); ${WARMUP} warm-up orders; database ${MONGO_URL.replace(/\/\/[^@]*@/, '//')}; Kafka ${KAFKA_BROKERS}; catalogue, inventory, payments, orders, the load generator, Kafka and the database all on this machine. Load average ${load(loadAtStart)} at the start, ${load(loadAtEnd)} at the end; ${minutes.toFixed(1)} min in all. Confirmed orders: ${groupText || 'none'}.

ok/s counts calls that answered the expected outcome (PlaceOrder: the order CONFIRMED; Reserve: the hold ACTIVE; AuthorizePayment: AUTHORIZED); latencies are over every call. After every run the bench waits until every service's outbox is empty (the events of the run published to Kafka) before the next one: "outbox drain s" is that wait.

${timedTable([...placements, ...ceiling, ...single])}

${memoryTable}

${cpuTable}

${perOrder}
`;
    process.stdout.write(`${report}\n`);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'orders',
        date: new Date().toISOString(),
        machine: machineLine(),
        loadAverage: { start: loadAtStart, end: loadAtEnd },
        settings: {
          concurrencies: CONCURRENCIES,
          seconds: SECONDS,
          maxOrders: MAX_ORDERS,
          ceilingConcurrency: CEILING_CONCURRENCY,
          ceilingSeconds: CEILING_SECONDS,
          singleSeconds: SINGLE_SECONDS,
          skus: SKU_COUNT,
          units: UNITS,
          locations: LOCATIONS.length,
          warmup: WARMUP,
          mongoUrl: MONGO_URL.replace(/\/\/[^@]*@/, '//'),
          kafkaBrokers: KAFKA_BROKERS,
        },
        placements: placements.map((r) => ({ ...r, cpu: cpuOf.get(r) })),
        ceiling: ceiling.map((r) => ({ ...r, cpu: cpuOf.get(r) })),
        single: single.map((r) => ({ ...r, cpu: cpuOf.get(r) })),
        idle,
        groupsPerConfirmedOrder: groups,
        memoryMiB: memory,
        peakMiB: peak,
        minutes,
      })}\n`,
    );
    if (OUT) writeFileSync(OUT, report);
  } finally {
    for (const c of Object.values(raw)) c.close();
    await stopAll();
    for (const db of databases) await db.dropDatabase().catch(() => undefined);
    await mongo.close();
  }
}

main().catch(async (error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await stopAll();
  process.exit(1);
});
