// The delivery service's API against the real Kafka, database and inventory: fulfilments created from the orders
// topic, the store's task steps, pick-up with a code, dispatch to the nearest courier with re-offers on decline and
// timeout, proof of delivery, cancellation, a group re-routed by orders, and bad input. Every step is checked on the
// published events too.
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { type Fulfilment, ShipmentStatus, TaskStatus, Vehicle } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import * as orderEvents from '@o2o/contracts/gen/o2o/orders/v1/events';
import { GroupStatus } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { decodeFieldViolations } from '@o2o/kit-grpc';
import { toCloudEventHeaders } from '@o2o/kit-kafka';
import { publishTo, refusal, uniqueName, waitFor } from '@o2o/kit-testing';
import { type DeliveryHarness, type GroupSpec, orderWith, PLACES, startDelivery } from './harness';

let h: DeliveryHarness;
const OFFER_TIMEOUT_MS = 1500;

beforeAll(async () => {
  h = await startDelivery({ OFFER_TIMEOUT_MS: String(OFFER_TIMEOUT_MS) });
});
afterAll(async () => {
  await h?.stop();
});

const near = (metresNorth: number, from: { latitude: number; longitude: number } = PLACES.warehouse.point) => ({
  latitude: from.latitude + metresNorth / 111_320,
  longitude: from.longitude,
});

async function fulfilmentOf(orderId: string, groupId = 'g1'): Promise<Fulfilment> {
  return waitFor<Fulfilment>(
    async () => {
      try {
        return (await h.client.getFulfilment({ fulfilmentId: '', orderId, groupId })).fulfilment;
      } catch {
        return undefined;
      }
    },
    { timeoutMs: 15_000, what: `fulfilment of ${orderId}` },
  );
}

function eventsOf(orderId: string) {
  return h.events().filter((e) => e.key === orderId);
}

async function courier(id: string, point: { latitude: number; longitude: number } | undefined, capacity = 2) {
  await h.client.registerCourier({
    courierId: id,
    name: `Rider ${id}`,
    phone: '+86 138 0000 0000',
    vehicle: Vehicle.VEHICLE_E_BIKE,
    capacity,
  });
  if (point) await h.client.setCourierAvailability({ courierId: id, available: true, point });
}

/** Accepts, picks and packs a fulfilment at its location. */
async function prepare(f: Fulfilment): Promise<Fulfilment> {
  await h.client.acceptTask({ fulfilmentId: f.id, locationId: f.locationId, associateId: 'assoc-1' });
  await h.client.markPicked({ fulfilmentId: f.id, locationId: f.locationId });
  return (await h.client.markReady({ fulfilmentId: f.id, locationId: f.locationId })).fulfilment!;
}

describe('fulfilments from the orders topic', () => {
  it('creates one per delivered or collected group, none for carry-out, and nothing new on a repeat', async () => {
    const orderId = uniqueName('o');
    const groups: GroupSpec[] = [
      { id: 'g1', type: 'HOME_DELIVERY', locationId: PLACES.warehouse.id },
      { id: 'g2', type: 'STORE_PICKUP', locationId: PLACES.storeA.id },
      { id: 'g3', type: 'IN_STORE_CARRY_OUT', locationId: PLACES.storeB.id },
    ];
    await h.confirmOrder(orderId, groups);
    await h.confirmOrder(orderId, groups);
    const delivered = await fulfilmentOf(orderId, 'g1');
    const pickup = await fulfilmentOf(orderId, 'g2');
    expect(delivered.task?.status).toBe(TaskStatus.TASK_STATUS_OPEN);
    expect(pickup.task?.status).toBe(TaskStatus.TASK_STATUS_OPEN);
    expect(delivered.task?.deadlines?.acceptBy?.getTime()).toBeGreaterThan(Date.now());
    expect(await refusal(h.client.getFulfilment({ fulfilmentId: '', orderId, groupId: 'g3' }))).toMatchObject({
      code: status.NOT_FOUND,
    });
    const queue = await h.client.listFulfilments({
      locationId: PLACES.storeA.id,
      taskStatuses: [TaskStatus.TASK_STATUS_OPEN],
      page: { pageSize: 200, pageToken: '' },
    });
    expect(queue.fulfilments.filter((f) => f.orderId === orderId).map((f) => f.groupId)).toEqual(['g2']);
    // Both versions of the event were handled; the fulfilment was written once.
    expect(delivered.version).toBe('0');
  });
});

