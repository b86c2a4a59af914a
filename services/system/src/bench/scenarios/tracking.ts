// Tracking fan-out: for each watcher count W, one shipment of a real order (placed through the gateway, its task
// accepted, offered to a courier who accepts), W shoppers watching it over gRPC WatchShipment plus some over the
// gateway's server-sent events route, while its courier streams positions at a fixed rate. Reports positions
// accepted per second and the latency from the courier's send of a fix to each watcher's receipt of it.
//
// The shipments come from orders the orders service really holds (unlike the delivery benchmark's prepareShipment,
// which publishes a synthetic OrderConfirmed of an order no service knows): the gateway's tracking route first checks
// that the caller may see the order, so SSE watchers need a real one.
import { request } from 'node:http';
import { type ChannelOptions, type ClientReadableStream, credentials, type ServiceError, status } from '@grpc/grpc-js';
import {
  DeliveryServiceClient,
  type ReportPositionsResponse,
  Vehicle,
  type WatchShipmentResponse,
} from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { orderBody, placeRest } from '../orders-rest';
import { log, percentiles, ticker } from '../progress';
import { latencyCells, type ScenarioResult, table } from '../report';
import { issueKey, pointOf, receive, seedSkus, WAREHOUSE } from '../seed';
import { settings } from '../settings';
import type { System } from '../system';

const CALL = { deadlineMs: 30_000 };
/** Watch streams per client connection: shoppers do not share one connection; hundreds on one would be unfair. */
const WATCHERS_PER_CHANNEL = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const notFound = (error: unknown) => {
  if ((error as Partial<ServiceError>).code === status.NOT_FOUND) return undefined;
  throw error;
};

interface Shipment {
  orderId: string;
  groupId: string;
  shipmentId: string;
  courierId: string;
}

/** A real home-delivery order from the warehouse, its task accepted and its shipment accepted by a new courier. */
async function prepareRealShipment(sys: System, key: string, sku: string, label: string): Promise<Shipment> {
  const placed = await placeRest(
    sys,
    key,
    `trk-${sys.run}-${label}`,
    orderBody('delivery', [{ skuCode: sku, quantity: 1 }], { storeId: '', associateId: '' }),
    'ORDER_STATUS_CONFIRMED',
  );
  if (!placed.ok || !placed.order) throw new Error(`the tracking order was not confirmed: ${JSON.stringify(placed)}`);
  const orderId = placed.order.id;
  const group = placed.order.groups?.[0];
  if (!group) throw new Error(`order ${orderId} has no group`);
  // A courier of capacity 1 on shift 200 m from the warehouse: the nearest free one (earlier ones carry a parcel).
  const courierId = `trk-${sys.run}-${label}`;
  const at = pointOf(WAREHOUSE);
  await sys.delivery.registerCourier(
    { courierId, name: `Bench rider ${label}`, phone: '+8613900000000', vehicle: Vehicle.VEHICLE_E_BIKE, capacity: 1 },
    CALL,
  );
  await sys.delivery.setCourierAvailability(
    { courierId, available: true, point: { latitude: at.latitude + 0.0018, longitude: at.longitude } },
    CALL,
  );
  const fulfilment = await until(`the fulfilment of ${orderId}`, async () => {
    const found = await sys.delivery
      .getFulfilment({ fulfilmentId: '', orderId, groupId: group.id }, CALL)
      .catch(notFound);
    return found?.fulfilment;
  });
  const accepted = await sys.delivery.acceptTask(
    { fulfilmentId: fulfilment.id, locationId: group.locationId, associateId: 'bench' },
    CALL,
  );
  const shipmentId = accepted.fulfilment?.shipment?.id;
  if (!shipmentId) throw new Error(`accepting the task of ${orderId} created no shipment`);
  const offered = await until(`an offer for ${shipmentId}`, async () => {
    const { fulfilment: f } = await sys.delivery.getFulfilment(
      { fulfilmentId: fulfilment.id, orderId: '', groupId: '' },
      CALL,
    );
    return f?.shipment?.offer?.courierId || undefined;
  });
  await sys.delivery.acceptAssignment({ shipmentId, courierId: offered }, CALL);
  return { orderId, groupId: group.id, shipmentId, courierId: offered };
}

/** What the watchers of one kind saw. */
interface Watched {
  latencies: number[];
  ready: number;
  errors: number;
  outOfOrder: number;
}

function watched(): Watched {
  return { latencies: [], ready: 0, errors: 0, outOfOrder: 0 };
}

