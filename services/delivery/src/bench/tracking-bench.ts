// Live-tracking benchmark: one courier streaming positions (10/s by default) to one shipment watched by W shoppers,
// for W = 10, 100, 1000: positions accepted per second and fan-out latency (the courier's send → each watcher's
// receipt) p50/p95/p99/max, with how many updates reached the watchers and whether any came out of order; then the
// ingest ceiling: many couriers streaming at once with nobody watching, without shipments and on shipments.
//
// By default it starts inventory and delivery as their own processes (built dist/bin.js) on loopback, against the
// local Kafka and FerretDB or MongoDB; with --address it targets a delivery service already running (then
// --location-id names a location its inventory knows, and --kafka-brokers/--topic-prefix where its orders topic is).
// Bounded by time (each run --seconds), loopback only, no timed assertions.
// Run: node services/delivery/dist/bench/tracking-bench.js [--watchers 10,100,1000] [--rate 10] [--seconds 10]
//      [--couriers 200] [--courier-rate 100] [--shipments 20] [--out report.md] (raise --couriers until accepted/s
//      stops following offered/s to find the ceiling; the load generator shares the machine).
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type ChannelOptions, credentials, type ServiceError, status } from '@grpc/grpc-js';
import {
  DeliveryServiceClient,
  DeliveryServiceService,
  type ReportPositionsRequest,
  type ReportPositionsResponse,
  Vehicle,
  type WatchShipmentResponse,
} from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import {
  InventoryServiceClient,
  InventoryServiceService,
  LocationKind,
  LocationStatus,
} from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import * as orderEvents from '@o2o/contracts/gen/o2o/orders/v1/events';
import { FulfilmentType, type Order } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { cpuBetween, cpuSnapshot, machineLine, memoryOf, startServiceProcess } from '@o2o/kit-bench';
import { type AsyncClient, asyncClient } from '@o2o/kit-grpc';
import { createKafkaClient, type EventProducer, type KafkaClient, toCloudEventHeaders } from '@o2o/kit-kafka';
import { createLogger } from '@o2o/kit-log';
import { MongoClient } from 'mongodb';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string' },
    'location-id': { type: 'string' },
    'kafka-brokers': { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
    'topic-prefix': { type: 'string', default: '' },
    'mongo-url': { type: 'string', default: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017' },
    watchers: { type: 'string', default: '10,100,1000' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '10' },
    couriers: { type: 'string', default: '200' },
    'courier-rate': { type: 'string', default: '100' },
    shipments: { type: 'string', default: '20' },
    out: { type: 'string' },
    /** Where the services' built bin.js files are (default: next to this compiled file's package). */
    'services-dir': { type: 'string', default: path.join(__dirname, '..', '..', '..') },
  },
});
const WATCHERS = args.watchers.split(',').map(Number);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const COURIERS = Number(args.couriers);
const COURIER_RATE = Number(args['courier-rate']);
const SHIPMENTS = Number(args.shipments);
/** Watch streams per client channel (shoppers do not share one connection; a thousand on one would be unfair). */
const WATCHERS_PER_CHANNEL = 50;
const CALL = { deadlineMs: 30_000 };
const run = Date.now().toString(36);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Where shipments are set up: the delivery service, its orders topic and a location its inventory knows. */
export interface BenchTarget {
  address: string;
  delivery: AsyncClient<typeof DeliveryServiceService>;
  /** The location the bench's orders are fulfilled from, and where it is. */
  location: { id: string; point: { latitude: number; longitude: number } };
  /** Publishes an OrderConfirmed to the orders topic delivery reads. */
  confirmOrder(order: Order): Promise<void>;
  /** The delivery process, when the bench started it (for memory and CPU figures). */
  pid?: number;
  stop(): Promise<void>;
}

/** A shipment ASSIGNED to a courier of its own, ready for that courier's positions. */
export interface PreparedShipment {
  shipmentId: string;
  courierId: string;
  destination: { latitude: number; longitude: number };
}

