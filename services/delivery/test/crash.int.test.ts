// kill -9 of delivery while stores accept tasks (each acceptance creates a shipment and dispatches it) and couriers
// accept their offers, then a restart. Afterwards, read from the database and the topic:
// - every courier's held slots are exactly the shipments that name it (offered or carrying), and free = capacity −
//   held: a crash between claiming a slot and writing the offer leaks nothing (the reconciler gives it back);
// - no courier carries more than its capacity; every accepted task has its shipment, assigned or waiting;
// - every fact was published exactly once (by event id): TaskAccepted, ShipmentCreated and CourierAssigned, one per
//   task or assignment; nothing is left unsent in an outbox.
import { status } from '@grpc/grpc-js';
import { ShipmentStatus, TaskStatus, Vehicle } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { collectTopic, statusOf, uniqueName, waitFor } from '@o2o/kit-testing';
import { MongoClient } from 'mongodb';
import { LOCATIONS, startSystem, type System } from '../../orders/test/system';
import { type GroupSpec, publishOrderEvent } from './harness';

let sys: System;
let mongo: MongoClient;
let probe: Awaited<ReturnType<typeof collectTopic>>;
const COURIERS = 6;
const CAPACITY = 2;
const ORDERS = 24;
const SPOTS = [
  { id: LOCATIONS.warehouse, point: { latitude: 31.21, longitude: 121.49 } },
  { id: LOCATIONS.storeA, point: { latitude: 31.2336, longitude: 121.4752 } },
  { id: LOCATIONS.storeB, point: { latitude: 31.2197, longitude: 121.475 } },
];