/** W gRPC watchers on distinct connections (50 streams each). */
function grpcWatchers(sys: System, shipmentId: string, count: number, sentAt: Map<number, bigint>, into: Watched) {
  const options: ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };
  const clients = Array.from(
    { length: Math.ceil(count / WATCHERS_PER_CHANNEL) },
    () => new DeliveryServiceClient(`127.0.0.1:${sys.ports.delivery}`, credentials.createInsecure(), options),
  );
  const calls: ClientReadableStream<WatchShipmentResponse>[] = [];
  for (let i = 0; i < count; i++) {
    const call = clients[i % clients.length]!.watchShipment({ shipmentId });
    let first = true;
    let last = -1n;
    call.on('data', (m: WatchShipmentResponse) => {
      const received = process.hrtime.bigint();
      const sequence = BigInt(m.sequence);
      if (sequence <= last) into.outOfOrder++;
      last = sequence;
      if (first) {
        first = false;
        into.ready++;
        return;
      }
      const sent = m.position?.time ? sentAt.get(m.position.time.getTime()) : undefined;
      if (sent !== undefined) into.latencies.push(Number(received - sent) / 1e6);
    });
    call.on('error', (error: ServiceError) => {
      if (error.code !== status.CANCELLED) into.errors++;
    });
    calls.push(call);
  }
  return {
    close() {
      for (const c of calls) c.cancel();
      for (const c of clients) c.close();
    },
  };
}

/** S watchers of the gateway's SSE route, each its own HTTP connection, with the buyer's key. */
function sseWatchers(
  sys: System,
  shipment: Shipment,
  key: string,
  count: number,
  sentAt: Map<number, bigint>,
  into: Watched,
) {
  const requests = Array.from({ length: count }, () => {
    let first = true;
    let last = -1;
    let buffer = '';
    const req = request(
      {
        host: '127.0.0.1',
        port: sys.ports.gateway,
        path: `/v1/orders/${encodeURIComponent(shipment.orderId)}/groups/${encodeURIComponent(shipment.groupId)}/tracking`,
        headers: { 'x-api-key': key, accept: 'text/event-stream' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          into.errors++;
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const received = process.hrtime.bigint();
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = /^data: (.*)$/m.exec(event)?.[1];
            if (!/^event: update$/m.test(event) || data === undefined) continue;
            const m = JSON.parse(data) as { sequence?: string; position?: { time?: string } };
            const sequence = Number(m.sequence ?? 0);
            if (sequence <= last) into.outOfOrder++;
            last = sequence;
            if (first) {
              first = false;
              into.ready++;
              continue;
            }
            const sent = m.position?.time ? sentAt.get(Date.parse(m.position.time)) : undefined;
            if (sent !== undefined) into.latencies.push(Number(received - sent) / 1e6);
          }
        });
        res.on('error', () => undefined);
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.message !== 'aborted') into.errors++;
    });
    req.end();
    return req;
  });
  return {
    close() {
      for (const r of requests) r.destroy();
    },
  };
}

interface FanOut {
  watchers: number;
  sse: number;
  sent: number;
  accepted: number;
  rejected: Record<string, number>;
  seconds: number;
  grpc: Watched;
  gateway: Watched;
}

/** W gRPC and S SSE watchers while the courier streams RATE fixes a second for SECONDS. */
async function fanOut(sys: System, shipment: Shipment, key: string, watchers: number, sse: number): Promise<FanOut> {
  const sentAt = new Map<number, bigint>();
  const grpc = watched();
  const gateway = watched();
  const g = grpcWatchers(sys, shipment.shipmentId, watchers, sentAt, grpc);
  const s = sseWatchers(sys, shipment, key, sse, sentAt, gateway);
  try {
    await until(
      `${watchers} + ${sse} watchers to get their first update`,
      async () => (grpc.ready === watchers && gateway.ready === sse ? true : undefined),
      120_000,
    );
    const client = new DeliveryServiceClient(`127.0.0.1:${sys.ports.delivery}`, credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
    });
    let settle: (r: ReportPositionsResponse) => void = () => undefined;
    let fail: (e: ServiceError) => void = () => undefined;
    const summary = new Promise<ReportPositionsResponse>((resolve, reject) => ((settle = resolve), (fail = reject)));
    const stream = client.reportPositions((error, response) => (error ? fail(error) : settle(response)));
    const at = pointOf(WAREHOUSE);
    const start = Date.now();
    let sent = 0;
    let lastMs = 0;
    const progress = ticker(`tracking, ${watchers} + ${sse} watchers`, undefined, () => ({
      done: grpc.latencies.length + gateway.latencies.length,
      errors: grpc.errors + gateway.errors,
      other: 0,
    }));
    try {
      while (Date.now() - start < settings.tracking.seconds * 1000) {
        // The fix time is the send time (ms, unique per fix): each receipt finds its send's high-resolution clock.
        const timeMs = Math.max(Date.now(), lastMs + 1);
        lastMs = timeMs;
        sentAt.set(timeMs, process.hrtime.bigint());
        const step = sent * 0.00001;
        const ok = stream.write({
          courierId: shipment.courierId,
          shipmentId: shipment.shipmentId,
          point: { latitude: at.latitude + 0.0018 + step, longitude: at.longitude + step },
          time: new Date(timeMs),
          speedMps: 5,
          headingDeg: 45,
          accuracyM: 5,
        });
        if (!ok) await new Promise((r) => stream.once('drain', r));
        sent++;
        await sleep(Math.max(0, start + (sent * 1000) / settings.tracking.rate - Date.now()));
      }
      stream.end();
      const result = await summary;
      const seconds = (Date.now() - start) / 1000;
      await sleep(1000);
      return { watchers, sse, sent, accepted: result.accepted, rejected: result.rejected, seconds, grpc, gateway };
    } finally {
      progress.stop();
      client.close();
    }
  } finally {
    g.close();
    s.close();
  }
}

