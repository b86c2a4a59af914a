// Re-routing end to end, every service its own process (catalogue, inventory, payments, orders, delivery) with the
// real Kafka and database, and a short accept deadline (TASK_ACCEPT_MS 1.5 s): a home-delivery order sourced from the
// warehouse, which never accepts, moves to the store that also has the stock (OrderRerouted, the warehouse hold
// released, a new hold at the store, delivery's work moved there); the store accepts and the order goes on to
// COMPLETED with the payment captured once, for the full amount.
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { type Fulfilment, ShipmentStatus, TaskStatus, Vehicle } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { HoldStatus } from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { FulfilmentType, GroupStatus, type Order, OrderStatus } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { PaymentStatus } from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { refusal, uniqueName, waitFor } from '@o2o/kit-testing';
import { homeDeliveryOrder } from '@o2o/kit-bench';
import { LOCATIONS, type SkuSpec, startSystem, type System } from '../../orders/test/system';

let sys: System;
const TEA: SkuSpec = { code: `RRT-${randomUUID().slice(0, 8)}`, online: 2500, store: 2300 };
/** A shopper 200 m from the warehouse (31.21, 121.49): the warehouse is the nearest location with the stock. */
const NEAR_WAREHOUSE = { latitude: 31.2115, longitude: 121.4885 };
/** A courier 300 m north of the Xintiandi store (storeB). */
const NEAR_STORE_B = { latitude: 31.2197 + 300 / 111_320, longitude: 121.475 };

beforeAll(async () => {
  sys = await startSystem({
    only: ['catalogue', 'inventory', 'payments', 'orders', 'delivery'],
    env: { delivery: { TASK_ACCEPT_MS: '1500' } },
  });
  await sys.createLocations();
  await sys.createProduct(`Re-routed tea ${TEA.code}`, [TEA]);
  await sys.waitForSkus([TEA.code]);
  await sys.receive(TEA.code, LOCATIONS.warehouse, 5);
  await sys.receive(TEA.code, LOCATIONS.storeB, 5);
}, 180_000);

afterAll(async () => {
  await sys?.stop();
}, 60_000);

async function orderWhere(orderId: string, what: string, ok: (order: Order) => boolean): Promise<Order> {
  let last: Order | undefined;
  return waitFor(
    async () => {
      last = (await sys.orders.getOrder({ orderId })).order;
      return last && ok(last) ? last : undefined;
    },
    { what: `order ${orderId} ${what}`, timeoutMs: 30_000, intervalMs: 150 },
  ).catch((error: Error) => {
    const seen = last ? `${OrderStatus[last.status]} ${last.groups.map((g) => GroupStatus[g.status]).join(',')}` : '';
    throw new Error(`${error.message}; last seen ${seen || 'nothing'}`);
  });
}

const settledIn = (wanted: OrderStatus) => (o: Order) => o.status === wanted && !o.settling;

async function fulfilment(orderId: string, groupId: string): Promise<Fulfilment> {
  return waitFor(async () => (await sys.delivery.getFulfilment({ fulfilmentId: '', orderId, groupId })).fulfilment, {
    what: `the fulfilment of ${orderId} ${groupId}`,
    timeoutMs: 30_000,
    intervalMs: 50,
  });
}

