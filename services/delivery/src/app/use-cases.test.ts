// Use-case tests with in-memory fakes of the ports: a fulfilment repository with the Mongo adapter's contract
// (load a copy, apply, write only when something changed, bump the version), a courier repository with conditional
// slot claims, a location directory, a feed that records what watchers would hear, and a clock the test moves.
import type { Principal } from '@o2o/kit-grpc';
import { type CourierState } from '../domain/courier';
import { DeliveryError, type DeliveryErrorKind } from '../domain/errors';
import { Fulfilment, fulfilmentIdFor, fulfilmentIdOfShipment, shipmentIdFor } from '../domain/fulfilment';
import { mayWatchShipment } from './access';
import { qrPayload } from './handover-code';
import type { DeliveryEvent, FulfilmentState, GeoPoint } from '../domain/types';
import { getCourier, registerCourier, setCourierAvailability } from './courier-commands';
import { dispatchShipment, reconcileCourierSlots } from './dispatch';
import { cancelFulfilments, type ConfirmedOrder, createFulfilments } from './fulfil-order';
import type { CourierRepository, Deps, FulfilmentRepository, LocationDirectory } from './ports';
import { getFulfilment, listFulfilments } from './queries';
import {
  acceptAssignment,
  confirmCollection,
  confirmDelivery,
  declineAssignment,
  reportDeliveryFailure,
  startDelivery,
} from './shipment-commands';
import { sweepDue } from './sweep';
import { acceptTask, getHandoverCode, markPicked, markReady, verifyPickup } from './task-commands';
import type { TrackedShipment } from './tracking-ports';
import { MIN, T0, TEST_POLICY } from './testing/fixtures';

const t0 = T0;
const policy = TEST_POLICY;
const SECRET = 'use-case-secret';
const STORE = 'store-1';
const WAREHOUSE = 'wh-1';
const PEOPLES_SQUARE = { latitude: 31.2304, longitude: 121.4737 };
const WAREHOUSE_POINT = { latitude: 31.3, longitude: 121.5 };
const THE_BUND = { latitude: 31.2397, longitude: 121.4903 };

/** A point `metres` north of `from`. */
function north(from: GeoPoint, metres: number): GeoPoint {
  return { latitude: from.latitude + metres / 111_195.08, longitude: from.longitude };
}

/** The FulfilmentRepository port in memory, with the Mongo adapter's update() contract; records every write. */
function memoryFulfilments() {
  const rows = new Map<string, FulfilmentState>();
  const events: { id: string; event: DeliveryEvent }[] = [];
  let writes = 0;
  const repo: FulfilmentRepository = {
    async insert(fulfilment) {
      const state = fulfilment.snapshot();
      const pulled = fulfilment.pullEvents();
      if (rows.has(state.id)) return 'exists';
      rows.set(state.id, state);
      writes++;
      events.push(...pulled.map((event) => ({ id: state.id, event })));
      return 'inserted';
    },
    async find(id) {
      const s = rows.get(id);
      return s && structuredClone(s);
    },
    async findByShipment(shipmentId) {
      const id = fulfilmentIdOfShipment(shipmentId);
      const s = id === undefined ? undefined : rows.get(id);
      return s?.shipment?.id === shipmentId ? structuredClone(s) : undefined;
    },
    async update(id, change) {
      const before = rows.get(id);
      if (!before) throw new DeliveryError('not-found', `Fulfilment "${id}" does not exist`);
      const fulfilment = Fulfilment.fromState(before, policy);
      const result = change(fulfilment);
      const pulled = fulfilment.pullEvents();
      const state = fulfilment.snapshot();
      if (state.updatedAt.getTime() === before.updatedAt.getTime() && pulled.length === 0) {
        return { result, state, events: pulled };
      }
      state.version = before.version + 1;
      rows.set(id, structuredClone(state));
      writes++;
      events.push(...pulled.map((event) => ({ id, event })));
      return { result, state, events: pulled };
    },
    async listByLocation(locationId, filter, page) {
      const all = [...rows.values()]
        .filter((s) => s.locationId === locationId)
        .filter((s) => filter.statuses.length === 0 || filter.statuses.includes(s.task.status))
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
      const start = page.after ? all.findIndex((s) => s.id === page.after) + 1 : 0;
      const items = all.slice(start, start + page.size).map((s) => structuredClone(s));
      return start + page.size < all.length ? { items, after: items.at(-1)!.id } : { items };
    },
    async due(now, limit) {
      return [...rows.values()]
        .filter((s) => s.dueAt && s.dueAt.getTime() <= now.getTime())
        .sort((a, b) => a.dueAt!.getTime() - b.dueAt!.getTime())
        .slice(0, limit)
        .map((s) => s.id);
    },
    async findMany(ids) {
      return ids.flatMap((id) => (rows.has(id) ? [structuredClone(rows.get(id)!)] : []));
    },
  };
  return { repo, rows, events, writes: () => writes };
}

/** The CourierRepository port in memory: free slots kept by conditional claims and releases. */
function memoryCouriers() {
  const rows = new Map<string, CourierState>();
  const repo: CourierRepository = {
    async register(profile, now) {
      const existing = rows.get(profile.id);
      if (!existing) {
        rows.set(profile.id, {
          ...profile,
          available: false,
          shipmentIds: [],
          free: profile.capacity,
          version: 1,
          createdAt: now,
          updatedAt: now,
        });
      } else {
        rows.set(profile.id, {
          ...existing,
          ...profile,
          free: existing.free + profile.capacity - existing.capacity,
          version: existing.version + 1,
          updatedAt: now,
        });
      }
      return structuredClone(rows.get(profile.id)!);
    },
    async find(id) {
      const c = rows.get(id);
      return c && structuredClone(c);
    },
    async setAvailability(id, available, fix, now) {
      const c = rows.get(id);
      if (!c) throw new DeliveryError('not-found', `Courier "${id}" is not registered`);
      c.available = available;
      if (fix) c.position = fix;
      c.updatedAt = now;
      c.version++;
      return structuredClone(c);
    },
    async candidatesNear(origin, { radiusM, freshSince, limit }) {
      const dLat = radiusM / 111_000;
      return [...rows.values()]
        .filter(
          (c) =>
            c.available &&
            c.free >= 1 &&
            c.position !== undefined &&
            c.position.time.getTime() >= freshSince.getTime() &&
            Math.abs(c.position.point.latitude - origin.latitude) <= dLat &&
            Math.abs(c.position.point.longitude - origin.longitude) <= dLat * 2,
        )
        .slice(0, limit)
        .map((c) => structuredClone(c));
    },
    async claim(courierId, shipmentId, now) {
      const c = rows.get(courierId);
      if (!c || !c.available || c.free < 1 || c.shipmentIds.includes(shipmentId)) return false;
      c.free--;
      c.shipmentIds.push(shipmentId);
      c.updatedAt = now;
      c.version++;
      return true;
    },
    async release(courierId, shipmentId, now) {
      const c = rows.get(courierId);
      if (!c || !c.shipmentIds.includes(shipmentId)) return;
      c.free++;
      c.shipmentIds = c.shipmentIds.filter((s) => s !== shipmentId);
      c.updatedAt = now;
      c.version++;
    },
    async holdingSlots(updatedBefore, limit) {
      return [...rows.values()]
        .filter((c) => c.shipmentIds.length > 0 && c.updatedAt.getTime() < updatedBefore.getTime())
        .slice(0, limit)
        .map((c) => structuredClone(c));
    },
  };
  return { repo, rows };
}