/**
 * Sets up one shipment in the ASSIGNED state: registers a courier (capacity 1) on shift 200 m from the location,
 * publishes an OrderConfirmed for a home delivery from that location, waits for its fulfilment, accepts the task
 * (which offers the shipment to the nearest free courier: the new one, since earlier bench couriers are full) and
 * accepts the offer as that courier.
 */
export async function prepareShipment(target: BenchTarget, label: string): Promise<PreparedShipment> {
  const { delivery, location } = target;
  const courierId = `bench-${run}-${label}`;
  await delivery.registerCourier(
    { courierId, name: `Bench rider ${label}`, phone: '+8613900000000', vehicle: Vehicle.VEHICLE_E_BIKE, capacity: 1 },
    CALL,
  );
  await delivery.setCourierAvailability(
    {
      courierId,
      available: true,
      point: { latitude: location.point.latitude + 0.0018, longitude: location.point.longitude },
    },
    CALL,
  );
  const orderId = `bench-${run}-${label}`;
  const destination = { latitude: location.point.latitude + 0.018, longitude: location.point.longitude + 0.01 };
  await target.confirmOrder(benchOrder(orderId, location.id, destination));
  const fulfilment = await retry(`the fulfilment of ${orderId}`, async () => {
    const found = await delivery.getFulfilment({ fulfilmentId: '', orderId, groupId: 'g1' }, CALL).catch(notFound);
    return found?.fulfilment;
  });
  const accepted = await delivery.acceptTask(
    { fulfilmentId: fulfilment.id, locationId: location.id, associateId: 'bench' },
    CALL,
  );
  const shipmentId = accepted.fulfilment?.shipment?.id;
  if (!shipmentId) throw new Error(`Accepting the task of ${orderId} created no shipment`);
  // Dispatch offers at once when it finds a courier, else the sweeper tries again.
  const offered = await retry(`an offer for ${shipmentId}`, async () => {
    const { fulfilment: f } = await delivery.getFulfilment(
      { fulfilmentId: fulfilment.id, orderId: '', groupId: '' },
      CALL,
    );
    return f?.shipment?.offer?.courierId || undefined;
  });
  await delivery.acceptAssignment({ shipmentId, courierId: offered }, CALL);
  return { shipmentId, courierId: offered, destination };
}

function benchOrder(orderId: string, locationId: string, point: { latitude: number; longitude: number }): Order {
  return orderEvents.OrderConfirmed.fromPartial({
    order: {
      id: orderId,
      customerId: `bench-customer-${orderId}`,
      fulfilment: {
        type: FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
        delivery: {
          point,
          address: {
            lines: ['1 Bench Road'],
            district: 'Huangpu',
            city: 'Shanghai',
            region: 'Shanghai',
            postalCode: '200001',
            countryCode: 'CN',
          },
          recipientName: 'Bench Shopper',
          recipientPhone: '+8613800000000',
        },
      },
      groups: [
        {
          id: 'g1',
          type: FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
          locationId,
          items: [{ skuCode: 'BENCH-TEA', quantity: '1' }],
        },
      ],
    },
  }).order!;
}

async function retry<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(100);
  }
}

function notFound(error: unknown): undefined {
  if ((error as Partial<ServiceError>).code === status.NOT_FOUND) return undefined;
  throw error;
}

/** Client channels that do not share a connection (grpc-js pools subchannels by target and options otherwise). */
function channels(address: string, count: number): DeliveryServiceClient[] {
  return Array.from({ length: count }, () => {
    const options: ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };
    return new DeliveryServiceClient(address, credentials.createInsecure(), options);
  });
}