describe('pick-up in store', () => {
  it('reaches PICKED_UP only with the right code at the right store; a wrong code changes nothing', async () => {
    const orderId = uniqueName('o');
    await h.confirmOrder(orderId, [{ id: 'g1', type: 'STORE_PICKUP', locationId: PLACES.storeA.id }]);
    const f = await fulfilmentOf(orderId);

    expect(
      await refusal(h.client.acceptTask({ fulfilmentId: f.id, locationId: PLACES.storeB.id, associateId: '' })),
    ).toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    expect(await refusal(h.client.getHandoverCode({ fulfilmentId: f.id }))).toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    const ready = await prepare(f);
    expect(ready.task?.status).toBe(TaskStatus.TASK_STATUS_READY);
    expect(ready.pickup?.expireTime?.getTime()).toBeGreaterThan(Date.now());

    const { code, qrPayload } = await h.client.getHandoverCode({ fulfilmentId: f.id });
    expect(code).toMatch(/^\d{6}$/);
    expect(qrPayload).toContain(f.id);
    const wrong = code === '000000' ? '111111' : '000000';
    await waitFor(() => eventsOf(orderId).some((e) => e.type === 'ReadyForPickup'));
    const before = eventsOf(orderId).length;
    expect(
      await refusal(
        h.client.verifyPickup({
          locationId: PLACES.storeA.id,
          fulfilmentId: f.id,
          code: wrong,
          qrPayload: '',
          associateId: '',
        }),
      ),
    ).toMatchObject({ code: status.PERMISSION_DENIED });
    // The right code at another store is refused too.
    expect(
      await refusal(
        h.client.verifyPickup({
          locationId: PLACES.storeB.id,
          fulfilmentId: f.id,
          code,
          qrPayload: '',
          associateId: '',
        }),
      ),
    ).toMatchObject({ code: status.PERMISSION_DENIED });
    const after = (await h.client.getFulfilment({ fulfilmentId: f.id, orderId: '', groupId: '' })).fulfilment!;
    expect(after.task?.status).toBe(TaskStatus.TASK_STATUS_READY);
    expect(after.pickup?.failedAttempts).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(eventsOf(orderId)).toHaveLength(before);

    const collected = await h.client.verifyPickup({
      locationId: PLACES.storeA.id,
      fulfilmentId: '',
      code: '',
      qrPayload,
      associateId: 'assoc-2',
    });
    expect(collected.fulfilment?.task?.status).toBe(TaskStatus.TASK_STATUS_HANDED_OVER);
    expect(collected.fulfilment?.pickup?.collectTime).toBeDefined();
    const events = await waitFor(() => {
      const list = eventsOf(orderId);
      return list.some((e) => e.type === 'PickedUp') ? list : undefined;
    });
    expect(events.map((e) => e.type)).toEqual(['TaskAccepted', 'ReadyForPickup', 'PickedUp']);
    expect(events[2]?.payload).toMatchObject({
      shipmentId: '',
      ref: { orderId, groupId: 'g1', locationId: PLACES.storeA.id },
    });
    // The code no longer works once collected.
    expect(await refusal(h.client.getHandoverCode({ fulfilmentId: f.id }))).toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
  });

  it('locks verification after too many wrong codes', async () => {
    const orderId = uniqueName('o');
    await h.confirmOrder(orderId, [{ id: 'g1', type: 'STORE_PICKUP', locationId: PLACES.storeB.id }]);
    const f = await prepare(await fulfilmentOf(orderId));
    const { code } = await h.client.getHandoverCode({ fulfilmentId: f.id });
    const wrong = code === '123456' ? '654321' : '123456';
    const verify = (c: string) =>
      h.client.verifyPickup({
        locationId: PLACES.storeB.id,
        fulfilmentId: f.id,
        code: c,
        qrPayload: '',
        associateId: '',
      });
    for (let i = 0; i < 5; i++) expect(await refusal(verify(wrong))).toMatchObject({ code: status.PERMISSION_DENIED });
    // Locked now: even the right code waits.
    expect(await refusal(verify(code))).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    const locked = (await h.client.getFulfilment({ fulfilmentId: f.id, orderId: '', groupId: '' })).fulfilment!;
    expect(locked.task?.status).toBe(TaskStatus.TASK_STATUS_READY);
    expect(locked.pickup?.lockedUntil?.getTime()).toBeGreaterThan(Date.now());
  });
});