function setup() {
  const fulfilments = memoryFulfilments();
  const couriers = memoryCouriers();
  const points = new Map<string, GeoPoint>([
    [STORE, PEOPLES_SQUARE],
    [WAREHOUSE, WAREHOUSE_POINT],
  ]);
  const locations: LocationDirectory = {
    async pointOf(locationId) {
      const p = points.get(locationId);
      if (!p) throw new DeliveryError('not-found', `Location "${locationId}" does not exist`);
      return p;
    },
  };
  const published: TrackedShipment[] = [];
  const woken: string[] = [];
  let now = t0.getTime();
  const deps: Deps = {
    fulfilments: fulfilments.repo,
    couriers: couriers.repo,
    locations,
    feed: { publishStatus: (s) => published.push(structuredClone(s)) },
    clock: { now: () => new Date(now) },
    policy,
    dispatch: { radiusM: 5_000, loadPenaltyM: 1_000, positionFreshMs: 60 * MIN },
    codeSecret: SECRET,
    afterWrite: (id) => woken.push(id),
  };
  const advance = (ms: number) => {
    now += ms;
  };
  /** A registered courier on shift at `point`, reported now. */
  const courierAt = async (id: string, point: GeoPoint, capacity = 2) => {
    await registerCourier(deps, {
      courierId: id,
      name: `Courier ${id}`,
      phone: '+86 138 0000 0000',
      vehicle: 'E_BIKE',
      capacity,
    });
    return setCourierAvailability(deps, { courierId: id, available: true, point });
  };
  const courier = (id: string) => couriers.rows.get(id)!;
  const stored = (id: string) => fulfilments.rows.get(id)!;
  const statuses = (shipmentId?: string) =>
    published.filter((p) => !shipmentId || p.id === shipmentId).map((p) => p.status);
  const eventTypes = (id: string) => fulfilments.events.filter((e) => e.id === id).map((e) => e.event.type);
  return {
    deps,
    fulfilments,
    couriers,
    points,
    published,
    woken,
    advance,
    courierAt,
    courier,
    stored,
    statuses,
    eventTypes,
  };
}

type World = ReturnType<typeof setup>;

const order: ConfirmedOrder = {
  orderId: 'o-1',
  customerId: 'cust-1',
  delivery: { point: THE_BUND, recipientName: 'Li Lei', recipientPhone: '+86 139 0000 0000' },
  groups: [
    { groupId: 'g-carry', type: undefined, locationId: STORE, items: [{ sku: 'A', quantity: 1 }] },
    { groupId: 'g-pickup', type: 'STORE_PICKUP', locationId: STORE, items: [{ sku: 'B', quantity: 2 }] },
    { groupId: 'g-home', type: 'HOME_DELIVERY', locationId: STORE, items: [{ sku: 'C', quantity: 1 }] },
    { groupId: 'g-ship', type: 'SHIP_FROM_STORE', locationId: WAREHOUSE, items: [{ sku: 'D', quantity: 3 }] },
  ],
};
const PICKUP = fulfilmentIdFor('o-1', 'g-pickup');
const HOME = fulfilmentIdFor('o-1', 'g-home');
const SHIP = fulfilmentIdFor('o-1', 'g-ship');
const HOME_SHIPMENT = shipmentIdFor(HOME);

/** A confirmed order with one home-delivery group from the store. */
function homeOrder(orderId: string): ConfirmedOrder {
  return {
    orderId,
    delivery: { point: THE_BUND },
    groups: [{ groupId: 'g', type: 'HOME_DELIVERY', locationId: STORE, items: [{ sku: 'A', quantity: 1 }] }],
  };
}

async function expectError(
  promise: Promise<unknown>,
  kind: DeliveryErrorKind,
  fields?: string[],
): Promise<DeliveryError> {
  let thrown: unknown;
  try {
    await promise;
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DeliveryError);
  const e = thrown as DeliveryError;
  expect(e.kind).toBe(kind);
  if (fields) expect(e.violations.map((v) => v.field)).toEqual(fields);
  return e;
}

/** Runs a home-delivery fulfilment to READY with courier `courierId` assigned. */
async function assignedAndReady(w: World, id: string, courierId: string) {
  await acceptTask(w.deps, { fulfilmentId: id, locationId: STORE, associateId: '' });
  expect(w.stored(id).shipment!.offer?.courierId).toBe(courierId);
  await acceptAssignment(w.deps, { shipmentId: shipmentIdFor(id), courierId });
  await markReady(w.deps, { fulfilmentId: id, locationId: STORE });
}

describe('createFulfilments and cancelFulfilments', () => {
  it('creates one fulfilment per group delivery fulfils; delivery groups get their location as origin', async () => {
    const w = setup();
    expect(await createFulfilments(w.deps, order)).toBe(3);
    expect([...w.fulfilments.rows.keys()].sort()).toEqual([HOME, PICKUP, SHIP].sort());
    expect(w.stored(fulfilmentIdFor('o-1', 'g-carry'))).toBeUndefined();
    const pickup = w.stored(PICKUP);
    expect(pickup).toMatchObject({
      type: 'STORE_PICKUP',
      locationId: STORE,
      customerId: 'cust-1',
      task: { status: 'OPEN' },
    });
    expect(pickup.origin).toBeUndefined();
    expect(pickup.delivery).toBeUndefined();
    expect(w.stored(HOME)).toMatchObject({
      origin: PEOPLES_SQUARE,
      delivery: order.delivery,
      items: [{ sku: 'C', quantity: 1 }],
    });
    expect(w.stored(SHIP)).toMatchObject({ origin: WAREHOUSE_POINT, locationId: WAREHOUSE });
    expect(w.stored(HOME).task.acceptBy).toEqual(new Date(t0.getTime() + policy.acceptMs));
  });

  it('creates nothing on a repeat', async () => {
    const w = setup();
    await createFulfilments(w.deps, order);
    const before = structuredClone([...w.fulfilments.rows.values()]);
    const writes = w.fulfilments.writes();
    w.advance(MIN);
    expect(await createFulfilments(w.deps, order)).toBe(0);
    expect([...w.fulfilments.rows.values()]).toEqual(before);
    expect(w.fulfilments.writes()).toBe(writes);
  });

  it('refuses a delivery group at a location inventory does not know, and one without destination', async () => {
    const w = setup();
    await expectError(
      createFulfilments(w.deps, {
        orderId: 'o-2',
        delivery: { point: THE_BUND },
        groups: [{ groupId: 'g', type: 'HOME_DELIVERY', locationId: 'nowhere', items: [] }],
      }),
      'not-found',
    );
    await expectError(
      createFulfilments(w.deps, {
        orderId: 'o-3',
        groups: [{ groupId: 'g', type: 'SHIP_FROM_STORE', locationId: STORE, items: [] }],
      }),
      'invalid-argument',
    );
    expect(w.fulfilments.rows.size).toBe(0);
    // A pick-up needs no location point.
    expect(
      await createFulfilments(w.deps, {
        orderId: 'o-4',
        groups: [{ groupId: 'g', type: 'STORE_PICKUP', locationId: 'nowhere', items: [] }],
      }),
    ).toBe(1);
  });

  it('cancels the groups of a cancelled order, skipping groups it never fulfilled, and frees an offered courier', async () => {
    const w = setup();
    await w.courierAt('k-1', PEOPLES_SQUARE);
    await createFulfilments(w.deps, order);
    await acceptTask(w.deps, { fulfilmentId: HOME, locationId: STORE, associateId: '' });
    expect(w.courier('k-1').free).toBe(1);
    await cancelFulfilments(w.deps, 'o-1', ['g-carry', 'g-pickup', 'g-home', 'g-ship', 'g-unknown']);
    for (const id of [PICKUP, HOME, SHIP]) {
      expect(w.stored(id).task.status).toBe('CANCELLED');
      expect(w.eventTypes(id)).toContain('FulfilmentCancelled');
    }
    expect(w.stored(HOME).shipment!.status).toBe('CANCELLED');
    expect(w.courier('k-1')).toMatchObject({ free: 2, shipmentIds: [] });
    expect(w.statuses(HOME_SHIPMENT)).toEqual(['AWAITING_COURIER', 'CANCELLED']);
    // Again: nothing more.
    const writes = w.fulfilments.writes();
    await cancelFulfilments(w.deps, 'o-1', ['g-pickup', 'g-home']);
    expect(w.fulfilments.writes()).toBe(writes);
  });

  it('leaves a group already handed over as it is', async () => {
    const w = setup();
    await createFulfilments(w.deps, order);
    await acceptTask(w.deps, { fulfilmentId: PICKUP, locationId: STORE, associateId: 'a-1' });
    await markReady(w.deps, { fulfilmentId: PICKUP, locationId: STORE });
    const { code } = await getHandoverCode(w.deps, { fulfilmentId: PICKUP });
    await verifyPickup(w.deps, { locationId: STORE, fulfilmentId: PICKUP, code, qrPayload: '', associateId: '' });
    const before = structuredClone(w.stored(PICKUP));
    await cancelFulfilments(w.deps, 'o-1', ['g-pickup']);
    expect(w.stored(PICKUP)).toEqual(before);
  });
});