/** One courier stream; `finish` ends it and resolves with the server's summary. */
function courierStream(client: DeliveryServiceClient) {
  let settle: (result: ReportPositionsResponse) => void = () => undefined;
  let fail: (error: ServiceError) => void = () => undefined;
  const summary = new Promise<ReportPositionsResponse>((resolve, reject) => ((settle = resolve), (fail = reject)));
  summary.catch(() => undefined);
  const stream = client.reportPositions((error, response) => (error ? fail(error) : settle(response)));
  return {
    /** Writes one report; resolves at once unless the stream asks to wait. */
    async write(request: ReportPositionsRequest): Promise<void> {
      if (!stream.write(request)) await new Promise((r) => stream.once('drain', r));
    },
    async finish(): Promise<ReportPositionsResponse> {
      stream.end();
      return summary;
    },
  };
}

function report(courierId: string, shipmentId: string, point: { latitude: number; longitude: number }, timeMs: number) {
  return { courierId, shipmentId, point, time: new Date(timeMs), speedMps: 5, headingDeg: 45, accuracyM: 5 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface FanOutResult {
  watchers: number;
  sent: number;
  accepted: number;
  rejected: Record<string, number>;
  acceptedPerSecond: number;
  /** Position updates that reached a watcher, and how many would have if none were coalesced. */
  delivered: number;
  expected: number;
  outOfOrder: number;
  watchErrors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  cpu?: ReturnType<typeof cpuBetween>;
  rssMiB?: number;
}

/** W watchers on one shipment while its courier streams RATE positions a second for SECONDS. */
async function fanOut(target: BenchTarget, shipment: PreparedShipment, watchers: number): Promise<FanOutResult> {
  const pool = channels(target.address, Math.ceil(watchers / WATCHERS_PER_CHANNEL));
  const [courierClient] = channels(target.address, 1);
  const sentAt = new Map<number, bigint>();
  const latencies: number[] = [];
  let ready = 0;
  let outOfOrder = 0;
  let watchErrors = 0;
  const calls = Array.from({ length: watchers }, (_, i) => {
    const call = pool[i % pool.length]!.watchShipment({ shipmentId: shipment.shipmentId });
    let last = -1n;
    let first = true;
    call.on('data', (m: WatchShipmentResponse) => {
      const received = process.hrtime.bigint();
      const sequence = BigInt(m.sequence);
      if (sequence <= last) outOfOrder++;
      last = sequence;
      if (first) {
        first = false;
        ready++;
        return;
      }
      const sent = m.position?.time ? sentAt.get(m.position.time.getTime()) : undefined;
      if (sent !== undefined) latencies.push(Number(received - sent) / 1e6);
    });
    call.on('error', (error: ServiceError) => {
      if (error.code !== status.CANCELLED) watchErrors++;
    });
    return call;
  });
  await retry(
    `${watchers} watchers to get their first update`,
    async () => (ready === watchers ? true : undefined),
    60_000,
  );

  const pids = { delivery: target.pid, bench: process.pid };
  const before = cpuSnapshot(pids);
  const courier = courierStream(courierClient!);
  const start = Date.now();
  const intervalMs = 1000 / RATE;
  let sent = 0;
  let lastMs = 0;
  while (Date.now() - start < SECONDS * 1000) {
    // The fix time is the send time (ms, unique per fix): each receipt finds its send's high-resolution clock.
    const timeMs = Math.max(Date.now(), lastMs + 1);
    lastMs = timeMs;
    const step = sent * 0.00001;
    const point = {
      latitude: target.location.point.latitude + step,
      longitude: target.location.point.longitude + step,
    };
    sentAt.set(timeMs, process.hrtime.bigint());
    await courier.write(report(shipment.courierId, shipment.shipmentId, point, timeMs));
    sent++;
    const next = start + sent * intervalMs;
    await sleep(Math.max(0, next - Date.now()));
  }
  const summary = await courier.finish();
  const cpu = cpuBetween(before, cpuSnapshot(pids));
  await sleep(1000);
  for (const call of calls) call.cancel();
  for (const c of [...pool, courierClient!]) c.close();
  latencies.sort((a, b) => a - b);
  return {
    watchers,
    sent,
    accepted: summary.accepted,
    rejected: summary.rejected,
    acceptedPerSecond: summary.accepted / SECONDS,
    delivered: latencies.length,
    expected: summary.accepted * watchers,
    outOfOrder,
    watchErrors,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? NaN,
    cpu,
    rssMiB: memoryOf(target.pid)?.rssMiB,
  };
}

interface IngestResult {
  name: string;
  couriers: number;
  offeredPerSecond: number;
  acceptedPerSecond: number;
  rejected: Record<string, number>;
  errors: number;
  cpu?: ReturnType<typeof cpuBetween>;
}

/** Many couriers at once, each paced at `ratePerCourier`, nobody watching. */
async function ingest(
  target: BenchTarget,
  name: string,
  couriers: { courierId: string; shipmentId: string }[],
  ratePerCourier: number,
): Promise<IngestResult> {
  const pool = channels(target.address, Math.ceil(couriers.length / 25));
  const pids = { delivery: target.pid, bench: process.pid };
  const before = cpuSnapshot(pids);
  const start = Date.now();
  const rejected: Record<string, number> = {};
  let accepted = 0;
  let errors = 0;
  await Promise.all(
    couriers.map(async (c, i) => {
      const stream = courierStream(pool[i % pool.length]!);
      // Ticks of 50 ms keep the timers few; each sends its share of the rate.
      const perTick = ratePerCourier / 20;
      let sent = 0;
      let lastMs = 0;
      for (let tick = 1; Date.now() - start < SECONDS * 1000; tick++) {
        while (sent < tick * perTick) {
          lastMs = Math.max(Date.now(), lastMs + 1);
          await stream.write(
            report(c.courierId, c.shipmentId, { latitude: 31.2 + sent * 1e-5, longitude: 121.47 }, lastMs),
          );
          sent++;
        }
        await sleep(Math.max(0, start + tick * 50 - Date.now()));
      }
      try {
        const summary = await stream.finish();
        accepted += summary.accepted;
        for (const [k, v] of Object.entries(summary.rejected)) rejected[k] = (rejected[k] ?? 0) + v;
      } catch {
        errors++;
      }
    }),
  );
  const seconds = (Date.now() - start) / 1000;
  const cpu = cpuBetween(before, cpuSnapshot(pids));
  for (const c of pool) c.close();
  return {
    name,
    couriers: couriers.length,
    offeredPerSecond: couriers.length * ratePerCourier,
    acceptedPerSecond: accepted / seconds,
    rejected,
    errors,
    cpu,
  };
}

/** Starts inventory and delivery as processes, with a location in central Shanghai. */
async function startServices(): Promise<BenchTarget> {
  const brokers = args['kafka-brokers'];
  const mongoUrl = args['mongo-url'];
  const prefix = `bench-tracking-${run}.`;
  const common = {
    ...process.env,
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    MONGO_URL: mongoUrl,
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC_PREFIX: prefix,
    LOG_LEVEL: 'info',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
  };
  const services = args['services-dir'];
  const inventory = await startServiceProcess(path.join(services, 'inventory', 'dist', 'bin.js'), {
    ...common,
    MONGO_DB: `bench_trk_inv_${run}`,
    KAFKA_GROUP_ID: `bench-tracking-${run}-inventory`,
  });
  const delivery = await startServiceProcess(path.join(services, 'delivery', 'dist', 'bin.js'), {
    ...common,
    MONGO_DB: `bench_trk_dlv_${run}`,
    KAFKA_GROUP_ID: `bench-tracking-${run}-delivery`,
    INVENTORY_ADDRESS: `127.0.0.1:${inventory.port}`,
    // The ingest runs push each courier to the highest rate the service allows.
    POSITION_MAX_PER_SECOND: '100',
  });
  const locations = asyncClient(
    new InventoryServiceClient(`127.0.0.1:${inventory.port}`, credentials.createInsecure()),
    InventoryServiceService,
  );
  const location = { id: `bench-store-${run}`, point: { latitude: 31.2336, longitude: 121.4752 } };
  await locations.createLocation(
    {
      locationId: location.id,
      location: {
        name: 'Bench store',
        kind: LocationKind.LOCATION_KIND_STORE,
        point: location.point,
        address: {
          lines: ['1 Bench Road'],
          district: 'Huangpu',
          city: 'Shanghai',
          region: 'Shanghai',
          postalCode: '200001',
          countryCode: 'CN',
          location: undefined,
        },
        timeZone: 'Asia/Shanghai',
        openingHours: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, opens: '00:00', closes: '23:59' })),
        capabilities: { shipsParcels: true, storePickup: true, sameDayRadiusM: 20_000, acceptsReturns: true },
        status: LocationStatus.LOCATION_STATUS_OPEN,
      },
    },
    CALL,
  );
  const orders = await ordersProducer(brokers, `${prefix}o2o.orders.v1`);
  const address = `127.0.0.1:${delivery.port}`;
  const raw = new DeliveryServiceClient(address, credentials.createInsecure());
  return {
    address,
    delivery: asyncClient(raw, DeliveryServiceService),
    location,
    confirmOrder: (order) => orders.confirm(order),
    pid: delivery.child.pid,
    async stop() {
      raw.close();
      await orders.close();
      await delivery.stop();
      await inventory.stop();
      const mongo = await MongoClient.connect(mongoUrl);
      for (const db of [`bench_trk_inv_${run}`, `bench_trk_dlv_${run}`])
        await mongo
          .db(db)
          .dropDatabase()
          .catch(() => undefined);
      await mongo.close();
    },
  };
}

