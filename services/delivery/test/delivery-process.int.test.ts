// The delivery service as the process Kubernetes runs (dist/bin.js), with inventory beside it: its Prometheus
// endpoint carries the business and tracking metrics the runbook alerts on, and SIGTERM keeps the manifests'
// promise: health NOT_SERVING first, open streams ended with UNAVAILABLE (apps reconnect elsewhere), unary calls
// answered until then, and a stop that is not forced.
import { credentials, status } from '@grpc/grpc-js';
import {
  DeliveryServiceClient,
  Vehicle,
  type WatchShipmentResponse,
} from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { freePort, grpcHealth, statusOf, uniqueName, waitFor } from '@o2o/kit-testing';
import { LOCATIONS, startSystem, type System } from '../../orders/test/system';
import { publishOrderEvent } from './harness';

let sys: System;
let raw: DeliveryServiceClient;
let metricsUrl: string;
/** The system's warehouse (see services/orders/test/system.ts) and a point 300 m north of it. */
const NEAR_WAREHOUSE = { latitude: 31.21 + 300 / 111_320, longitude: 121.49 };

beforeAll(async () => {
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  sys = await startSystem({
    only: ['inventory', 'delivery'],
    env: {
      delivery: {
        OTEL_METRICS_EXPORTER: 'prometheus',
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: String(metricsPort),
        METRICS_QUERY_INTERVAL_MS: '0',
        TASK_ACCEPT_MS: '1000',
        SHUTDOWN_DRAIN_DELAY_MS: '1000',
      },
    },
  });
  await sys.createLocations();
  raw = new DeliveryServiceClient(sys.addresses.delivery, credentials.createInsecure());
}, 120_000);

afterAll(async () => {
  raw?.close();
  await sys?.stop();
}, 60_000);

/** Publishes OrderConfirmed for a one-group home-delivery order from the warehouse; answers its fulfilment id. */
async function confirmedOrder(): Promise<string> {
  const orderId = uniqueName('o');
  await publishOrderEvent(sys.topics.orders, 'OrderConfirmed', orderId, [
    { id: 'g1', type: 'HOME_DELIVERY', locationId: LOCATIONS.warehouse },
  ]);
  const fulfilmentId = `${orderId}.g1`;
  await waitFor(async () => (await sys.delivery.getFulfilment({ fulfilmentId, orderId: '', groupId: '' })).fulfilment, {
    what: `fulfilment ${fulfilmentId}`,
  });
  return fulfilmentId;
}

function watch(shipmentId: string) {
  const call = raw.watchShipment({ shipmentId });
  const updates: WatchShipmentResponse[] = [];
  call.on('data', (u: WatchShipmentResponse) => updates.push(u));
  const ended = new Promise<{ code: number; at: number }>((resolve) => {
    call.on('error', (e) => resolve({ code: statusOf(e).code, at: Date.now() }));
    call.on('end', () => resolve({ code: status.OK, at: Date.now() }));
  });
  return { updates, ended };
}