describe('tasks and pick-up', () => {
  it('accepts, picks and readies a pick-up; the work queue shows it', async () => {
    const w = setup();
    await createFulfilments(w.deps, order);
    w.advance(MIN);
    const accepted = await acceptTask(w.deps, { fulfilmentId: PICKUP, locationId: STORE, associateId: 'a-1' });
    expect(accepted.task).toMatchObject({ status: 'ACCEPTED', associateId: 'a-1' });
    expect(accepted.version).toBe(1);
    expect(w.woken).toEqual([PICKUP]);
    await markPicked(w.deps, { fulfilmentId: PICKUP, locationId: STORE });
    const ready = await markReady(w.deps, { fulfilmentId: PICKUP, locationId: STORE });
    expect(ready.task.status).toBe('READY');
    expect(ready.version).toBe(3);
    expect(w.eventTypes(PICKUP)).toEqual(['TaskAccepted', 'ReadyForPickup']);
    expect(w.published).toEqual([]); // a pick-up has no shipment to track

    const queue = await listFulfilments(w.deps, { locationId: STORE, statuses: ['READY'], page: { size: 10 } });
    expect(queue.items.map((s) => s.id)).toEqual([PICKUP]);
    const all = await listFulfilments(w.deps, { locationId: STORE, statuses: [], page: { size: 10 } });
    expect(all.items.map((s) => s.id).sort()).toEqual([HOME, PICKUP].sort());
    expect((await getFulfilment(w.deps, { fulfilmentId: '', orderId: 'o-1', groupId: 'g-pickup' })).id).toBe(PICKUP);
    expect((await getFulfilment(w.deps, { fulfilmentId: PICKUP, orderId: '', groupId: '' })).version).toBe(3);
    await expectError(getFulfilment(w.deps, { fulfilmentId: 'nope', orderId: '', groupId: '' }), 'not-found');
    await expectError(
      getFulfilment(w.deps, { fulfilmentId: PICKUP, orderId: 'o-1', groupId: '' }),
      'invalid-argument',
      ['fulfilment_id'],
    );
  });

  it('refuses the task to another location and answers not-found for an unknown fulfilment', async () => {
    const w = setup();
    await createFulfilments(w.deps, order);
    await expectError(
      acceptTask(w.deps, { fulfilmentId: PICKUP, locationId: 'store-2', associateId: '' }),
      'permission-denied',
    );
    await expectError(acceptTask(w.deps, { fulfilmentId: 'o-9.g', locationId: STORE, associateId: '' }), 'not-found');
    expect(w.stored(PICKUP).version).toBe(0);
  });

  it('gives the pick-up code only once the group is ready, and not after it is collected', async () => {
    const w = setup();
    await createFulfilments(w.deps, order);
    await expectError(getHandoverCode(w.deps, { fulfilmentId: PICKUP }), 'failed-precondition');
    await acceptTask(w.deps, { fulfilmentId: PICKUP, locationId: STORE, associateId: '' });
    await expectError(getHandoverCode(w.deps, { fulfilmentId: PICKUP }), 'failed-precondition');
    await markReady(w.deps, { fulfilmentId: PICKUP, locationId: STORE });
    const handover = await getHandoverCode(w.deps, { fulfilmentId: PICKUP });
    expect(handover.code).toMatch(/^\d{6}$/);
    expect(handover.qrPayload).toBe(qrPayload('pickup', PICKUP, handover.code));
    expect(handover.expiresAt).toEqual(new Date(t0.getTime() + policy.pickupExpiryMs));
    expect(await getHandoverCode(w.deps, { fulfilmentId: PICKUP })).toEqual(handover);
    await verifyPickup(w.deps, {
      locationId: STORE,
      fulfilmentId: PICKUP,
      code: handover.code,
      qrPayload: '',
      associateId: '',
    });
    const error = await expectError(getHandoverCode(w.deps, { fulfilmentId: PICKUP }), 'failed-precondition');
    expect(error.message).toContain('handed over');
    await expectError(getHandoverCode(w.deps, { fulfilmentId: 'o-9.g' }), 'not-found');
  });

  it('hands over with the scanned QR payload', async () => {
    const w = setup();
    await createFulfilments(w.deps, order);
    await acceptTask(w.deps, { fulfilmentId: PICKUP, locationId: STORE, associateId: '' });
    await markReady(w.deps, { fulfilmentId: PICKUP, locationId: STORE });
    const { qrPayload: qr } = await getHandoverCode(w.deps, { fulfilmentId: PICKUP });
    w.advance(MIN);
    const state = await verifyPickup(w.deps, {
      locationId: STORE,
      fulfilmentId: '',
      code: '',
      qrPayload: qr,
      associateId: 'a-2',
    });
    expect(state.task.status).toBe('HANDED_OVER');
    expect(state.pickup!.collectedAt).toEqual(new Date(t0.getTime() + MIN));
    expect(w.eventTypes(PICKUP)).toEqual(['TaskAccepted', 'ReadyForPickup', 'PickedUp']);
    // A repeat scan answers the same, and writes nothing.
    const writes = w.fulfilments.writes();
    expect(
      await verifyPickup(w.deps, { locationId: STORE, fulfilmentId: '', code: '', qrPayload: qr, associateId: '' }),
    ).toEqual(state);
    expect(w.fulfilments.writes()).toBe(writes);
  });

  it('refuses a wrong code, storing only the attempt; locks after too many', async () => {
    const w = setup();
    await createFulfilments(w.deps, order);
    await acceptTask(w.deps, { fulfilmentId: PICKUP, locationId: STORE, associateId: '' });
    await markReady(w.deps, { fulfilmentId: PICKUP, locationId: STORE });
    const { code } = await getHandoverCode(w.deps, { fulfilmentId: PICKUP });
    const wrong = code === '000000' ? '111111' : '000000';
    const before = structuredClone(w.stored(PICKUP));
    w.advance(MIN);
    const verify = (c: string, locationId = STORE) =>
      verifyPickup(w.deps, { locationId, fulfilmentId: PICKUP, code: c, qrPayload: '', associateId: '' });
    await expectError(verify(wrong), 'permission-denied');
    const after = w.stored(PICKUP);
    expect(after).toEqual({
      ...before,
      pickup: { ...before.pickup!, code: { ...before.pickup!.code, failedAttempts: 1 } },
      updatedAt: new Date(t0.getTime() + MIN),
      version: before.version + 1,
    });
    expect(w.eventTypes(PICKUP)).toEqual(['TaskAccepted', 'ReadyForPickup']);

    // The right code at another store: refused, nothing stored.
    await expectError(verify(code, 'store-2'), 'permission-denied');
    expect(w.stored(PICKUP)).toEqual(after);

    await expectError(verify(wrong), 'permission-denied');
    await expectError(verify(wrong), 'permission-denied');
    expect(w.stored(PICKUP).pickup!.code.lockedUntil).toEqual(new Date(t0.getTime() + MIN + policy.codeLockMs));
    await expectError(verify(code), 'resource-exhausted');
    w.advance(policy.codeLockMs);
    expect((await verify(code)).task.status).toBe('HANDED_OVER');
  });

  it('names the fields at fault', async () => {
    const w = setup();
    await expectError(
      verifyPickup(w.deps, { locationId: '', fulfilmentId: '', code: '12', qrPayload: '', associateId: 'a b' }),
      'invalid-argument',
      ['location_id', 'associate_id', 'fulfilment_id', 'code'],
    );
    await expectError(
      verifyPickup(w.deps, { locationId: STORE, fulfilmentId: '', code: '', qrPayload: 'not-a-qr', associateId: '' }),
      'invalid-argument',
      ['qr_payload'],
    );
    await expectError(
      verifyPickup(w.deps, {
        locationId: STORE,
        fulfilmentId: PICKUP,
        code: '',
        qrPayload: qrPayload('pickup', PICKUP, '123456'),
        associateId: '',
      }),
      'invalid-argument',
      ['qr_payload'],
    );
    await expectError(
      verifyPickup(w.deps, {
        locationId: STORE,
        fulfilmentId: '',
        code: '',
        qrPayload: qrPayload('delivery', PICKUP, '123456'),
        associateId: '',
      }),
      'invalid-argument',
      ['qr_payload'],
    );
    await expectError(
      acceptTask(w.deps, { fulfilmentId: '', locationId: STORE, associateId: '' }),
      'invalid-argument',
      ['fulfilment_id'],
    );
    await expectError(markPicked(w.deps, { fulfilmentId: 'x', locationId: 'a b' }), 'invalid-argument', [
      'location_id',
    ]);
    await expectError(markReady(w.deps, { fulfilmentId: 'x'.repeat(129), locationId: STORE }), 'invalid-argument', [
      'fulfilment_id',
    ]);
    await expectError(getHandoverCode(w.deps, { fulfilmentId: '' }), 'invalid-argument', ['fulfilment_id']);
    await expectError(
      listFulfilments(w.deps, { locationId: '', statuses: [], page: { size: 10 } }),
      'invalid-argument',
      ['location_id'],
    );
    await expectError(getFulfilment(w.deps, { fulfilmentId: '', orderId: '', groupId: '' }), 'invalid-argument', [
      'order_id',
      'group_id',
    ]);
  });
});