/** A delivery service already running at --address. */
async function existingService(address: string): Promise<BenchTarget> {
  const locationId = args['location-id'];
  if (!locationId) throw new Error("--address needs --location-id: a location the service's inventory knows");
  const raw = new DeliveryServiceClient(address, credentials.createInsecure());
  const delivery = asyncClient(raw, DeliveryServiceService);
  const orders = await ordersProducer(args['kafka-brokers'], `${args['topic-prefix']}o2o.orders.v1`);
  // Where the location is only matters for the couriers' positions: they start near it.
  return {
    address,
    delivery,
    location: { id: locationId, point: { latitude: 31.2336, longitude: 121.4752 } },
    confirmOrder: (order) => orders.confirm(order),
    async stop() {
      raw.close();
      await orders.close();
    },
  };
}

async function ordersProducer(brokers: string, topic: string) {
  const kafka: KafkaClient = createKafkaClient({
    clientId: `bench-tracking-${run}`,
    brokers: brokers.split(','),
    logger: createLogger({ service: 'tracking-bench', level: 'warn' }),
  });
  await kafka.ensureTopics([{ topic, partitions: 6 }]);
  const producer: EventProducer = await kafka.producer();
  return {
    async confirm(order: Order) {
      const headers = toCloudEventHeaders({
        id: randomUUID(),
        type: 'o2o.orders.v1.OrderConfirmed',
        source: '/o2o/orders',
        subject: order.id,
        time: new Date(),
      });
      const value = Buffer.from(orderEvents.OrderConfirmed.encode({ order }).finish());
      await producer.send([{ topic, key: order.id, value, headers }]);
    },
    close: () => kafka.close(),
  };
}