describe('home delivery', () => {
  it('offers the nearest courier, moves on after a decline and a timeout, and delivers with the shopper code', async () => {
    const tag = uniqueName('c');
    const [c1, c2, c3, late] = ['near', 'second', 'far', 'late'].map((n) => `${tag}-${n}`) as [
      string,
      string,
      string,
      string,
    ];
    await courier(c1, near(400));
    await courier(c2, near(1500));
    await courier(c3, near(60_000)); // outside the dispatch radius
    const orderId = uniqueName('o');
    await h.confirmOrder(orderId, [{ id: 'g1', type: 'HOME_DELIVERY', locationId: PLACES.warehouse.id }]);
    const f = await fulfilmentOf(orderId);

    const accepted = (await h.client.acceptTask({ fulfilmentId: f.id, locationId: f.locationId, associateId: '' }))
      .fulfilment!;
    const shipmentId = accepted.shipment!.id;
    expect(accepted.shipment).toMatchObject({
      status: ShipmentStatus.SHIPMENT_STATUS_AWAITING_COURIER,
      offer: { courierId: c1 },
    });
    expect((await h.client.getCourier({ courierId: c1 })).offers.map((o) => o.shipment?.id)).toEqual([shipmentId]);
    // Someone else cannot take c1's offer.
    expect(await refusal(h.client.acceptAssignment({ shipmentId, courierId: c2 }))).toMatchObject({
      code: status.PERMISSION_DENIED,
    });

    const declined = (await h.client.declineAssignment({ shipmentId, courierId: c1, reason: 'flat tyre' })).fulfilment!;
    expect(declined.shipment?.offer?.courierId).toBe(c2);
    expect(declined.shipment?.passedBy).toEqual([c1]);
    expect((await h.client.getCourier({ courierId: c1 })).courier?.shipmentIds).toEqual([]);

    // c2 does not answer: the offer lapses; c1 passed and c3 is too far, so the shipment waits for a courier.
    await waitFor(
      async () => {
        const s = (await h.client.getFulfilment({ fulfilmentId: f.id, orderId: '', groupId: '' })).fulfilment?.shipment;
        return s && !s.offer && s.passedBy.includes(c2) ? s : undefined;
      },
      { timeoutMs: 10_000, what: 'the lapsed offer' },
    );
    expect(await refusal(h.client.acceptAssignment({ shipmentId, courierId: c2 }))).toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    await courier(late, near(900));
    const offered = await waitFor(
      async () => {
        const s = (await h.client.getFulfilment({ fulfilmentId: f.id, orderId: '', groupId: '' })).fulfilment?.shipment;
        return s?.offer?.courierId === late ? s : undefined;
      },
      { timeoutMs: 15_000, what: 'an offer to the new courier' },
    );
    expect(offered.status).toBe(ShipmentStatus.SHIPMENT_STATUS_AWAITING_COURIER);

    const assigned = (await h.client.acceptAssignment({ shipmentId, courierId: late })).fulfilment!;
    expect(assigned.shipment).toMatchObject({ status: ShipmentStatus.SHIPMENT_STATUS_ASSIGNED, courierId: late });
    // Not packed yet: the courier cannot collect.
    expect(await refusal(h.client.confirmCollection({ shipmentId, courierId: late }))).toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    await h.client.markPicked({ fulfilmentId: f.id, locationId: f.locationId });
    await h.client.markReady({ fulfilmentId: f.id, locationId: f.locationId });
    const collected = (await h.client.confirmCollection({ shipmentId, courierId: late })).fulfilment!;
    expect(collected.shipment?.status).toBe(ShipmentStatus.SHIPMENT_STATUS_PICKED_UP);
    expect(collected.task?.status).toBe(TaskStatus.TASK_STATUS_HANDED_OVER);
    await h.client.startDelivery({ shipmentId, courierId: late });

    const { code } = await h.client.getHandoverCode({ fulfilmentId: f.id });
    const wrong = code === '999999' ? '888888' : '999999';
    expect(await refusal(h.client.confirmDelivery({ shipmentId, courierId: late, code: wrong }))).toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    const stillOut = (await h.client.getFulfilment({ fulfilmentId: f.id, orderId: '', groupId: '' })).fulfilment!;
    expect(stillOut.shipment?.status).toBe(ShipmentStatus.SHIPMENT_STATUS_OUT_FOR_DELIVERY);
    const delivered = (await h.client.confirmDelivery({ shipmentId, courierId: late, code })).fulfilment!;
    expect(delivered.shipment?.status).toBe(ShipmentStatus.SHIPMENT_STATUS_DELIVERED);
    expect(delivered.shipment?.deliverTime).toBeDefined();
    // A repeat answers the same; the courier's slot is free again.
    expect((await h.client.confirmDelivery({ shipmentId, courierId: late, code })).fulfilment?.version).toBe(
      delivered.version,
    );
    const rider = (await h.client.getCourier({ courierId: late })).courier!;
    expect(rider.shipmentIds).toEqual([]);

    const types = await waitFor(() => {
      const list = eventsOf(orderId).map((e) => e.type);
      return list.includes('Delivered') ? list : undefined;
    });
    expect(types).toEqual([
      'TaskAccepted',
      'ShipmentCreated',
      'CourierAssigned',
      'PickedUp',
      'OutForDelivery',
      'Delivered',
    ]);
    const assignedEvent = eventsOf(orderId).find((e) => e.type === 'CourierAssigned');
    expect(assignedEvent?.payload).toMatchObject({ shipmentId, courierId: late, ref: { orderId, groupId: 'g1' } });
  });

  it('weighs a courier’s load: a busy nearer courier loses to a free one a little farther', async () => {
    const tag = uniqueName('c');
    const busy = `${tag}-busy`;
    const free = `${tag}-free`;
    await courier(busy, near(200, PLACES.storeB.point), 3);
    const first = uniqueName('o');
    await h.confirmOrder(first, [{ id: 'g1', type: 'SHIP_FROM_STORE', locationId: PLACES.storeB.id }]);
    const f1 = await fulfilmentOf(first);
    const a1 = (await h.client.acceptTask({ fulfilmentId: f1.id, locationId: f1.locationId, associateId: '' }))
      .fulfilment!;
    expect(a1.shipment?.offer?.courierId).toBe(busy);
    await h.client.acceptAssignment({ shipmentId: a1.shipment!.id, courierId: busy });
    // One shipment counts as 1,500 m: 200 m + 1,500 m > 1,000 m.
    await courier(free, near(1000, PLACES.storeB.point));
    const second = uniqueName('o');
    await h.confirmOrder(second, [{ id: 'g1', type: 'SHIP_FROM_STORE', locationId: PLACES.storeB.id }]);
    const f2 = await fulfilmentOf(second);
    const a2 = (await h.client.acceptTask({ fulfilmentId: f2.id, locationId: f2.locationId, associateId: '' }))
      .fulfilment!;
    expect(a2.shipment?.offer?.courierId).toBe(free);
    // Capacity is respected: a courier with one slot is not offered a second shipment.
    const solo = `${tag}-solo`;
    await courier(solo, near(50, PLACES.storeA.point), 1);
    const orders = [uniqueName('o'), uniqueName('o')];
    const offers: string[] = [];
    for (const orderId of orders) {
      await h.confirmOrder(orderId, [{ id: 'g1', type: 'SHIP_FROM_STORE', locationId: PLACES.storeA.id }]);
      const f = await fulfilmentOf(orderId);
      const a = (await h.client.acceptTask({ fulfilmentId: f.id, locationId: f.locationId, associateId: '' }))
        .fulfilment!;
      offers.push(a.shipment?.offer?.courierId ?? '');
    }
    expect(offers.filter((c) => c === solo)).toHaveLength(1);
    expect((await h.client.getCourier({ courierId: solo })).courier).toMatchObject({
      capacity: 1,
      shipmentIds: [expect.any(String)],
    });
  });

  it('reports a failed delivery with its reason', async () => {
    const rider = `${uniqueName('c')}-f`;
    await courier(rider, near(100, PLACES.storeA.point), 10);
    const orderId = uniqueName('o');
    await h.confirmOrder(orderId, [{ id: 'g1', type: 'HOME_DELIVERY', locationId: PLACES.storeA.id }]);
    const f = await fulfilmentOf(orderId);
    const accepted = (await h.client.acceptTask({ fulfilmentId: f.id, locationId: f.locationId, associateId: '' }))
      .fulfilment!;
    const shipmentId = accepted.shipment!.id;
    expect(accepted.shipment?.offer?.courierId).toBe(rider);
    await h.client.acceptAssignment({ shipmentId, courierId: rider });
    // Failure is for a parcel on its way, not before.
    expect(
      await refusal(h.client.reportDeliveryFailure({ shipmentId, courierId: rider, reason: 'nobody home' })),
    ).toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    await h.client.markReady({ fulfilmentId: f.id, locationId: f.locationId });
    await h.client.confirmCollection({ shipmentId, courierId: rider });
    await h.client.startDelivery({ shipmentId, courierId: rider });
    const failed = (await h.client.reportDeliveryFailure({ shipmentId, courierId: rider, reason: 'nobody home' }))
      .fulfilment!;
    expect(failed.shipment).toMatchObject({
      status: ShipmentStatus.SHIPMENT_STATUS_FAILED,
      failureReason: 'nobody home',
    });
    const event = await waitFor(() => eventsOf(orderId).find((e) => e.type === 'DeliveryFailed'));
    expect(event.payload).toMatchObject({ shipmentId, reason: 'nobody home' });
  });
});