describe('dispatch', () => {
  it('offers a delivery group to the nearest courier as soon as the task is accepted', async () => {
    const w = setup();
    await w.courierAt('k-far', north(PEOPLES_SQUARE, 3_000));
    await w.courierAt('k-near', north(PEOPLES_SQUARE, 400));
    await createFulfilments(w.deps, order);
    const state = await acceptTask(w.deps, { fulfilmentId: HOME, locationId: STORE, associateId: '' });
    expect(state.shipment).toMatchObject({
      id: HOME_SHIPMENT,
      status: 'AWAITING_COURIER',
      offer: { courierId: 'k-near', expiresAt: new Date(t0.getTime() + policy.offerTimeoutMs) },
    });
    expect(w.courier('k-near')).toMatchObject({ free: 1, shipmentIds: [HOME_SHIPMENT] });
    expect(w.courier('k-far')).toMatchObject({ free: 2, shipmentIds: [] });
    expect(w.eventTypes(HOME)).toEqual(['TaskAccepted', 'ShipmentCreated']);
    expect(w.published).toEqual([
      {
        id: HOME_SHIPMENT,
        orderId: 'o-1',
        groupId: 'g-home',
        locationId: STORE,
        status: 'AWAITING_COURIER',
        origin: PEOPLES_SQUARE,
        destination: THE_BUND,
      },
    ]);
    const { offers } = await getCourier(w.deps, { courierId: 'k-near' });
    expect(offers.map((o) => o.id)).toEqual([HOME]);
  });

  it('offers the next courier when one declines, and gives the first its slot back', async () => {
    const w = setup();
    await w.courierAt('k-1', north(PEOPLES_SQUARE, 100));
    await w.courierAt('k-2', north(PEOPLES_SQUARE, 200));
    await w.courierAt('k-3', north(PEOPLES_SQUARE, 300));
    await createFulfilments(w.deps, homeOrder('o-2'));
    const id = fulfilmentIdFor('o-2', 'g');
    const shipmentId = shipmentIdFor(id);
    await acceptTask(w.deps, { fulfilmentId: id, locationId: STORE, associateId: '' });
    const state = await declineAssignment(w.deps, { shipmentId, courierId: 'k-1', reason: 'flat tyre' });
    expect(state.shipment).toMatchObject({ passedBy: ['k-1'], offer: { courierId: 'k-2' } });
    expect(w.courier('k-1')).toMatchObject({ free: 2, shipmentIds: [] });
    expect(w.courier('k-2')).toMatchObject({ free: 1, shipmentIds: [shipmentId] });
    // The decliner cannot take it back.
    await expectError(acceptAssignment(w.deps, { shipmentId, courierId: 'k-1' }), 'failed-precondition');
    // A courier it is not offered to may not answer for it.
    await expectError(declineAssignment(w.deps, { shipmentId, courierId: 'k-3', reason: '' }), 'permission-denied');
    await expectError(acceptAssignment(w.deps, { shipmentId, courierId: 'k-3' }), 'permission-denied');
  });

  it('offers the next courier when an offer lapses (the sweeper)', async () => {
    const w = setup();
    await w.courierAt('k-1', north(PEOPLES_SQUARE, 100));
    await w.courierAt('k-2', north(PEOPLES_SQUARE, 200));
    await createFulfilments(w.deps, homeOrder('o-2'));
    const id = fulfilmentIdFor('o-2', 'g');
    await acceptTask(w.deps, { fulfilmentId: id, locationId: STORE, associateId: '' });
    const failures: unknown[] = [];
    const sweep = () => sweepDue(w.deps, { limit: 10, onFailure: (_id, e) => failures.push(e) });

    w.advance(policy.offerTimeoutMs - 1);
    expect(await sweep()).toBe(0);
    expect(w.stored(id).shipment!.offer!.courierId).toBe('k-1');
    w.advance(1);
    expect(await sweep()).toBe(1);
    expect(w.stored(id).shipment).toMatchObject({ passedBy: ['k-1'], offer: { courierId: 'k-2' } });
    expect(w.courier('k-1')).toMatchObject({ free: 2, shipmentIds: [] });
    expect(w.courier('k-2').free).toBe(1);
    // The late acceptance is refused.
    await expectError(
      acceptAssignment(w.deps, { shipmentId: shipmentIdFor(id), courierId: 'k-1' }),
      'failed-precondition',
    );

    // k-2 lets it lapse too: nobody is left, so dispatch waits and tries again later.
    w.advance(policy.offerTimeoutMs);
    await sweep();
    const waiting = w.stored(id).shipment!;
    expect(waiting.offer).toBeUndefined();
    expect(waiting.passedBy).toEqual(['k-1', 'k-2']);
    expect(waiting.dispatchAfter).toEqual(new Date(w.deps.clock.now().getTime() + policy.dispatchRetryMs));
    expect(w.courier('k-2').free).toBe(2);
    expect(failures).toEqual([]);
  });

  it('retries later when no courier is around, and offers once one is', async () => {
    const w = setup();
    await createFulfilments(w.deps, homeOrder('o-2'));
    const id = fulfilmentIdFor('o-2', 'g');
    const state = await acceptTask(w.deps, { fulfilmentId: id, locationId: STORE, associateId: '' });
    expect(state.shipment!.offer).toBeUndefined();
    const retryAt = new Date(t0.getTime() + policy.dispatchRetryMs);
    expect(state.shipment!.dispatchAfter).toEqual(retryAt);
    expect(state.dueAt).toEqual(retryAt);

    // A courier off shift, one too far, and one whose position is stale do not count.
    await w.courierAt('k-off', PEOPLES_SQUARE);
    await setCourierAvailability(w.deps, { courierId: 'k-off', available: false });
    await w.courierAt('k-far', north(PEOPLES_SQUARE, 20_000));
    await w.courierAt('k-stale', PEOPLES_SQUARE);
    w.advance(policy.dispatchRetryMs - 1);
    expect(await dispatchShipment(w.deps, id)).toBe('not-waiting'); // not due yet
    expect(await sweepDue(w.deps, { limit: 10, onFailure: () => undefined })).toBe(0);

    w.advance(w.deps.dispatch.positionFreshMs); // k-stale's position is now too old
    expect(await sweepDue(w.deps, { limit: 10, onFailure: () => undefined })).toBe(1);
    expect(w.stored(id).shipment!.offer).toBeUndefined();
    expect(w.stored(id).shipment!.dispatchAfter!.getTime()).toBe(w.deps.clock.now().getTime() + policy.dispatchRetryMs);

    await w.courierAt('k-new', north(PEOPLES_SQUARE, 1_000));
    w.advance(policy.dispatchRetryMs);
    await sweepDue(w.deps, { limit: 10, onFailure: () => undefined });
    expect(w.stored(id).shipment!.offer!.courierId).toBe('k-new');
    expect(w.stored(id).shipment!.dispatchAfter).toBeUndefined();
    expect(w.courier('k-off').free).toBe(2);
  });

  it('respects capacity: a courier with one slot is not offered a second shipment', async () => {
    const w = setup();
    await w.courierAt('k-small', north(PEOPLES_SQUARE, 100), 1);
    await w.courierAt('k-big', north(PEOPLES_SQUARE, 2_000), 3);
    await createFulfilments(w.deps, homeOrder('o-a'));
    await createFulfilments(w.deps, homeOrder('o-b'));
    const a = fulfilmentIdFor('o-a', 'g');
    const b = fulfilmentIdFor('o-b', 'g');
    await acceptTask(w.deps, { fulfilmentId: a, locationId: STORE, associateId: '' });
    await acceptAssignment(w.deps, { shipmentId: shipmentIdFor(a), courierId: 'k-small' });
    await acceptTask(w.deps, { fulfilmentId: b, locationId: STORE, associateId: '' });
    expect(w.stored(b).shipment!.offer!.courierId).toBe('k-big');
    expect(w.courier('k-small')).toMatchObject({ free: 0, shipmentIds: [shipmentIdFor(a)] });
    // A claim beyond capacity fails outright.
    expect(await w.deps.couriers.claim('k-small', 'other.s', w.deps.clock.now())).toBe(false);
  });

  it('a loaded courier loses to an idle one a little further away', async () => {
    const w = setup();
    await w.courierAt('k-loaded', north(PEOPLES_SQUARE, 100), 3);
    await w.courierAt('k-idle', north(PEOPLES_SQUARE, 800), 3);
    await createFulfilments(w.deps, homeOrder('o-a'));
    await createFulfilments(w.deps, homeOrder('o-b'));
    const a = fulfilmentIdFor('o-a', 'g');
    const b = fulfilmentIdFor('o-b', 'g');
    await acceptTask(w.deps, { fulfilmentId: a, locationId: STORE, associateId: '' });
    expect(w.stored(a).shipment!.offer!.courierId).toBe('k-loaded');
    await acceptTask(w.deps, { fulfilmentId: b, locationId: STORE, associateId: '' });
    expect(w.stored(b).shipment!.offer!.courierId).toBe('k-idle');
  });

  it('delivers end to end, tells watchers every status, and frees the courier slot', async () => {
    const w = setup();
    await w.courierAt('k-1', north(PEOPLES_SQUARE, 300), 1);
    await createFulfilments(w.deps, order);
    await expectError(getHandoverCode(w.deps, { fulfilmentId: HOME }), 'failed-precondition'); // no shipment yet
    await acceptTask(w.deps, { fulfilmentId: HOME, locationId: STORE, associateId: 'a-1' });
    const handover = await getHandoverCode(w.deps, { fulfilmentId: HOME });
    expect(handover.code).toMatch(/^\d{6}$/);
    expect(handover.qrPayload).toBe(qrPayload('delivery', HOME, handover.code));
    expect(handover.expiresAt).toBeUndefined();

    w.advance(10_000);
    const assigned = await acceptAssignment(w.deps, { shipmentId: HOME_SHIPMENT, courierId: 'k-1' });
    expect(assigned.shipment).toMatchObject({ status: 'ASSIGNED', courierId: 'k-1' });
    expect(w.courier('k-1')).toMatchObject({ free: 0, shipmentIds: [HOME_SHIPMENT] });
    // Idempotent.
    const writes = w.fulfilments.writes();
    await acceptAssignment(w.deps, { shipmentId: HOME_SHIPMENT, courierId: 'k-1' });
    expect(w.fulfilments.writes()).toBe(writes);

    await expectError(
      confirmCollection(w.deps, { shipmentId: HOME_SHIPMENT, courierId: 'k-1' }),
      'failed-precondition',
    );
    await markPicked(w.deps, { fulfilmentId: HOME, locationId: STORE });
    await markReady(w.deps, { fulfilmentId: HOME, locationId: STORE });
    await expectError(startDelivery(w.deps, { shipmentId: HOME_SHIPMENT, courierId: 'k-1' }), 'failed-precondition');
    await confirmCollection(w.deps, { shipmentId: HOME_SHIPMENT, courierId: 'k-1' });
    await startDelivery(w.deps, { shipmentId: HOME_SHIPMENT, courierId: 'k-1' });

    const wrong = handover.code === '000000' ? '111111' : '000000';
    const before = structuredClone(w.stored(HOME));
    w.advance(MIN);
    await expectError(
      confirmDelivery(w.deps, { shipmentId: HOME_SHIPMENT, courierId: 'k-1', code: wrong }),
      'permission-denied',
    );
    // Only the attempt counter changed (and with it the version and update time).
    expect(w.stored(HOME)).toEqual({
      ...before,
      shipment: { ...before.shipment!, code: { ...before.shipment!.code, failedAttempts: 1 } },
      updatedAt: w.deps.clock.now(),
      version: before.version + 1,
    });
    await expectError(
      confirmDelivery(w.deps, { shipmentId: HOME_SHIPMENT, courierId: 'k-2', code: handover.code }),
      'permission-denied',
    );

    w.advance(20 * MIN);
    const delivered = await confirmDelivery(w.deps, {
      shipmentId: HOME_SHIPMENT,
      courierId: 'k-1',
      code: handover.code,
    });
    expect(delivered.shipment).toMatchObject({ status: 'DELIVERED', deliveredAt: w.deps.clock.now() });
    expect(delivered.shipment!.code.failedAttempts).toBe(0);
    expect(w.courier('k-1')).toMatchObject({ free: 1, shipmentIds: [] });
    expect(w.statuses(HOME_SHIPMENT)).toEqual([
      'AWAITING_COURIER',
      'ASSIGNED',
      'PICKED_UP',
      'OUT_FOR_DELIVERY',
      'DELIVERED',
    ]);
    expect(w.published.at(-1)).toMatchObject({ courierId: 'k-1', destination: THE_BUND });
    expect(w.eventTypes(HOME)).toEqual([
      'TaskAccepted',
      'ShipmentCreated',
      'CourierAssigned',
      'PickedUp',
      'OutForDelivery',
      'Delivered',
    ]);
    await expectError(getHandoverCode(w.deps, { fulfilmentId: HOME }), 'failed-precondition');
    // A repeat confirmation answers as it is.
    expect(
      (await confirmDelivery(w.deps, { shipmentId: HOME_SHIPMENT, courierId: 'k-1', code: handover.code })).version,
    ).toBe(delivered.version);
    // The freed slot takes the next shipment.
    await createFulfilments(w.deps, homeOrder('o-next'));
    const next = fulfilmentIdFor('o-next', 'g');
    await acceptTask(w.deps, { fulfilmentId: next, locationId: STORE, associateId: '' });
    expect(w.stored(next).shipment!.offer!.courierId).toBe('k-1');
  });

  it('frees the courier when the delivery fails', async () => {
    const w = setup();
    await w.courierAt('k-1', PEOPLES_SQUARE);
    await createFulfilments(w.deps, homeOrder('o-2'));
    const id = fulfilmentIdFor('o-2', 'g');
    const shipmentId = shipmentIdFor(id);
    await assignedAndReady(w, id, 'k-1');
    await confirmCollection(w.deps, { shipmentId, courierId: 'k-1' });
    await expectError(
      reportDeliveryFailure(w.deps, { shipmentId, courierId: 'k-1', reason: 'nobody home' }),
      'failed-precondition',
    );
    await startDelivery(w.deps, { shipmentId, courierId: 'k-1' });
    const failed = await reportDeliveryFailure(w.deps, { shipmentId, courierId: 'k-1', reason: '  nobody home ' });
    expect(failed.shipment).toMatchObject({ status: 'FAILED', failureReason: 'nobody home' });
    expect(w.courier('k-1')).toMatchObject({ free: 2, shipmentIds: [] });
    expect(w.statuses(shipmentId).at(-1)).toBe('FAILED');
    expect(w.eventTypes(id).at(-1)).toBe('DeliveryFailed');
  });

  it('keeps a courier going off shift on its accepted shipment, but offers it nothing new', async () => {
    const w = setup();
    await w.courierAt('k-1', PEOPLES_SQUARE);
    await createFulfilments(w.deps, homeOrder('o-2'));
    const id = fulfilmentIdFor('o-2', 'g');
    await assignedAndReady(w, id, 'k-1');
    await setCourierAvailability(w.deps, { courierId: 'k-1', available: false });
    await confirmCollection(w.deps, { shipmentId: shipmentIdFor(id), courierId: 'k-1' });
    expect(w.stored(id).shipment!.status).toBe('PICKED_UP');
    await createFulfilments(w.deps, homeOrder('o-3'));
    const other = fulfilmentIdFor('o-3', 'g');
    await acceptTask(w.deps, { fulfilmentId: other, locationId: STORE, associateId: '' });
    expect(w.stored(other).shipment!.offer).toBeUndefined();
  });

  it('gives back a slot claimed for a shipment that never named the courier (crash between claim and offer)', async () => {
    const w = setup();
    await w.courierAt('k-crash', PEOPLES_SQUARE);
    await w.courierAt('k-offered', north(PEOPLES_SQUARE, 10));
    await createFulfilments(w.deps, homeOrder('o-2'));
    const id = fulfilmentIdFor('o-2', 'g');
    await acceptTask(w.deps, { fulfilmentId: id, locationId: STORE, associateId: '' });
    expect(w.stored(id).shipment!.offer!.courierId).toBe('k-crash');
    // Another dispatcher claimed k-offered for the same shipment and crashed before writing its offer.
    expect(await w.deps.couriers.claim('k-offered', shipmentIdFor(id), w.deps.clock.now())).toBe(true);
    // And a slot held for a shipment that does not exist at all.
    expect(await w.deps.couriers.claim('k-offered', 'ghost.s', w.deps.clock.now())).toBe(true);
    expect(w.courier('k-offered').free).toBe(0);

    // Too recent to touch.
    w.advance(10_000);
    expect(await reconcileCourierSlots(w.deps, { limit: 10, unchangedForMs: 30_000 })).toBe(0);
    w.advance(25_000);
    expect(await reconcileCourierSlots(w.deps, { limit: 10, unchangedForMs: 30_000 })).toBe(2);
    expect(w.courier('k-offered')).toMatchObject({ free: 2, shipmentIds: [] });
    // The courier the shipment is really offered to keeps its slot.
    expect(w.courier('k-crash')).toMatchObject({ free: 1, shipmentIds: [shipmentIdFor(id)] });
    expect(await reconcileCourierSlots(w.deps, { limit: 10, unchangedForMs: 30_000 })).toBe(0);
  });
});