/** Every watcher count in turn, each on a shipment of its own. */
export async function trackingFanOut(sys: System): Promise<ScenarioResult> {
  const sku = `TRK-${sys.run}`.toUpperCase();
  await seedSkus(sys, [sku], 'Tracking tea');
  await receive(sys, sku, WAREHOUSE, 1000);
  const key = await issueKey(sys, { role: 'shopper', subject: `trk-shopper-${sys.run}` });
  const results: FanOut[] = [];
  for (const watchers of settings.tracking.watchers) {
    const shipment = await prepareRealShipment(sys, key, sku, `w${watchers}`);
    log(
      `tracking: shipment ${shipment.shipmentId} of order ${shipment.orderId}; ${watchers} gRPC + ${settings.tracking.sseWatchers} SSE watchers`,
    );
    const r = await fanOut(sys, shipment, key, watchers, settings.tracking.sseWatchers);
    const p = percentiles(r.grpc.latencies);
    log(
      `tracking, ${watchers} watchers: ${(r.accepted / r.seconds).toFixed(1)} positions/s accepted; gRPC p50 ${p.p50.toFixed(1)} p99 ${p.p99.toFixed(1)} ms`,
    );
    results.push(r);
  }
  const rows = results.flatMap((r) => {
    const rate = (r.accepted / r.seconds).toFixed(1);
    const rejected =
      Object.entries(r.rejected)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || '0';
    return [
      [
        `${r.watchers} gRPC WatchShipment`,
        r.watchers,
        rate,
        rejected,
        `${r.grpc.latencies.length} / ${r.accepted * r.watchers}`,
        ...latencyCells(r.grpc.latencies),
        r.grpc.outOfOrder,
        r.grpc.errors,
      ],
      [
        `${r.sse} gateway SSE (beside the ${r.watchers})`,
        r.sse,
        rate,
        rejected,
        `${r.gateway.latencies.length} / ${r.accepted * r.sse}`,
        ...latencyCells(r.gateway.latencies),
        r.gateway.outOfOrder,
        r.gateway.errors,
      ],
    ];
  });
  const failures = results.flatMap((r) =>
    r.accepted === 0 ? [`no position accepted with ${r.watchers} watchers`] : [],
  );
  const markdown = `One courier streams ${settings.tracking.rate} positions/s for ${settings.tracking.seconds} s to one shipment per row pair (a real order's, ASSIGNED); the watchers of both kinds watch it at the same time. Latency: the courier's send of a fix → a watcher's receipt of the update carrying it (same process, high-resolution clock), over every (watcher, update) pair; "updates received / expected" against accepted fixes × watchers (fewer means coalesced or lost).

${table(
  [
    'watchers',
    'n',
    'positions/s accepted',
    'rejected fixes',
    'updates received / expected',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'max ms',
    'out of order',
    'stream errors',
  ],
  rows,
)}`;
  return {
    title: 'Tracking fan-out: gRPC WatchShipment and the gateway’s SSE route',
    markdown,
    failures,
    json: results.map((r) => ({
      ...r,
      grpc: {
        ...percentiles(r.grpc.latencies),
        ready: r.grpc.ready,
        errors: r.grpc.errors,
        outOfOrder: r.grpc.outOfOrder,
      },
      gateway: {
        ...percentiles(r.gateway.latencies),
        ready: r.gateway.ready,
        errors: r.gateway.errors,
        outOfOrder: r.gateway.outOfOrder,
      },
    })),
  };
}
