// Delivery and orders together, every service its own process (catalogue, inventory, payments, orders, delivery)
// with the real Kafka and database: a home-delivery order goes CONFIRMED → ... → DELIVERED → COMPLETED with its
// payment captured by delivery's events alone, and a pick-up order reaches PICKED_UP only with the right code.
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { type Fulfilment, ShipmentStatus, TaskStatus, Vehicle } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { Channel, FulfilmentType, type Order, OrderStatus } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { PaymentStatus } from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { refusal, uniqueName, waitFor } from '@o2o/kit-testing';
import { homeDeliveryOrder } from '@o2o/kit-bench';
import { LOCATIONS, type SkuSpec, startSystem, type System } from '../../orders/test/system';

let sys: System;
const sku = (label: string): SkuSpec => ({ code: `${label}-${randomUUID().slice(0, 8)}`, online: 2500, store: 2300 });
const DELIVERED_TEA = sku('DLV');
const PICKUP_TEA = sku('PKP');
/** The warehouse (31.21, 121.49) and a courier 300 m north of it. */
const NEAR_WAREHOUSE = { latitude: 31.21 + 300 / 111_320, longitude: 121.49 };

beforeAll(async () => {
  sys = await startSystem({ only: ['catalogue', 'inventory', 'payments', 'orders', 'delivery'] });
  await sys.createLocations();
  await sys.createProduct(`Delivered tea ${DELIVERED_TEA.code}`, [DELIVERED_TEA]);
  await sys.createProduct(`Pick-up tea ${PICKUP_TEA.code}`, [PICKUP_TEA]);
  await sys.waitForSkus([DELIVERED_TEA.code, PICKUP_TEA.code]);
  await sys.receive(DELIVERED_TEA.code, LOCATIONS.warehouse, 5);
  await sys.receive(PICKUP_TEA.code, LOCATIONS.storeA, 5);
}, 180_000);

afterAll(async () => {
  await sys?.stop();
}, 60_000);