describe('sweeper', () => {
  it('announces a task nobody accepted, once, and expires an uncollected pick-up', async () => {
    const w = setup();
    await createFulfilments(w.deps, order);
    const failures: unknown[] = [];
    const sweep = () => sweepDue(w.deps, { limit: 10, onFailure: (_id, e) => failures.push(e) });
    w.advance(policy.acceptMs);
    expect(await sweep()).toBe(3);
    for (const id of [PICKUP, HOME, SHIP]) expect(w.eventTypes(id)).toEqual(['TaskOverdue']);
    expect(await sweep()).toBe(0);

    await acceptTask(w.deps, { fulfilmentId: PICKUP, locationId: STORE, associateId: '' });
    await markReady(w.deps, { fulfilmentId: PICKUP, locationId: STORE });
    w.advance(policy.pickupExpiryMs);
    await sweep();
    expect(w.stored(PICKUP).task.status).toBe('EXPIRED');
    expect(w.eventTypes(PICKUP)).toEqual(['TaskOverdue', 'TaskAccepted', 'ReadyForPickup', 'PickupExpired']);
    await expectError(getHandoverCode(w.deps, { fulfilmentId: PICKUP }), 'failed-precondition');
    expect(failures).toEqual([]);
  });
});

describe('couriers', () => {
  it('registers, updates the profile keeping the slots in step with capacity, and goes on shift', async () => {
    const w = setup();
    const registered = await registerCourier(w.deps, {
      courierId: 'k-1',
      name: ' Wang ',
      phone: '+86 138 0000 0000',
      vehicle: 'BICYCLE',
      capacity: 2,
    });
    expect(registered).toMatchObject({ id: 'k-1', name: 'Wang', available: false, free: 2, shipmentIds: [] });
    const onShift = await setCourierAvailability(w.deps, { courierId: 'k-1', available: true, point: PEOPLES_SQUARE });
    expect(onShift.available).toBe(true);
    expect(onShift.position).toEqual({ point: PEOPLES_SQUARE, time: t0, speedMps: 0, headingDeg: 0, accuracyM: 0 });
    await w.deps.couriers.claim('k-1', 'x.s', t0);
    const bigger = await registerCourier(w.deps, {
      courierId: 'k-1',
      name: 'Wang',
      phone: '12345',
      vehicle: 'CAR',
      capacity: 4,
    });
    expect(bigger).toMatchObject({ capacity: 4, free: 3, vehicle: 'CAR', available: true });
    expect((await getCourier(w.deps, { courierId: 'k-1' })).courier.id).toBe('k-1');
  });

  it('answers not-found for an unknown courier', async () => {
    const w = setup();
    await expectError(getCourier(w.deps, { courierId: 'k-9' }), 'not-found');
    await expectError(setCourierAvailability(w.deps, { courierId: 'k-9', available: true }), 'not-found');
  });

  it('names the fields at fault', async () => {
    const w = setup();
    await expectError(
      registerCourier(w.deps, { courierId: 'bad id', name: 'x', phone: '12345', vehicle: 'CAR', capacity: 1 }),
      'invalid-argument',
      ['courier_id'],
    );
    await expectError(getCourier(w.deps, { courierId: '' }), 'invalid-argument', ['courier_id']);
    await expectError(
      setCourierAvailability(w.deps, { courierId: 'k-1', available: true, point: { latitude: 91, longitude: 181 } }),
      'invalid-argument',
      ['point.latitude', 'point.longitude'],
    );
    const shipment = { shipmentId: 'o.g.s', courierId: 'k-1' };
    await expectError(acceptAssignment(w.deps, { ...shipment, courierId: '' }), 'invalid-argument', ['courier_id']);
    await expectError(acceptAssignment(w.deps, { ...shipment, shipmentId: '' }), 'invalid-argument', ['shipment_id']);
    await expectError(confirmDelivery(w.deps, { ...shipment, code: '12345' }), 'invalid-argument', ['code']);
    await expectError(confirmDelivery(w.deps, { ...shipment, code: '12345a' }), 'invalid-argument', ['code']);
    await expectError(reportDeliveryFailure(w.deps, { ...shipment, reason: '   ' }), 'invalid-argument', ['reason']);
    await expectError(reportDeliveryFailure(w.deps, { ...shipment, reason: 'r'.repeat(201) }), 'invalid-argument', [
      'reason',
    ]);
    await expectError(declineAssignment(w.deps, { ...shipment, reason: 'r'.repeat(201) }), 'invalid-argument', [
      'reason',
    ]);
    // Valid requests for a shipment that does not exist.
    await expectError(acceptAssignment(w.deps, shipment), 'not-found');
    await expectError(startDelivery(w.deps, { shipmentId: 'not-a-shipment', courierId: 'k-1' }), 'not-found');
    await expectError(confirmDelivery(w.deps, { ...shipment, code: '123456' }), 'not-found');
  });
});