describe('cancellation', () => {
  it('stops a task and its shipment, and gives the offered courier its slot back', async () => {
    const rider = `${uniqueName('c')}-x`;
    await courier(rider, near(100), 10);
    const orderId = uniqueName('o');
    const groups: GroupSpec[] = [{ id: 'g1', type: 'HOME_DELIVERY', locationId: PLACES.warehouse.id }];
    await h.confirmOrder(orderId, groups);
    const f = await fulfilmentOf(orderId);
    const accepted = (await h.client.acceptTask({ fulfilmentId: f.id, locationId: f.locationId, associateId: '' }))
      .fulfilment!;
    expect(accepted.shipment?.offer?.courierId).toBe(rider);
    await h.cancelOrder(orderId, groups);
    const cancelled = await waitFor(async () => {
      const x = (await h.client.getFulfilment({ fulfilmentId: f.id, orderId: '', groupId: '' })).fulfilment!;
      return x.task?.status === TaskStatus.TASK_STATUS_CANCELLED ? x : undefined;
    });
    expect(cancelled.shipment?.status).toBe(ShipmentStatus.SHIPMENT_STATUS_CANCELLED);
    expect((await h.client.getCourier({ courierId: rider })).courier?.shipmentIds).toEqual([]);
    expect(await refusal(h.client.markPicked({ fulfilmentId: f.id, locationId: f.locationId }))).toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    await waitFor(() => eventsOf(orderId).find((e) => e.type === 'FulfilmentCancelled'));
  });
});