async function orderIn(orderId: string, wanted: OrderStatus): Promise<Order> {
  let last: Order | undefined;
  return waitFor(
    async () => {
      last = (await sys.orders.getOrder({ orderId })).order;
      return last?.status === wanted && !last.settling ? last : undefined;
    },
    { what: `order ${orderId} ${OrderStatus[wanted]}`, timeoutMs: 20_000, intervalMs: 150 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last seen ${last ? OrderStatus[last.status] : 'nothing'}`);
  });
}

async function fulfilmentOf(order: Order): Promise<Fulfilment> {
  return waitFor(
    async () =>
      (await sys.delivery.getFulfilment({ fulfilmentId: '', orderId: order.id, groupId: order.groups[0]!.id }))
        .fulfilment,
    { what: `the fulfilment of ${order.id}`, timeoutMs: 20_000 },
  );
}

it('home delivery: CONFIRMED → IN_FULFILLMENT → OUT_FOR_DELIVERY → delivered → COMPLETED, captured at dispatch', async () => {
  const courierId = uniqueName('rider');
  await sys.delivery.registerCourier({
    courierId,
    name: 'Wang Fang',
    phone: '+86 139 0000 0000',
    vehicle: Vehicle.VEHICLE_E_BIKE,
    capacity: 3,
  });
  await sys.delivery.setCourierAvailability({ courierId, available: true, point: NEAR_WAREHOUSE });
  const { order: placed } = await sys.orders.placeOrder(
    homeDeliveryOrder({
      requestId: randomUUID(),
      customerId: uniqueName('cust'),
      lines: [{ skuCode: DELIVERED_TEA.code, quantity: 2 }],
    }),
  );
  expect(placed?.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  const f = await fulfilmentOf(placed!);
  expect(f).toMatchObject({ locationId: LOCATIONS.warehouse, items: [{ sku: DELIVERED_TEA.code, quantity: 2 }] });

  const accepted = (
    await sys.delivery.acceptTask({ fulfilmentId: f.id, locationId: f.locationId, associateId: 'wh-1' })
  ).fulfilment!;
  await orderIn(placed!.id, OrderStatus.ORDER_STATUS_IN_FULFILLMENT);
  const shipmentId = accepted.shipment!.id;
  expect(accepted.shipment?.offer?.courierId).toBe(courierId);
  await sys.delivery.acceptAssignment({ shipmentId, courierId });
  await sys.delivery.markPicked({ fulfilmentId: f.id, locationId: f.locationId });
  await sys.delivery.markReady({ fulfilmentId: f.id, locationId: f.locationId });
  await sys.delivery.confirmCollection({ shipmentId, courierId });
  await sys.delivery.startDelivery({ shipmentId, courierId });

  const shipped = await orderIn(placed!.id, OrderStatus.ORDER_STATUS_OUT_FOR_DELIVERY);
  expect(shipped.payment?.captured?.amountMinor).toBe(placed!.total?.amountMinor);

  const { code } = await sys.delivery.getHandoverCode({ fulfilmentId: f.id });
  const delivered = (await sys.delivery.confirmDelivery({ shipmentId, courierId, code })).fulfilment!;
  expect(delivered.shipment?.status).toBe(ShipmentStatus.SHIPMENT_STATUS_DELIVERED);
  const completed = await orderIn(placed!.id, OrderStatus.ORDER_STATUS_COMPLETED);
  expect(completed.payment).toMatchObject({ captured: placed!.total, refunded: { amountMinor: '0' } });
  const { payments } = await sys.payments.listPayments({ orderId: placed!.id, page: undefined });
  expect(payments.map((p) => p.status)).toEqual([PaymentStatus.PAYMENT_STATUS_CAPTURED]);
  const timeline = (await sys.orders.getOrderTimeline({ orderId: placed!.id })).entries;
  const statuses = [...new Set(timeline.map((e) => OrderStatus[e.status]))];
  expect(statuses).toEqual(
    expect.arrayContaining([
      'ORDER_STATUS_CONFIRMED',
      'ORDER_STATUS_IN_FULFILLMENT',
      'ORDER_STATUS_OUT_FOR_DELIVERY',
      'ORDER_STATUS_COMPLETED',
    ]),
  );
  // The delivery steps on the order's timeline came from delivery's events.
  expect(timeline.map((e) => e.cause).filter((c) => c.startsWith('delivery:'))).toEqual(
    expect.arrayContaining([expect.stringMatching(/out for delivery/), expect.stringMatching(/delivered/)]),
  );
  // The order's own events tell partners the same story, in order.
  const types = await waitFor(() => {
    const list = sys.orderEvents(placed!.id).map((e) => e.type);
    return list.includes('OrderCompleted') ? list : undefined;
  });
  expect(
    types.filter((t) =>
      ['OrderConfirmed', 'OrderInFulfillment', 'OrderShipped', 'OrderDelivered', 'OrderCompleted'].includes(t),
    ),
  ).toEqual(['OrderConfirmed', 'OrderInFulfillment', 'OrderShipped', 'OrderDelivered', 'OrderCompleted']);
  expect((await sys.delivery.getCourier({ courierId })).courier?.shipmentIds).toEqual([]);
});

it('pick-up: READY_FOR_PICKUP, a wrong code refused with nothing changed, the right code → PICKED_UP → COMPLETED', async () => {
  const { order: placed } = await sys.orders.placeOrder(
    homeDeliveryOrder(
      { requestId: randomUUID(), customerId: uniqueName('cust'), lines: [{ skuCode: PICKUP_TEA.code, quantity: 1 }] },
      {
        channel: Channel.CHANNEL_APP,
        fulfilment: {
          type: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
          delivery: undefined,
          pickupLocationId: LOCATIONS.storeA,
        },
      },
    ),
  );
  expect(placed?.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  const f = await fulfilmentOf(placed!);
  await sys.delivery.acceptTask({ fulfilmentId: f.id, locationId: LOCATIONS.storeA, associateId: 'a-1' });
  await sys.delivery.markReady({ fulfilmentId: f.id, locationId: LOCATIONS.storeA });
  const ready = await orderIn(placed!.id, OrderStatus.ORDER_STATUS_READY_FOR_PICKUP);
  expect(ready.payment?.captured?.amountMinor ?? '0').toBe('0');

  const { code } = await sys.delivery.getHandoverCode({ fulfilmentId: f.id });
  const wrong = code === '000000' ? '000001' : '000000';
  expect(
    await refusal(
      sys.delivery.verifyPickup({
        locationId: LOCATIONS.storeA,
        fulfilmentId: f.id,
        code: wrong,
        qrPayload: '',
        associateId: '',
      }),
    ),
  ).toMatchObject({ code: status.PERMISSION_DENIED });
  await new Promise((r) => setTimeout(r, 1000));
  const unchanged = (await sys.orders.getOrder({ orderId: placed!.id })).order!;
  expect(unchanged.status).toBe(OrderStatus.ORDER_STATUS_READY_FOR_PICKUP);
  expect(unchanged.version).toBe(ready.version);
  expect(
    (await sys.delivery.getFulfilment({ fulfilmentId: f.id, orderId: '', groupId: '' })).fulfilment?.task?.status,
  ).toBe(TaskStatus.TASK_STATUS_READY);

  await sys.delivery.verifyPickup({
    locationId: LOCATIONS.storeA,
    fulfilmentId: f.id,
    code,
    qrPayload: '',
    associateId: 'a-2',
  });
  const completed = await orderIn(placed!.id, OrderStatus.ORDER_STATUS_COMPLETED);
  expect(completed.payment?.captured).toEqual(placed!.total);
  const timeline = (await sys.orders.getOrderTimeline({ orderId: placed!.id })).entries.map(
    (e) => OrderStatus[e.status],
  );
  expect(timeline).toContain('ORDER_STATUS_PICKED_UP');
});