function cores(cpu: ReturnType<typeof cpuBetween> | undefined, label: string): string {
  const v = cpu?.processes[label];
  return v === undefined || !cpu ? 'n/a' : (v / cpu.seconds).toFixed(2);
}

async function main(): Promise<void> {
  const target = args.address ? await existingService(args.address) : await startServices();
  try {
    log(`delivery at ${target.address}; preparing shipments`);
    const fanOuts: FanOutResult[] = [];
    for (const watchers of WATCHERS) {
      const shipment = await prepareShipment(target, `w${watchers}`);
      const result = await fanOut(target, shipment, watchers);
      log(
        `${watchers} watchers: ${result.acceptedPerSecond.toFixed(1)} positions/s accepted, ` +
          `${result.delivered}/${result.expected} delivered, p50 ${result.p50.toFixed(2)} p99 ${result.p99.toFixed(2)} ms`,
      );
      fanOuts.push(result);
    }
    const idle = Array.from({ length: COURIERS }, (_, i) => ({ courierId: `bench-${run}-idle-${i}`, shipmentId: '' }));
    for (const c of idle) {
      await target.delivery.registerCourier(
        {
          courierId: c.courierId,
          name: 'Bench rider',
          phone: '+8613900000000',
          vehicle: Vehicle.VEHICLE_E_BIKE,
          capacity: 1,
        },
        CALL,
      );
    }
    const ingests: IngestResult[] = [];
    ingests.push(await ingest(target, 'couriers without a shipment', idle, COURIER_RATE));
    const carrying: { courierId: string; shipmentId: string }[] = [];
    for (let i = 0; i < SHIPMENTS; i++) carrying.push(await prepareShipment(target, `ingest-${i}`));
    ingests.push(await ingest(target, 'couriers on shipments', carrying, 100));
    for (const r of ingests)
      log(`${r.name}: ${r.acceptedPerSecond.toFixed(0)} accepted/s of ${r.offeredPerSecond} offered`);

    const fanOutTable = [
      '| watchers | positions/s accepted | updates delivered / expected | out of order | p50 ms | p95 ms | p99 ms | max ms | delivery cores | bench cores | delivery RSS MiB |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...fanOuts.map(
        (r) =>
          `| ${r.watchers} | ${r.acceptedPerSecond.toFixed(1)} | ${r.delivered} / ${r.expected} | ${r.outOfOrder} | ` +
          `${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ` +
          `${cores(r.cpu, 'delivery')} | ${cores(r.cpu, 'bench')} | ${r.rssMiB?.toFixed(0) ?? 'n/a'} |`,
      ),
    ].join('\n');
    const ingestTable = [
      '| ingest run | couriers | offered/s | accepted/s | rejected | stream errors | delivery cores | bench cores |',
      '|---|---:|---:|---:|---|---:|---:|---:|',
      ...ingests.map(
        (r) =>
          `| ${r.name} | ${r.couriers} | ${r.offeredPerSecond} | ${r.acceptedPerSecond.toFixed(0)} | ` +
          `${
            Object.entries(r.rejected)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ') || 0
          } | ${r.errors} | ` +
          `${cores(r.cpu, 'delivery')} | ${cores(r.cpu, 'bench')} |`,
      ),
    ].join('\n');
    const text = `### Live tracking, ${new Date().toISOString().slice(0, 10)}

${machineLine()}
Settings: one courier streaming ${RATE} positions/s for ${SECONDS} s to one shipment, watched by ${WATCHERS.join(', ')} watchers (${WATCHERS_PER_CHANNEL} watch streams per client connection); ingest: ${COURIERS} couriers without a shipment at ${COURIER_RATE}/s each, then ${SHIPMENTS} couriers on shipments at 100/s each (the service's highest allowed rate), ${SECONDS} s each; delivery ${args.address ? `at ${args.address}` : 'started by the bench (one replica)'}, the load generator on the same machine.

Fan-out latency is from the courier's send of a fix to a watcher's receipt of the update carrying it (both in this process, high-resolution clock), over every (watcher, update) pair; "delivered / expected" counts position updates that reached watchers against accepted positions × watchers (less means a slow watcher's positions were coalesced).

${fanOutTable}

${ingestTable}
`;
    process.stdout.write(`${text}\n`);
    process.stdout.write(
      `${JSON.stringify({ bench: 'tracking', date: new Date().toISOString(), machine: machineLine(), settings: { watchers: WATCHERS, rate: RATE, seconds: SECONDS, couriers: COURIERS, courierRate: COURIER_RATE, shipments: SHIPMENTS }, fanOuts, ingests })}\n`,
    );
    if (args.out) writeFileSync(args.out, text);
  } finally {
    await target.stop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  });
}