it('exports its business and tracking metrics to Prometheus, then stops on SIGTERM as the manifests promise', async () => {
  // A task nobody accepts in time (the gauge), and a shipment with a courier streaming to 5 watchers.
  await confirmedOrder();
  const courierId = uniqueName('rider');
  await sys.delivery.registerCourier({
    courierId,
    name: 'Sun Li',
    phone: '+86 135 0000 0000',
    vehicle: Vehicle.VEHICLE_E_BIKE,
    capacity: 5,
  });
  await sys.delivery.setCourierAvailability({ courierId, available: true, point: NEAR_WAREHOUSE });
  const fulfilmentId = await confirmedOrder();
  const accepted = (await sys.delivery.acceptTask({ fulfilmentId, locationId: LOCATIONS.warehouse, associateId: '' }))
    .fulfilment!;
  const shipmentId = accepted.shipment!.id;
  await sys.delivery.acceptAssignment({ shipmentId, courierId });
  const watchers = Array.from({ length: 5 }, () => watch(shipmentId));
  let streamEnd: { code: number; at: number } | undefined;
  const stream = raw.reportPositions(
    (error) => (streamEnd = { code: error ? statusOf(error).code : status.OK, at: Date.now() }),
  );
  const t = Date.now();
  for (let i = 0; i < 5; i++) {
    stream.write({
      courierId,
      shipmentId,
      point: { latitude: NEAR_WAREHOUSE.latitude + i * 1e-4, longitude: 121.49 },
      time: new Date(t + i * 100),
      speedMps: 5,
      headingDeg: 0,
      accuracyM: 5,
    });
  }
  stream.write({
    courierId,
    shipmentId,
    point: { latitude: 95, longitude: 121.49 },
    time: new Date(t + 600),
    speedMps: 5,
    headingDeg: 0,
    accuracyM: 5,
  });
  await waitFor(() => watchers.every((w) => w.updates.filter((u) => u.position).length === 5), {
    what: 'fixes fanned out',
  });

  const body = await waitFor(
    async () => {
      const text = await (await fetch(metricsUrl)).text();
      // The gauge and the TaskOverdue counter come from different moments of the sweep: wait for both.
      return /^o2o_delivery_tasks_unaccepted\{[^}]*\} [1-9]/m.test(text) &&
        /^o2o_delivery_events_total\{[^}]*event="TaskOverdue"[^}]*\} [1-9]/m.test(text)
        ? text
        : undefined;
    },
    { what: 'the unaccepted-task gauge', timeoutMs: 10_000 },
  );
  const value = (pattern: RegExp) => Number(body.match(pattern)?.[1] ?? NaN);
  expect(value(/^o2o_delivery_positions_total\{[^}]*outcome="accepted"[^}]*\} (\d+)/m)).toBe(5);
  expect(value(/^o2o_delivery_positions_total\{[^}]*outcome="out_of_range"[^}]*\} (\d+)/m)).toBe(1);
  expect(value(/^o2o_delivery_watchers\{[^}]*\} (\d+)/m)).toBe(5);
  expect(value(/^o2o_delivery_events_total\{[^}]*event="CourierAssigned"[^}]*\} (\d+)/m)).toBe(1);
  expect(value(/^o2o_delivery_events_total\{[^}]*event="TaskOverdue"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(1);
  expect(value(/^o2o_delivery_tasks_unaccepted\{[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(1);
  expect(body).toMatch(/^rpc_server_call_duration_count\{[^}]*rpc_method="AcceptTask"/m);

  // SIGTERM with the streams open and a client calling GetFulfilment in a loop.
  const health = grpcHealth(sys.addresses.delivery);
  let sigtermAt = 0;
  let notServingAt = 0;
  const unaryErrors: { code: status; at: number }[] = [];
  let answered = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        await sys.delivery.getFulfilment({ fulfilmentId, orderId: '', groupId: '' });
        answered += 1;
      } catch (error) {
        unaryErrors.push({ code: statusOf(error).code, at: Date.now() });
        return;
      }
    }
  })();
  await waitFor(() => answered >= 5);
  sigtermAt = Date.now();
  const restarting = sys.restart('delivery');
  while (notServingAt === 0 && Date.now() - sigtermAt < 5_000) {
    if ((await health.check(200)) !== 'SERVING') notServingAt = Date.now();
  }
  const ends = await Promise.all(watchers.map((w) => w.ended));
  await waitFor(() => streamEnd);
  await restarting;
  polling = false;
  await poller;
  health.close();

  expect(notServingAt).toBeGreaterThan(0);
  for (const end of ends) {
    expect(end.code).toBe(status.UNAVAILABLE);
    expect(end.at).toBeGreaterThanOrEqual(notServingAt);
  }
  expect(streamEnd?.code).toBe(status.UNAVAILABLE);
  // Unary calls were answered until the server stopped taking new ones; any refusal came after NOT_SERVING.
  expect(unaryErrors.every((e) => e.code === status.UNAVAILABLE && e.at >= notServingAt)).toBe(true);
  expect(
    sys.logs('delivery').some((l) => l.includes('"msg":"gRPC server stopped"') && l.includes('"forced":false')),
  ).toBe(true);
  // Back up: the shipment is still there, with the last accepted position stored.
  const after = (await sys.delivery.getFulfilment({ fulfilmentId, orderId: '', groupId: '' })).fulfilment!;
  expect(after.shipment?.lastPosition?.time?.getTime()).toBe(t + 400);
}, 120_000);