it('a warehouse that never accepts: re-routed to the store, which delivers; captured once, in full', async () => {
  const courierId = uniqueName('rider');
  await sys.delivery.registerCourier({
    courierId,
    name: 'Zhao Lei',
    phone: '+86 139 0000 0001',
    vehicle: Vehicle.VEHICLE_E_BIKE,
    capacity: 3,
  });
  await sys.delivery.setCourierAvailability({ courierId, available: true, point: NEAR_STORE_B });
  const request = homeDeliveryOrder({
    requestId: randomUUID(),
    customerId: uniqueName('cust'),
    lines: [{ skuCode: TEA.code, quantity: 2 }],
  });
  request.fulfilment!.delivery!.point = NEAR_WAREHOUSE;
  const { order: placed } = await sys.orders.placeOrder(request);
  expect(placed?.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  expect(placed?.groups.map((g) => [g.id, g.locationId])).toEqual([['g1', LOCATIONS.warehouse]]);
  const orderId = placed!.id;
  const first = await fulfilment(orderId, 'g1');
  expect(first.locationId).toBe(LOCATIONS.warehouse);

  // Nobody at the warehouse accepts. After the deadline delivery announces it, and orders re-routes the group.
  const rerouted = await waitFor(() => sys.orderEvents(orderId).find((e) => e.type === 'OrderRerouted'), {
    what: 'OrderRerouted',
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  expect(rerouted.payload).toMatchObject({ fromGroupId: 'g1', toGroupId: 'g2', reason: 'not accepted in time' });
  expect(rerouted.order?.groups.map((g) => [g.id, GroupStatus[g.status], g.locationId, g.amount])).toEqual([
    ['g1', 'GROUP_STATUS_REROUTED', LOCATIONS.warehouse, placed!.total],
    ['g2', 'GROUP_STATUS_CONFIRMED', LOCATIONS.storeB, placed!.total],
  ]);

  // Delivery moved the work: the store has the task (accepted at once, before its own deadline passes).
  const moved = await fulfilment(orderId, 'g2');
  expect(moved).toMatchObject({ locationId: LOCATIONS.storeB, items: [{ sku: TEA.code, quantity: 2 }] });
  const accepted = (
    await sys.delivery.acceptTask({ fulfilmentId: moved.id, locationId: LOCATIONS.storeB, associateId: 'b-1' })
  ).fulfilment!;
  expect(accepted.shipment?.offer?.courierId).toBe(courierId);
  const old = (await sys.delivery.getFulfilment({ fulfilmentId: first.id, orderId: '', groupId: '' })).fulfilment!;
  expect(old.task?.status).toBe(TaskStatus.TASK_STATUS_CANCELLED);
  // The warehouse is too late now.
  expect(
    await refusal(
      sys.delivery.acceptTask({ fulfilmentId: first.id, locationId: LOCATIONS.warehouse, associateId: '' }),
    ),
  ).toMatchObject({ code: status.FAILED_PRECONDITION });

  // Orders: g1 REROUTED, its hold released; g2 at the store with its own hold; nothing charged yet.
  const inFulfilment = await orderWhere(
    orderId,
    'in fulfilment at the store',
    settledIn(OrderStatus.ORDER_STATUS_IN_FULFILLMENT),
  );
  expect(inFulfilment.groups.map((g) => [g.id, GroupStatus[g.status], g.holdId])).toEqual([
    ['g1', 'GROUP_STATUS_REROUTED', `${orderId}.g1`],
    ['g2', 'GROUP_STATUS_IN_FULFILLMENT', `${orderId}.g2`],
  ]);
  expect(inFulfilment.payment).toMatchObject({ authorized: placed!.total, captured: { amountMinor: '0' } });
  const hold = async (id: string) => (await sys.inventory.getHold({ holdId: id })).hold;
  expect((await hold(`${orderId}.g1`))?.status).toBe(HoldStatus.HOLD_STATUS_RELEASED);
  const storeHold = await hold(`${orderId}.g2`);
  expect(storeHold?.status).toBe(HoldStatus.HOLD_STATUS_ACTIVE);
  expect(storeHold?.lines.map((l) => [l.skuCode, l.locationId, l.quantity])).toEqual([
    [TEA.code, LOCATIONS.storeB, '2'],
  ]);
  expect((await sys.stock(TEA.code, LOCATIONS.warehouse)).held).toBe('0');
  expect((await sys.stock(TEA.code, LOCATIONS.storeB)).held).toBe('2');
  const timeline = (await sys.orders.getOrderTimeline({ orderId })).entries.map((e) => e.cause);
  expect(timeline).toEqual(
    expect.arrayContaining([
      expect.stringMatching(new RegExp(`^delivery: task ${orderId}\\.g1 not accepted at ${LOCATIONS.warehouse}`)),
      `rerouted g1 from ${LOCATIONS.warehouse} to ${LOCATIONS.storeB}: not accepted in time`,
    ]),
  );

  // The store and the courier take it from there.
  const shipmentId = accepted.shipment!.id;
  await sys.delivery.acceptAssignment({ shipmentId, courierId });
  await sys.delivery.markPicked({ fulfilmentId: moved.id, locationId: LOCATIONS.storeB });
  await sys.delivery.markReady({ fulfilmentId: moved.id, locationId: LOCATIONS.storeB });
  await sys.delivery.confirmCollection({ shipmentId, courierId });
  await sys.delivery.startDelivery({ shipmentId, courierId });
  const shipped = await orderWhere(orderId, 'out for delivery', settledIn(OrderStatus.ORDER_STATUS_OUT_FOR_DELIVERY));
  expect(shipped.payment?.captured).toEqual(placed!.total);
  const { code } = await sys.delivery.getHandoverCode({ fulfilmentId: moved.id });
  const delivered = (await sys.delivery.confirmDelivery({ shipmentId, courierId, code })).fulfilment!;
  expect(delivered.shipment?.status).toBe(ShipmentStatus.SHIPMENT_STATUS_DELIVERED);

  const completed = await orderWhere(orderId, 'completed', settledIn(OrderStatus.ORDER_STATUS_COMPLETED));
  expect(completed.payment).toMatchObject({ captured: placed!.total, refunded: { amountMinor: '0' } });
  const { payments } = await sys.payments.listPayments({ orderId, page: undefined });
  expect(payments.map((p) => [PaymentStatus[p.status], p.capturedAmount?.amountMinor])).toEqual([
    ['PAYMENT_STATUS_CAPTURED', placed!.total!.amountMinor],
  ]);
  expect((await sys.stock(TEA.code, LOCATIONS.storeB)).onHand).toBe('3');
  expect((await sys.stock(TEA.code, LOCATIONS.warehouse)).onHand).toBe('5');
  // The store lists the order it fulfilled; the warehouse, which the group left, no longer does.
  const listed = async (storeId: string) =>
    (
      await sys.orders.listOrders({
        storeId,
        customerId: '',
        channel: 0,
        statuses: [],
        placedAfter: undefined,
        placedBefore: undefined,
        partnerId: '',
        page: { pageSize: 200, pageToken: '' },
      })
    ).orders.map((o) => o.id);
  expect(await listed(LOCATIONS.storeB)).toContain(orderId);
  expect(await listed(LOCATIONS.warehouse)).not.toContain(orderId);
  // The order is read COMPLETED as soon as it is stored; its events reach the topic when the relay has sent them.
  await waitFor(async () => sys.orderEvents(orderId).some((e) => e.type === 'OrderCompleted') || undefined, {
    what: `OrderCompleted of ${orderId} on the topic`,
    timeoutMs: 15_000,
  });
  const types = sys.orderEvents(orderId).map((e) => e.type);
  expect(
    types.filter((t) =>
      [
        'OrderConfirmed',
        'OrderRerouted',
        'OrderInFulfillment',
        'OrderShipped',
        'OrderDelivered',
        'OrderCompleted',
      ].includes(t),
    ),
  ).toEqual([
    'OrderConfirmed',
    'OrderRerouted',
    'OrderInFulfillment',
    'OrderShipped',
    'OrderDelivered',
    'OrderCompleted',
  ]);
  expect(completed.groups.map((g) => [g.id, GroupStatus[g.status]])).toEqual([
    ['g1', 'GROUP_STATUS_REROUTED'],
    ['g2', 'GROUP_STATUS_DELIVERED'],
  ]);
  expect(FulfilmentType[completed.fulfilment!.type]).toBe('FULFILMENT_TYPE_HOME_DELIVERY');
});