describe('a group re-routed by orders (OrderRerouted)', () => {
  /** Publishes OrderRerouted as orders would: g1 REROUTED at its location, g2 CONFIRMED at `to`. */
  async function publishRerouted(orderId: string, from: GroupSpec, to: GroupSpec): Promise<void> {
    const order = orderWith(orderId, [from, to]);
    order.groups[0]!.status = GroupStatus.GROUP_STATUS_REROUTED;
    order.groups[1]!.status = GroupStatus.GROUP_STATUS_CONFIRMED;
    const value = orderEvents.OrderRerouted.encode({
      order,
      fromGroupId: from.id,
      toGroupId: to.id,
      reason: 'not accepted in time',
    }).finish();
    const headers = toCloudEventHeaders({
      id: randomUUID(),
      type: 'o2o.orders.v1.OrderRerouted',
      source: '/o2o/orders',
      subject: orderId,
      time: new Date(),
    });
    await publishTo(`${h.prefix}o2o.orders.v1`, [{ key: orderId, headers, value: Buffer.from(value) }]);
  }

  it('stops the old fulfilment (accepted meanwhile, courier offered) and starts the new one at the new location', async () => {
    const rider = `${uniqueName('c')}-r`;
    await courier(rider, near(30), 10);
    const orderId = uniqueName('o');
    const from: GroupSpec = { id: 'g1', type: 'HOME_DELIVERY', locationId: PLACES.warehouse.id };
    const to: GroupSpec = { id: 'g2', type: 'HOME_DELIVERY', locationId: PLACES.storeB.id };
    await h.confirmOrder(orderId, [from]);
    const old = await fulfilmentOf(orderId, 'g1');
    // The warehouse accepts late, just as orders re-routes: a shipment exists and a courier was offered it.
    const accepted = (await h.client.acceptTask({ fulfilmentId: old.id, locationId: old.locationId, associateId: '' }))
      .fulfilment!;
    expect(accepted.shipment?.offer?.courierId).toBe(rider);

    await publishRerouted(orderId, from, to);
    const moved = await fulfilmentOf(orderId, 'g2');
    expect(moved).toMatchObject({
      id: `${orderId}.g2`,
      groupId: 'g2',
      locationId: PLACES.storeB.id,
      items: [{ sku: 'TEA-1', quantity: 2 }],
    });
    expect(moved.task?.status).toBe(TaskStatus.TASK_STATUS_OPEN);
    expect(moved.task?.deadlines?.acceptBy?.getTime()).toBeGreaterThan(Date.now());
    const stopped = (await h.client.getFulfilment({ fulfilmentId: old.id, orderId: '', groupId: '' })).fulfilment!;
    expect(stopped.task?.status).toBe(TaskStatus.TASK_STATUS_CANCELLED);
    expect(stopped.shipment?.status).toBe(ShipmentStatus.SHIPMENT_STATUS_CANCELLED);
    expect((await h.client.getCourier({ courierId: rider })).courier?.shipmentIds).toEqual([]);
    const cancelledEvent = await waitFor(() => eventsOf(orderId).find((e) => e.type === 'FulfilmentCancelled'));
    expect(cancelledEvent.payload).toMatchObject({ ref: { orderId, groupId: 'g1', locationId: PLACES.warehouse.id } });

    // The new location's queue has it; the old one's does not.
    const queue = async (locationId: string) =>
      (
        await h.client.listFulfilments({
          locationId,
          taskStatuses: [TaskStatus.TASK_STATUS_OPEN],
          page: { pageSize: 200, pageToken: '' },
        })
      ).fulfilments
        .filter((f) => f.orderId === orderId)
        .map((f) => f.groupId);
    expect(await queue(PLACES.storeB.id)).toEqual(['g2']);
    expect(await queue(PLACES.warehouse.id)).toEqual([]);

    // Redelivered: nothing new, nothing changed.
    await publishRerouted(orderId, from, to);
    await new Promise((r) => setTimeout(r, 1500));
    const again = (await h.client.getFulfilment({ fulfilmentId: moved.id, orderId: '', groupId: '' })).fulfilment!;
    expect(again.version).toBe(moved.version);
    expect(eventsOf(orderId).filter((e) => e.type === 'FulfilmentCancelled')).toHaveLength(1);

    // The new location takes it on: its shipment leaves from there.
    const taken = (await h.client.acceptTask({ fulfilmentId: moved.id, locationId: PLACES.storeB.id, associateId: '' }))
      .fulfilment!;
    expect(taken.task?.status).toBe(TaskStatus.TASK_STATUS_ACCEPTED);
    expect(taken.shipment?.origin).toEqual(PLACES.storeB.point);
  });

  it('leaves work already handed over as it is, and still starts the new group', async () => {
    const rider = `${uniqueName('c')}-h`;
    await courier(rider, near(10), 10);
    const orderId = uniqueName('o');
    const from: GroupSpec = { id: 'g1', type: 'HOME_DELIVERY', locationId: PLACES.warehouse.id };
    const to: GroupSpec = { id: 'g2', type: 'HOME_DELIVERY', locationId: PLACES.storeA.id };
    await h.confirmOrder(orderId, [from]);
    const old = await prepare(await fulfilmentOf(orderId, 'g1'));
    const shipmentId = old.shipment!.id;
    await h.client.acceptAssignment({ shipmentId, courierId: rider });
    await h.client.confirmCollection({ shipmentId, courierId: rider });

    await publishRerouted(orderId, from, to);
    await fulfilmentOf(orderId, 'g2');
    const kept = (await h.client.getFulfilment({ fulfilmentId: old.id, orderId: '', groupId: '' })).fulfilment!;
    expect(kept.task?.status).toBe(TaskStatus.TASK_STATUS_HANDED_OVER);
    expect(kept.shipment?.status).toBe(ShipmentStatus.SHIPMENT_STATUS_PICKED_UP);
    expect(eventsOf(orderId).filter((e) => e.type === 'FulfilmentCancelled')).toEqual([]);
  });
});

