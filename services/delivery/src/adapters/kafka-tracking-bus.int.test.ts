// The tracking bus against the real broker: two "replicas" (two hubs, two buses, one topic) in one process. The
// courier streams to replica A, the shopper watches on replica B.
import { createKafkaClient, type KafkaClient } from '@o2o/kit-kafka';
import { createLogger } from '@o2o/kit-log';
import { testInfra, uniqueName, waitFor } from '@o2o/kit-testing';
import type { ShipmentWatch } from '../app/shipment-watch';
import { createTrackingHub, type TrackingHub } from '../app/tracking-hub';
import type { ShipmentUpdate, TrackedShipment, TrackingBus, TrackingStore } from '../app/tracking-ports';
import { startKafkaTrackingBus } from './kafka-tracking-bus';

jest.setTimeout(60_000);

const logger = createLogger({ service: 'delivery-test', level: 'warn' });
const SHIPMENT: TrackedShipment = {
  id: 'shp-1',
  orderId: 'ord-1',
  groupId: 'g-1',
  locationId: 'loc-1',
  status: 'PICKED_UP',
  courierId: 'c-1',
  origin: { latitude: 31.2304, longitude: 121.4737 },
  destination: { latitude: 31.2484, longitude: 121.4737 },
};
const store: TrackingStore = {
  carriedBy: async () => [],
  shipment: async (id) => (id === SHIPMENT.id ? SHIPMENT : undefined),
  storedTracking: async () => undefined,
  saveCourierPosition: async () => undefined,
  saveShipmentTracking: async () => undefined,
};

let kafka: KafkaClient;
const running: { hub: TrackingHub; bus: TrackingBus }[] = [];

beforeEach(() => {
  kafka = createKafkaClient({ clientId: 'delivery-tracking-test', brokers: testInfra().kafkaBrokers, logger });
});
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.hub.close();
    await r.bus.stop();
  }
  await kafka.close();
});

async function replica(topic: string, groupId: string, replicaId: string) {
  const bus = await startKafkaTrackingBus({ kafka, topic, groupId, replicaId, logger, partitions: 2 });
  const hub = createTrackingHub({ store, bus, log: logger, persistMs: 2_000, eventMs: 15_000, watcherBuffer: 256 });
  const received: ShipmentUpdate[] = [];
  bus.onRemote((update) => {
    received.push(update);
    hub.receiveRemote(update);
  });
  running.push({ hub, bus });
  return { hub, bus, received };
}

/** Takes from the watch until `until` says so, the watch ends or `ms` passed (a pending next() is never dropped). */
async function collect(watch: ShipmentWatch, until: (seen: ShipmentUpdate[]) => boolean, ms = 15_000) {
  const seen: ShipmentUpdate[] = [];
  const deadline = Date.now() + ms;
  let pending = pendingNext.get(watch) ?? watch.next();
  while (!until(seen) && Date.now() < deadline) {
    const next = await Promise.race([pending, new Promise<'wait'>((r) => setTimeout(() => r('wait'), 100))]);
    if (next === 'wait') continue;
    pending = watch.next();
    if (next.done) break;
    seen.push(next.value);
  }
  pendingNext.set(watch, pending);
  return seen;
}
const pendingNext = new WeakMap<ShipmentWatch, Promise<IteratorResult<ShipmentUpdate, undefined>>>();

it('brings every update of a courier on replica A to a watcher on replica B, in order, never echoing', async () => {
  const topic = uniqueName('delivery.tracking');
  const groupId = uniqueName('delivery');
  const a = await replica(topic, groupId, 'replica-a');
  const b = await replica(topic, groupId, 'replica-b');
  const watch = (await b.hub.watch(SHIPMENT.id))!;
  expect((await collect(watch, (seen) => seen.length === 1))[0]).toMatchObject({ status: 'PICKED_UP', sequence: 0 });

  // The groups start at the latest offset once they have their partitions: publish until B hears something.
  await waitFor(
    () => {
      a.hub.publishStatus(SHIPMENT);
      return b.received.length > 0;
    },
    { timeoutMs: 30_000, intervalMs: 300, what: 'replica B to join its group' },
  );
  await collect(watch, () => false, 500);

  const sent: ShipmentUpdate[] = [];
  for (let i = 0; i < 30; i++) {
    const result = a.hub.ingest(
      'c-1',
      {
        point: { latitude: SHIPMENT.origin.latitude + i * 0.0001, longitude: SHIPMENT.origin.longitude },
        time: new Date(),
        speedMps: 5,
        headingDeg: 0,
        accuracyM: 5,
      },
      SHIPMENT,
    );
    if (result.kind === 'tracked') sent.push(result.update);
    await new Promise((r) => setTimeout(r, 10));
  }
  const delivered = a.hub.publishStatus({ ...SHIPMENT, status: 'DELIVERED' });
  const seen = await collect(watch, (s) => s.at(-1)?.status === 'DELIVERED');
  expect(seen.map((u) => u.sequence)).toEqual([...sent, delivered].map((u) => u.sequence));
  expect(seen.at(-1)).toMatchObject({ status: 'DELIVERED', kind: 'status', remainingDistanceM: 0 });
  expect(seen[10]).toEqual(sent[10]);
  expect(watch.ended).toBe('final');
  // A never received its own updates back.
  expect(a.received).toEqual([]);
});