beforeAll(async () => {
  sys = await startSystem({
    only: ['inventory', 'delivery'],
    env: {
      delivery: {
        SLOT_RECONCILE_INTERVAL_MS: '500',
        SLOT_RECONCILE_AFTER_MS: '2000',
        OFFER_TIMEOUT_MS: '60000',
        SWEEP_INTERVAL_MS: '200',
      },
    },
  });
  await sys.createLocations();
  mongo = await new MongoClient(process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017').connect();
  probe = await collectTopic(sys.topics.delivery);
}, 120_000);

afterAll(async () => {
  await probe?.stop();
  await mongo?.close();
  await sys?.stop();
}, 60_000);

/** Retries a call through the outage (the process is down or restarting); answers its result or its refusal. */
const outage = { retried: 0 };

async function through<T>(call: () => Promise<T>): Promise<{ ok: T } | { refused: number }> {
  for (;;) {
    try {
      return { ok: await call() };
    } catch (error) {
      const code = statusOf(error).code as status;
      if (code !== status.UNAVAILABLE && code !== status.DEADLINE_EXCEEDED && code !== status.CANCELLED) {
        return { refused: code };
      }
      outage.retried += 1;
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

it('after kill -9 during dispatch, courier slots, shipments and events are exactly consistent', async () => {
  const tag = uniqueName('k');
  const couriers = Array.from({ length: COURIERS }, (_, i) => `${tag}-rider-${i}`);
  for (const [i, courierId] of couriers.entries()) {
    const spot = SPOTS[i % SPOTS.length]!;
    await sys.delivery.registerCourier({
      courierId,
      name: `Rider ${i}`,
      phone: '+86 138 0000 0000',
      vehicle: Vehicle.VEHICLE_E_BIKE,
      capacity: CAPACITY,
    });
    await sys.delivery.setCourierAvailability({
      courierId,
      available: true,
      point: { latitude: spot.point.latitude + 0.001 * (i + 1), longitude: spot.point.longitude },
    });
  }
  const fulfilments: { id: string; locationId: string }[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const orderId = `${tag}-o${i}`;
    const spot = SPOTS[i % SPOTS.length]!;
    const groups: GroupSpec[] = [{ id: 'g1', type: 'HOME_DELIVERY', locationId: spot.id }];
    await publishOrderEvent(sys.topics.orders, 'OrderConfirmed', orderId, groups);
    fulfilments.push({ id: `${orderId}.g1`, locationId: spot.id });
  }
  await waitFor(
    async () => {
      for (const f of fulfilments) await sys.delivery.getFulfilment({ fulfilmentId: f.id, orderId: '', groupId: '' });
      return true;
    },
    { what: 'every fulfilment created', timeoutMs: 30_000 },
  );

  // Stores accept (each acceptance dispatches), couriers take what they are offered; delivery dies in the middle.
  const queue = [...fulfilments];
  let accepted = 0;
  const stores = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const result = await through(() =>
        sys.delivery.acceptTask({ fulfilmentId: f.id, locationId: f.locationId, associateId: '' }),
      );
      if ('ok' in result) accepted += 1;
    }
  };
  let storesDone = false;
  const riders = async () => {
    while (!storesDone) {
      for (const courierId of couriers) {
        const answer = await through(() => sys.delivery.getCourier({ courierId }));
        if (!('ok' in answer)) continue;
        for (const offer of answer.ok.offers) {
          await through(() => sys.delivery.acceptAssignment({ shipmentId: offer.shipment!.id, courierId }));
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const storeWork = Promise.all(Array.from({ length: 4 }, stores));
  const riderWork = riders();
  await waitFor(() => accepted >= 6, { what: 'a few acceptances', timeoutMs: 30_000, intervalMs: 10 });
  const acceptedBeforeKill = accepted;
  await sys.kill9('delivery');
  await new Promise((r) => setTimeout(r, 500));
  await sys.start('delivery');
  await storeWork;
  // Let the riders take the last offers, then stop them.
  await new Promise((r) => setTimeout(r, 3000));
  storesDone = true;
  await riderWork;

  const db = mongo.db(sys.databases.delivery);
  const settled = await waitFor(
    async () => {
      const docs = await db
        .collection('fulfilments')
        .find({ _id: { $in: fulfilments.map((f) => f.id) } as never })
        .toArray();
      const riders = await db
        .collection('couriers')
        .find({ _id: { $in: couriers } as never })
        .toArray();
      const outbox = docs.reduce((n, d) => n + ((d.outbox as unknown[] | undefined)?.length ?? 0), 0);
      // Slots as the shipments say they should be.
      const expected = new Map<string, string[]>(couriers.map((c) => [c, []]));
      for (const d of docs) {
        const s = d.shipment as
          { id: string; status: string; courierId?: string; offer?: { courierId: string } } | undefined;
        if (!s) continue;
        if (s.offer) expected.get(s.offer.courierId)?.push(s.id);
        if (s.courierId && ['ASSIGNED', 'PICKED_UP', 'OUT_FOR_DELIVERY'].includes(s.status))
          expected.get(s.courierId)?.push(s.id);
      }
      const consistent = riders.every((r) => {
        const held = [...(r.shipmentIds as string[])].sort();
        const want = [...(expected.get(r._id as unknown as string) ?? [])].sort();
        return JSON.stringify(held) === JSON.stringify(want) && r.free === (r.capacity as number) - held.length;
      });
      return consistent && outbox === 0 ? { docs, riders } : undefined;
    },
    { what: 'slots reconciled and every outbox drained', timeoutMs: 30_000, intervalMs: 250 },
  );

  // Every task was accepted exactly once and has its shipment; no courier is over capacity.
  for (const d of settled.docs) {
    expect(d.task.status).toBe('ACCEPTED');
    expect(['AWAITING_COURIER', 'ASSIGNED']).toContain(d.shipment.status);
  }
  for (const r of settled.riders) {
    expect(r.free).toBeGreaterThanOrEqual(0);
    expect((r.shipmentIds as string[]).length).toBeLessThanOrEqual(CAPACITY);
  }
  const assigned = settled.docs.filter((d) => d.shipment.status === 'ASSIGNED');
  expect(assigned.length).toBeGreaterThan(0);
  expect(assigned.length).toBeLessThanOrEqual(COURIERS * CAPACITY);

  // Exactly one of each fact on the topic, once duplicates (same event id, a resend after the crash) are dropped.
  await waitFor(
    () => {
      const assignedEvents = probe.messages.filter((m) => m.headers.ce_type === 'o2o.delivery.v1.CourierAssigned');
      return new Set(assignedEvents.map((m) => m.headers.ce_id)).size >= assigned.length || undefined;
    },
    { what: 'every CourierAssigned published', timeoutMs: 20_000 },
  );
  const unique = new Map(probe.messages.map((m) => [m.headers.ce_id, m]));
  const count = (type: string) => {
    const byOrder = new Map<string, number>();
    for (const m of unique.values())
      if (m.headers.ce_type === `o2o.delivery.v1.${type}`) byOrder.set(m.key, (byOrder.get(m.key) ?? 0) + 1);
    return byOrder;
  };
  const orders = fulfilments.map((f) => f.id.slice(0, -'.g1'.length));
  for (const [type, expected] of [
    ['TaskAccepted', orders],
    ['ShipmentCreated', orders],
    ['CourierAssigned', assigned.map((d) => d.orderId as string)],
  ] as const) {
    const seen = count(type);
    expect([...seen.keys()].sort()).toEqual([...expected].sort());
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  }
  console.log(
    JSON.stringify({
      acceptedBeforeKill,
      callsRetriedThroughOutage: outage.retried,
      assigned: assigned.length,
      waiting: settled.docs.length - assigned.length,
      duplicatesDropped: probe.messages.length - unique.size,
    }),
  );
  // The API agrees with the database.
  for (const d of assigned) {
    const f = (await sys.delivery.getFulfilment({ fulfilmentId: d._id as unknown as string, orderId: '', groupId: '' }))
      .fulfilment!;
    expect(f.task?.status).toBe(TaskStatus.TASK_STATUS_ACCEPTED);
    expect(f.shipment?.status).toBe(ShipmentStatus.SHIPMENT_STATUS_ASSIGNED);
  }
}, 180_000);