describe('bad input', () => {
  it('names the field at fault and changes nothing', async () => {
    const bad = await refusal(h.client.acceptTask({ fulfilmentId: '', locationId: 'has space', associateId: '' }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeFieldViolations(bad.metadata).map((v) => v.field)).toEqual(['fulfilment_id', 'location_id']);

    const courierBad = await refusal(
      h.client.registerCourier({
        courierId: 'c 1',
        name: '',
        phone: 'x',
        vehicle: Vehicle.VEHICLE_UNSPECIFIED,
        capacity: 0,
      }),
    );
    expect(decodeFieldViolations(courierBad.metadata).map((v) => v.field)).toEqual([
      'courier_id',
      'name',
      'phone',
      'vehicle',
      'capacity',
    ]);

    const id = uniqueName('c');
    await courier(id, undefined);
    const badPoint = await refusal(
      h.client.setCourierAvailability({ courierId: id, available: true, point: { latitude: 91, longitude: 200 } }),
    );
    expect(decodeFieldViolations(badPoint.metadata).map((v) => v.field)).toEqual(['point.latitude', 'point.longitude']);
    expect((await h.client.getCourier({ courierId: id })).courier).toMatchObject({
      available: false,
      position: undefined,
    });

    expect(await refusal(h.client.getFulfilment({ fulfilmentId: 'nope', orderId: '', groupId: '' }))).toMatchObject({
      code: status.NOT_FOUND,
    });
    expect(await refusal(h.client.acceptAssignment({ shipmentId: 'nope.s', courierId: id }))).toMatchObject({
      code: status.NOT_FOUND,
    });
    const code = await refusal(h.client.confirmDelivery({ shipmentId: 'x.s', courierId: id, code: '12ab' }));
    expect(decodeFieldViolations(code.metadata).map((v) => v.field)).toEqual(['code']);
    const page = await refusal(
      h.client.listFulfilments({
        locationId: PLACES.storeA.id,
        taskStatuses: [],
        page: { pageSize: 5, pageToken: 'garbage' },
      }),
    );
    expect(page.code).toBe(status.INVALID_ARGUMENT);
    const statusBad = await refusal(
      h.client.listFulfilments({ locationId: PLACES.storeA.id, taskStatuses: [42 as TaskStatus], page: undefined }),
    );
    expect(decodeFieldViolations(statusBad.metadata).map((v) => v.field)).toEqual(['task_statuses[0]']);
  });
});