describe('caller identity: what a principal may do (calls without one are internal, as above)', () => {
  const shopper: Principal = { role: 'shopper', subject: 'cust-1', storeIds: [], scopes: [] };
  const otherShopper: Principal = { ...shopper, subject: 'cust-2' };
  const staffAt = (...storeIds: string[]): Principal => ({ role: 'staff', subject: 'emp-1', storeIds, scopes: [] });
  const partner: Principal = { role: 'partner', subject: 'tmall', storeIds: [], scopes: [] };
  const admin: Principal = { role: 'admin', subject: 'ops-1', storeIds: [], scopes: [] };
  /** The order sold at kiosk store-9, for cust-1, through no partner. */
  const attributed: ConfirmedOrder = {
    ...order,
    attribution: { customerId: 'cust-1', storeId: 'store-9', partnerId: '' },
  };
  const byId = (fulfilmentId: string) => ({ fulfilmentId, orderId: '', groupId: '' });

  it('records the order’s attribution on every fulfilment it creates', async () => {
    const w = setup();
    await createFulfilments(w.deps, attributed);
    for (const id of [PICKUP, HOME, SHIP]) expect(w.stored(id).attribution).toEqual(attributed.attribution);
  });

  it('GetFulfilment: whoever may see the order (its attribution and this location); others NOT_FOUND word for word', async () => {
    const w = setup();
    await createFulfilments(w.deps, attributed);
    await createFulfilments(w.deps, {
      ...homeOrder('o-mp'),
      attribution: { customerId: '', storeId: '', partnerId: 'tmall' },
    });
    const seers = [shopper, staffAt(STORE), staffAt('store-9'), admin];
    for (const caller of seers) expect((await getFulfilment(w.deps, byId(HOME), { caller })).id).toBe(HOME);
    for (const caller of [otherShopper, staffAt(WAREHOUSE), partner]) {
      const e = await expectError(getFulfilment(w.deps, byId(HOME), { caller }), 'not-found');
      expect(e.message).toBe(`Fulfilment "${HOME}" does not exist`);
    }
    // Warehouse staff see the group the warehouse fulfils; the partner the order it placed.
    expect((await getFulfilment(w.deps, byId(SHIP), { caller: staffAt(WAREHOUSE) })).id).toBe(SHIP);
    const mp = fulfilmentIdFor('o-mp', 'g');
    expect((await getFulfilment(w.deps, byId(mp), { caller: partner })).id).toBe(mp);
  });

  it('a fulfilment created before attributions were recorded: admins and its location only', async () => {
    const w = setup();
    await createFulfilments(w.deps, order); // customer cust-1, but no attribution recorded
    await expectError(getFulfilment(w.deps, byId(HOME), { caller: shopper }), 'not-found');
    await expectError(getFulfilment(w.deps, byId(HOME), { caller: staffAt('store-9') }), 'not-found');
    expect((await getFulfilment(w.deps, byId(HOME), { caller: staffAt(STORE) })).id).toBe(HOME);
    expect((await getFulfilment(w.deps, byId(HOME), { caller: admin })).id).toBe(HOME);
  });

  it('GetHandoverCode: the buyer’s own pick-up only; another shopper is told it does not exist, its store is refused', async () => {
    const w = setup();
    await createFulfilments(w.deps, attributed);
    await acceptTask(w.deps, { fulfilmentId: PICKUP, locationId: STORE, associateId: '' });
    await markReady(w.deps, { fulfilmentId: PICKUP, locationId: STORE });
    const e = await expectError(
      getHandoverCode(w.deps, { fulfilmentId: PICKUP }, { caller: otherShopper }),
      'not-found',
    );
    expect(e.message).toBe(`Fulfilment "${PICKUP}" does not exist`);
    expect((await getHandoverCode(w.deps, { fulfilmentId: PICKUP }, { caller: shopper })).code).toMatch(/^\d{6}$/);
    // The store's staff see the fulfilment, never the code that proves the buyer is at the counter.
    expect((await getFulfilment(w.deps, byId(PICKUP), { caller: staffAt(STORE) })).id).toBe(PICKUP);
    await expectError(
      getHandoverCode(w.deps, { fulfilmentId: PICKUP }, { caller: staffAt(STORE) }),
      'permission-denied',
    );
    expect((await getHandoverCode(w.deps, { fulfilmentId: PICKUP }, { caller: admin })).code).toMatch(/^\d{6}$/);
  });

  it('location work (queue, accept, pick, pack, pick-up) only for those acting for the location; refusals change nothing', async () => {
    const w = setup();
    await createFulfilments(w.deps, attributed);
    const writes = w.fulfilments.writes();
    for (const caller of [staffAt(WAREHOUSE), shopper, partner]) {
      const task = { fulfilmentId: PICKUP, locationId: STORE };
      await expectError(acceptTask(w.deps, { ...task, associateId: '' }, { caller }), 'permission-denied');
      await expectError(markPicked(w.deps, task, { caller }), 'permission-denied');
      await expectError(markReady(w.deps, task, { caller }), 'permission-denied');
      const pickup = { locationId: STORE, fulfilmentId: PICKUP, code: '123456', qrPayload: '', associateId: '' };
      await expectError(verifyPickup(w.deps, pickup, { caller }), 'permission-denied');
      const queue = { locationId: STORE, statuses: [], page: { size: 10 } };
      await expectError(listFulfilments(w.deps, queue, { caller }), 'permission-denied');
    }
    expect(w.fulfilments.writes()).toBe(writes);
    expect(w.stored(PICKUP).pickup).toBeUndefined();

    const staff = staffAt(STORE);
    await acceptTask(w.deps, { fulfilmentId: PICKUP, locationId: STORE, associateId: '' }, { caller: staff });
    await markPicked(w.deps, { fulfilmentId: PICKUP, locationId: STORE }, { caller: staff });
    await markReady(w.deps, { fulfilmentId: PICKUP, locationId: STORE }, { caller: { ...partner, storeIds: [STORE] } });
    const queue = await listFulfilments(
      w.deps,
      { locationId: STORE, statuses: ['READY'], page: { size: 10 } },
      { caller: admin },
    );
    expect(queue.items.map((f) => f.id)).toEqual([PICKUP]);
    const { code } = await getHandoverCode(w.deps, { fulfilmentId: PICKUP }, { caller: shopper });
    const collected = await verifyPickup(
      w.deps,
      { locationId: STORE, fulfilmentId: PICKUP, code, qrPayload: '', associateId: '' },
      { caller: staff },
    );
    expect(collected.task.status).toBe('HANDED_OVER');
  });

  it('courier calls: with a principal, admins only; refusals change nothing', async () => {
    const w = setup();
    await createFulfilments(w.deps, attributed);
    await w.courierAt('c-1', PEOPLES_SQUARE);
    await acceptTask(w.deps, { fulfilmentId: HOME, locationId: STORE, associateId: '' });
    expect(w.stored(HOME).shipment!.offer?.courierId).toBe('c-1');
    const writes = w.fulfilments.writes();
    const courierBefore = structuredClone(w.courier('c-1'));
    const command = { shipmentId: HOME_SHIPMENT, courierId: 'c-1' };
    for (const caller of [shopper, staffAt(STORE), partner]) {
      const profile = { courierId: 'c-9', name: 'X', phone: '1', vehicle: 'E_BIKE' as const, capacity: 1 };
      await expectError(registerCourier(w.deps, profile, { caller }), 'permission-denied');
      await expectError(getCourier(w.deps, { courierId: 'c-1' }, { caller }), 'permission-denied');
      await expectError(
        setCourierAvailability(w.deps, { courierId: 'c-1', available: false }, { caller }),
        'permission-denied',
      );
      await expectError(acceptAssignment(w.deps, command, { caller }), 'permission-denied');
      await expectError(declineAssignment(w.deps, { ...command, reason: '' }, { caller }), 'permission-denied');
      await expectError(confirmCollection(w.deps, command, { caller }), 'permission-denied');
      await expectError(startDelivery(w.deps, command, { caller }), 'permission-denied');
      await expectError(confirmDelivery(w.deps, { ...command, code: '123456' }, { caller }), 'permission-denied');
      await expectError(reportDeliveryFailure(w.deps, { ...command, reason: 'x' }, { caller }), 'permission-denied');
    }
    expect(w.fulfilments.writes()).toBe(writes);
    expect(w.courier('c-1')).toEqual(courierBefore);
    expect(w.couriers.rows.has('c-9')).toBe(false);
    const accepted = await acceptAssignment(w.deps, command, { caller: admin });
    expect(accepted.shipment?.courierId).toBe('c-1');
    expect((await getCourier(w.deps, { courierId: 'c-1' }, { caller: admin })).courier.id).toBe('c-1');
  });

  it('WatchShipment: the shopper’s own shipment, its location, an admin; nobody else, and no unknown shipment', async () => {
    const w = setup();
    await createFulfilments(w.deps, attributed);
    await acceptTask(w.deps, { fulfilmentId: HOME, locationId: STORE, associateId: '' });
    for (const caller of [shopper, staffAt(STORE), admin]) {
      expect(await mayWatchShipment(w.deps, caller, HOME_SHIPMENT)).toBe(true);
    }
    for (const caller of [otherShopper, staffAt(WAREHOUSE), partner]) {
      expect(await mayWatchShipment(w.deps, caller, HOME_SHIPMENT)).toBe(false);
    }
    expect(await mayWatchShipment(w.deps, admin, 'o-9.g.s')).toBe(false);
    expect(await mayWatchShipment(w.deps, undefined, 'o-9.g.s')).toBe(true); // internal: the hub answers
  });
});
