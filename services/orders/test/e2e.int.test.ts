// End to end: catalogue, inventory, payments and orders run as their own processes (services/<name>/dist/bin.js)
// against the real Kafka and database. Each scenario places orders through the orders API and checks the outcome
// where it lives: the order (GetOrder), the holds and stock (inventory), the money (payments), and the order's events
// on the orders topic. Delivery events are published on the delivery topic as the delivery service will publish them.
// Every scenario has its own SKUs and customers, so scenarios never see each other's stock or orders.
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { TaskStage } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { HoldStatus } from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import {
  Channel,
  FulfilmentType,
  GroupStatus,
  type Order,
  OrderStatus,
  PaymentMethod,
  PlaceOrderRequest,
  ReturnStatus,
  WalletChannel,
} from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { type Payment, PaymentMethod as PayMethod, PaymentStatus } from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { decodeFieldViolations } from '@o2o/kit-grpc';
import { refusal, uniqueName, waitFor } from '@o2o/kit-testing';
import { homeDeliveryOrder } from '@o2o/kit-bench';
import { LOCATIONS, type OrderEventType, type SkuSpec, startSystem, type System } from './system';

const DECLINED_CARD = '4000000000009995';
const { warehouse: WH, storeA: STORE_A, storeB: STORE_B } = LOCATIONS;

let sys: System;

/** Every SKU of the file, with its prices (CNY fen) and where its stock is. */
const sku = (label: string, online: number, store: number): SkuSpec => ({
  code: `${label}-${randomUUID().slice(0, 8)}`,
  online,
  store,
});
const S = {
  homeA: sku('HOME-A', 3900, 4200),
  homeB: sku('HOME-B', 1250, 1300),
  pickup: sku('PICKUP', 8800, 9000),
  uncollected: sku('UNCOLLECTED', 6400, 6600),
  pos: sku('POS', 5000, 4500),
  kiosk: sku('KIOSK', 2600, 2800),
  market: sku('MARKET', 15900, 16900),
  scarce: sku('SCARCE', 990, 1090),
  declined: sku('DECLINED', 4400, 4600),
  walletUnpaid: sku('WALLET-UNPAID', 6600, 6800),
  walletPaid: sku('WALLET-PAID', 7700, 7900),
  cancel: sku('CANCEL', 3300, 3500),
  dispatched: sku('DISPATCHED', 2100, 2300),
  returned: sku('RETURNED', 5500, 5800),
  input: sku('INPUT', 1000, 1100),
  restart: sku('RESTART', 1800, 1900),
};
const STOCK: [SkuSpec, string, number][] = [
  [S.homeA, WH, 5],
  [S.homeB, STORE_B, 3],
  [S.pickup, STORE_A, 4],
  [S.pickup, WH, 10],
  [S.uncollected, STORE_A, 3],
  [S.pos, STORE_A, 6],
  [S.kiosk, WH, 5],
  [S.market, WH, 10],
  [S.scarce, WH, 1],
  [S.declined, WH, 5],
  [S.walletUnpaid, WH, 5],
  [S.walletPaid, WH, 5],
  [S.cancel, WH, 5],
  [S.dispatched, WH, 5],
  [S.returned, WH, 5],
  [S.input, WH, 5],
  [S.restart, WH, 5],
];

beforeAll(async () => {
  sys = await startSystem();
  await sys.createLocations();
  const all = Object.values(S);
  await Promise.all(all.map((s, i) => sys.createProduct(`Tea ${i} ${s.code}`, [s])));
  await sys.waitForSkus(all.map((s) => s.code));
  for (const [s, location, quantity] of STOCK) await sys.receive(s.code, location, quantity);
}, 180_000);

afterAll(async () => {
  await sys?.stop();
}, 60_000);

// ---- helpers ----

const cny = (minor: number) => ({ currencyCode: 'CNY', amountMinor: String(minor) });

/** A WEB order for home delivery near People's Square, paid by an approved card; `overrides` replace whole fields. */
function webOrder(lines: [SkuSpec, number][], overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return homeDeliveryOrder(
    {
      requestId: randomUUID(),
      customerId: uniqueName('cust'),
      lines: lines.map(([s, quantity]) => ({ skuCode: s.code, quantity })),
    },
    overrides,
  );
}

async function place(request: PlaceOrderRequest): Promise<Order> {
  const { order } = await sys.orders.placeOrder(request);
  expect(order).toBeDefined();
  return order!;
}

async function getOrder(orderId: string): Promise<Order> {
  return (await sys.orders.getOrder({ orderId })).order!;
}

/** Waits until the order has this status and no stock or payment operation of it is still being carried out. */
async function settled(orderId: string, wanted: OrderStatus, timeoutMs = 20_000): Promise<Order> {
  let last: Order | undefined;
  try {
    return await waitFor(
      async () => {
        last = await getOrder(orderId);
        return last.status === wanted && !last.settling ? last : undefined;
      },
      { what: `order ${orderId} ${OrderStatus[wanted]} and settled`, timeoutMs, intervalMs: 150 },
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; last seen: ${last ? `${OrderStatus[last.status]} settling=${last.settling} reason="${last.statusReason}"` : 'nothing'}`,
    );
  }
}

async function holdOf(holdId: string) {
  return (await sys.inventory.getHold({ holdId })).hold!;
}

async function paymentsOf(orderId: string): Promise<Payment[]> {
  return (await sys.payments.listPayments({ orderId, page: undefined })).payments;
}

/** Network availability of a SKU and its row at one location. */
async function availability(s: SkuSpec, locationId: string) {
  const { skus } = await sys.inventory.getAvailability({ skuCodes: [s.code], locationIds: [] });
  const row = skus[0]?.locations.find((l) => l.locationId === locationId);
  return { network: skus[0]?.networkAvailable, onHand: row?.onHand, held: row?.held, available: row?.available };
}

const ref = (order: Order, groupId: string) => ({
  orderId: order.id,
  groupId,
  locationId: order.groups.find((g) => g.id === groupId)!.locationId,
});

/** The delivery service's events for one delivery group: accepted, out for delivery, delivered. */
async function deliverGroup(order: Order, groupId: string): Promise<void> {
  const shipmentId = `shp-${randomUUID().slice(0, 8)}`;
  await sys.publishDelivery(order.id, 'TaskAccepted', {
    ref: ref(order, groupId),
    taskId: `task-${randomUUID().slice(0, 8)}`,
    time: new Date(),
  });
  await sys.publishDelivery(order.id, 'OutForDelivery', {
    ref: ref(order, groupId),
    shipmentId,
    courierId: 'courier-7',
    time: new Date(),
  });
  await sys.publishDelivery(order.id, 'Delivered', { ref: ref(order, groupId), shipmentId, time: new Date() });
}

/** A confirmed WEB home-delivery order taken all the way to COMPLETED by delivery events. */
async function completedHomeDelivery(lines: [SkuSpec, number][]): Promise<Order> {
  const placed = await place(webOrder(lines));
  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  for (const g of placed.groups) await deliverGroup(placed, g.id);
  return settled(placed.id, OrderStatus.ORDER_STATUS_COMPLETED);
}

/** True when `expected` occurs in `actual` in this order (other events may come in between). */
function inOrder(actual: string[], expected: string[]): boolean {
  let i = 0;
  for (const t of actual) if (t === expected[i]) i++;
  return i === expected.length;
}

/** Waits until the order's events on the orders topic contain `expected` in order; checks every event's envelope. */
async function expectEvents(order: Order, expected: OrderEventType[]): Promise<string[]> {
  const types = await waitFor(
    () => {
      const t = sys.orderEvents(order.id).map((e) => e.type);
      return inOrder(t, expected) ? t : undefined;
    },
    { what: `events ${expected.join(', ')} of order ${order.id}`, timeoutMs: 15_000, intervalMs: 150 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; got ${JSON.stringify(sys.orderEvents(order.id).map((e) => e.type))}`);
  });
  for (const e of sys.orderEvents(order.id)) {
    expect(e.key).toBe(order.id);
    expect(e.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_type: `o2o.orders.v1.${e.type}`,
      ce_source: '/o2o/orders',
      ce_subject: order.id,
      'content-type': 'application/protobuf',
    });
    expect(e.order?.id).toBe(order.id);
  }
  return types;
}

const count = (types: string[], type: OrderEventType) => types.filter((t) => t === type).length;

// ---- scenarios ----

it('online home delivery: confirmed with stock held and payment authorised; delivered, it completes and captures', async () => {
  const placed = await place(
    webOrder([
      [S.homeA, 2],
      [S.homeB, 1],
    ]),
  );
  const total = 2 * S.homeA.online + S.homeB.online;

  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  expect(placed.channel).toBe(Channel.CHANNEL_WEB);
  expect(placed.lines).toEqual([
    expect.objectContaining({ skuCode: S.homeA.code, quantity: '2', unitPrice: cny(S.homeA.online) }),
    expect.objectContaining({ skuCode: S.homeB.code, quantity: '1', unitPrice: cny(S.homeB.online) }),
  ]);
  expect(placed.lines[0]!.lineTotal).toEqual(cny(2 * S.homeA.online));
  expect(placed.total).toEqual(cny(total));
  // No location has both SKUs: one group from the warehouse, one from store B.
  const byLocation = new Map(placed.groups.map((g) => [g.locationId, g]));
  expect(placed.groups).toHaveLength(2);
  expect(byLocation.get(WH)?.items).toEqual([{ skuCode: S.homeA.code, quantity: '2' }]);
  expect(byLocation.get(STORE_B)?.items).toEqual([{ skuCode: S.homeB.code, quantity: '1' }]);
  for (const g of placed.groups) {
    expect(g.type).toBe(FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY);
    expect(g.status).toBe(GroupStatus.GROUP_STATUS_CONFIRMED);
    expect(g.holdId).not.toBe('');
  }
  expect(placed.payment).toMatchObject({
    method: PaymentMethod.PAYMENT_METHOD_CARD,
    authorized: cny(total),
    cardLast4: '4242',
  });
  expect(placed.payment?.paymentId).not.toBe('');

  // Inventory holds each group's units for the order; payments holds the money.
  for (const g of placed.groups) {
    const hold = await holdOf(g.holdId);
    expect(hold.status).toBe(HoldStatus.HOLD_STATUS_ACTIVE);
    expect(hold.ownerId).toBe(placed.id);
    expect(hold.lines.map((l) => [l.skuCode, l.locationId, l.quantity])).toEqual(
      g.items.map((i) => [i.skuCode, g.locationId, i.quantity]),
    );
  }
  expect(await availability(S.homeA, WH)).toMatchObject({ onHand: '5', held: '2', available: '3' });
  expect(await availability(S.homeB, STORE_B)).toMatchObject({ onHand: '3', held: '1', available: '2' });
  const [authorised, ...others] = await paymentsOf(placed.id);
  expect(others).toEqual([]);
  expect(authorised).toMatchObject({
    id: placed.payment!.paymentId,
    status: PaymentStatus.PAYMENT_STATUS_AUTHORIZED,
    amount: cny(total),
    authorizedAmount: cny(total),
  });

  for (const g of placed.groups) await deliverGroup(placed, g.id);
  const done = await settled(placed.id, OrderStatus.ORDER_STATUS_COMPLETED);

  expect(done.groups.map((g) => g.status)).toEqual([
    GroupStatus.GROUP_STATUS_DELIVERED,
    GroupStatus.GROUP_STATUS_DELIVERED,
  ]);
  expect(done.payment?.captured).toEqual(cny(total));
  const captured = (await sys.payments.getPayment({ paymentId: placed.payment!.paymentId })).payment!;
  expect(captured.status).toBe(PaymentStatus.PAYMENT_STATUS_CAPTURED);
  expect(captured.capturedAmount).toEqual(cny(total));
  for (const g of placed.groups) expect((await holdOf(g.holdId)).status).toBe(HoldStatus.HOLD_STATUS_COMMITTED);
  expect(await availability(S.homeA, WH)).toMatchObject({ onHand: '3', held: '0', available: '3' });
  expect(await availability(S.homeB, STORE_B)).toMatchObject({ onHand: '2', held: '0', available: '2' });

  const types = await expectEvents(placed, [
    'OrderPlaced',
    'OrderConfirmed',
    'OrderInFulfillment',
    'OrderShipped',
    'OrderDelivered',
    'OrderCompleted',
  ]);
  expect(count(types, 'OrderShipped')).toBe(2);
  expect(count(types, 'OrderDelivered')).toBe(2);
  expect(count(types, 'OrderCompleted')).toBe(1);
  expect(count(types, 'OrderConfirmed')).toBe(1);
  const completed = sys.orderEvents(placed.id).find((e) => e.type === 'OrderCompleted');
  expect(completed?.order?.status).toBe(OrderStatus.ORDER_STATUS_COMPLETED);
  const timeline = (await sys.orders.getOrderTimeline({ orderId: placed.id })).entries;
  expect(timeline.at(-1)?.status).toBe(OrderStatus.ORDER_STATUS_COMPLETED);
});

it('pick-up in store: one STORE_PICKUP group at the chosen store; ready, then picked up, it completes', async () => {
  const placed = await place(
    webOrder([[S.pickup, 1]], {
      channel: Channel.CHANNEL_APP,
      fulfilment: {
        type: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
        delivery: undefined,
        pickupLocationId: STORE_A,
      },
    }),
  );
  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  expect(placed.channel).toBe(Channel.CHANNEL_APP);
  expect(placed.groups).toHaveLength(1);
  const group = placed.groups[0]!;
  expect(group).toMatchObject({
    type: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
    locationId: STORE_A,
    items: [{ skuCode: S.pickup.code, quantity: '1' }],
    status: GroupStatus.GROUP_STATUS_CONFIRMED,
  });
  expect((await holdOf(group.holdId)).status).toBe(HoldStatus.HOLD_STATUS_ACTIVE);
  expect(await availability(S.pickup, STORE_A)).toMatchObject({ onHand: '4', held: '1' });
  expect(await availability(S.pickup, WH)).toMatchObject({ onHand: '10', held: '0' });

  await sys.publishDelivery(placed.id, 'TaskAccepted', {
    ref: ref(placed, group.id),
    taskId: 'task-p',
    time: new Date(),
  });
  await sys.publishDelivery(placed.id, 'ReadyForPickup', { ref: ref(placed, group.id), time: new Date() });
  const ready = await settled(placed.id, OrderStatus.ORDER_STATUS_READY_FOR_PICKUP);
  expect(ready.groups[0]?.status).toBe(GroupStatus.GROUP_STATUS_READY_FOR_PICKUP);

  await sys.publishDelivery(placed.id, 'PickedUp', { ref: ref(placed, group.id), shipmentId: '', time: new Date() });
  const done = await settled(placed.id, OrderStatus.ORDER_STATUS_COMPLETED);
  expect(done.groups[0]?.status).toBe(GroupStatus.GROUP_STATUS_PICKED_UP);
  expect(done.payment?.captured).toEqual(cny(S.pickup.online));
  const [payment, ...others] = await paymentsOf(placed.id);
  expect(others).toEqual([]);
  expect(payment).toMatchObject({
    status: PaymentStatus.PAYMENT_STATUS_CAPTURED,
    capturedAmount: cny(S.pickup.online),
  });
  expect((await holdOf(group.holdId)).status).toBe(HoldStatus.HOLD_STATUS_COMMITTED);
  expect(await availability(S.pickup, STORE_A)).toMatchObject({ onHand: '3', held: '0' });

  await expectEvents(placed, [
    'OrderPlaced',
    'OrderConfirmed',
    'OrderReadyForPickup',
    'OrderPickedUp',
    'OrderCompleted',
  ]);
});

it('pick-up not collected: an overdue accept is noted; expired, the order is cancelled, stock back, payment voided', async () => {
  const placed = await place(
    webOrder([[S.uncollected, 1]], {
      channel: Channel.CHANNEL_APP,
      fulfilment: { type: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP, delivery: undefined, pickupLocationId: STORE_A },
    }),
  );
  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  const group = placed.groups[0]!;
  expect(await availability(S.uncollected, STORE_A)).toMatchObject({ onHand: '3', held: '1' });

  const taskId = `task-${randomUUID().slice(0, 8)}`;
  const deadline = new Date(Date.now() - 60_000);
  await sys.publishDelivery(placed.id, 'TaskOverdue', {
    ref: ref(placed, group.id),
    taskId,
    deadline,
    stage: TaskStage.TASK_STAGE_ACCEPT,
  });
  await sys.publishDelivery(placed.id, 'TaskAccepted', { ref: ref(placed, group.id), taskId, time: new Date() });
  await sys.publishDelivery(placed.id, 'ReadyForPickup', { ref: ref(placed, group.id), time: new Date() });
  await settled(placed.id, OrderStatus.ORDER_STATUS_READY_FOR_PICKUP);
  await sys.publishDelivery(placed.id, 'PickupExpired', { ref: ref(placed, group.id), time: new Date() });

  const order = await settled(placed.id, OrderStatus.ORDER_STATUS_CANCELLED);
  expect(order.statusReason).toBe('pick-up not collected');
  expect(order.groups[0]?.status).toBe(GroupStatus.GROUP_STATUS_CANCELLED);
  expect((await holdOf(group.holdId)).status).toBe(HoldStatus.HOLD_STATUS_RELEASED);
  expect(await availability(S.uncollected, STORE_A)).toMatchObject({ onHand: '3', held: '0', available: '3' });
  const [payment, ...others] = await paymentsOf(placed.id);
  expect(others).toEqual([]);
  expect(payment).toMatchObject({
    status: PaymentStatus.PAYMENT_STATUS_VOIDED,
    voidedAmount: cny(S.uncollected.online),
  });
  expect(payment?.capturedAmount?.amountMinor ?? '0').toBe('0');

  const causes = (await sys.orders.getOrderTimeline({ orderId: placed.id })).entries.map((e) => e.cause);
  expect(causes).toContain(`delivery: task ${taskId} not accepted at ${STORE_A} by ${deadline.toISOString()}`);
  expect(causes).toContain('delivery: pick-up expired (not collected)');
  const types = await expectEvents(placed, ['OrderPlaced', 'OrderConfirmed', 'OrderReadyForPickup', 'OrderCancelled']);
  expect(count(types, 'OrderCancelled')).toBe(1);
  const cancelled = sys.orderEvents(placed.id).find((e) => e.type === 'OrderCancelled');
  expect(cancelled).toMatchObject({ reason: 'pick-up not collected' });
  expect(cancelled?.order?.status).toBe(OrderStatus.ORDER_STATUS_CANCELLED);
});

it('POS carry-out: completed at once at the STORE price, stock down at the store, cash captured', async () => {
  const request = PlaceOrderRequest.fromPartial({
    requestId: randomUUID(),
    channel: Channel.CHANNEL_STORE_POS,
    storeId: STORE_A,
    associateId: 'assoc-0042',
    lines: [{ skuCode: S.pos.code, quantity: '2' }],
    currency: 'CNY',
    fulfilment: { type: FulfilmentType.FULFILMENT_TYPE_IN_STORE_CARRY_OUT },
    payment: { method: PaymentMethod.PAYMENT_METHOD_CASH },
  });
  const placed = await place(request);
  const total = 2 * S.pos.store;

  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_COMPLETED);
  expect(placed).toMatchObject({ channel: Channel.CHANNEL_STORE_POS, customerId: '', storeId: STORE_A });
  expect(placed.associateId).toBe('assoc-0042');
  expect(placed.lines[0]?.unitPrice).toEqual(cny(S.pos.store));
  expect(placed.total).toEqual(cny(total));
  expect(placed.groups).toHaveLength(1);
  expect(placed.groups[0]).toMatchObject({
    type: FulfilmentType.FULFILMENT_TYPE_IN_STORE_CARRY_OUT,
    locationId: STORE_A,
    status: GroupStatus.GROUP_STATUS_HANDED_OVER,
  });
  expect(placed.payment).toMatchObject({ method: PaymentMethod.PAYMENT_METHOD_CASH, captured: cny(total) });

  const done = await settled(placed.id, OrderStatus.ORDER_STATUS_COMPLETED);
  expect(done.total).toEqual(cny(total));
  expect(await availability(S.pos, STORE_A)).toMatchObject({ onHand: '4', held: '0', available: '4' });
  const [payment, ...others] = await paymentsOf(placed.id);
  expect(others).toEqual([]);
  expect(payment).toMatchObject({
    method: PayMethod.PAYMENT_METHOD_CASH,
    status: PaymentStatus.PAYMENT_STATUS_CAPTURED,
    capturedAmount: cny(total),
  });
  await expectEvents(placed, ['OrderPlaced', 'OrderCompleted']);
});

it('kiosk endless aisle: sold in store A without stock there, fulfilled from another location', async () => {
  expect(await availability(S.kiosk, STORE_A)).toMatchObject({ onHand: undefined });
  const placed = await place(
    webOrder([[S.kiosk, 1]], { channel: Channel.CHANNEL_STORE_KIOSK, storeId: STORE_A, associateId: 'assoc-0077' }),
  );
  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  expect(placed.endlessAisle).toBe(true);
  expect(placed.storeId).toBe(STORE_A);
  expect(placed.channel).toBe(Channel.CHANNEL_STORE_KIOSK);
  expect(placed.groups).toHaveLength(1);
  expect(placed.groups[0]?.locationId).toBe(WH);
  expect(placed.groups[0]?.type).toBe(FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY);
  expect((await holdOf(placed.groups[0]!.holdId)).status).toBe(HoldStatus.HOLD_STATUS_ACTIVE);
  expect(await availability(S.kiosk, WH)).toMatchObject({ held: '1', available: '4' });
  const [payment, ...others] = await paymentsOf(placed.id);
  expect(others).toEqual([]);
  expect(payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_AUTHORIZED);
  expect(payment?.amount).toEqual(placed.total);
  const stored = await getOrder(placed.id);
  expect(stored).toMatchObject({ endlessAisle: true, storeId: STORE_A });
  await expectEvents(placed, ['OrderPlaced', 'OrderConfirmed']);
});

it('marketplace: the same partner order sent several times (also at once, other request ids) is one order', async () => {
  const customerId = uniqueName('mkt');
  const externalOrderId = uniqueName('TM');
  const request = () =>
    webOrder([[S.market, 2]], {
      channel: Channel.CHANNEL_MARKETPLACE,
      customerId,
      marketplace: { partnerId: 'tmall', externalOrderId },
    });
  const concurrent = await Promise.all(Array.from({ length: 4 }, () => place(request())));
  const ids = new Set(concurrent.map((o) => o.id));
  expect(ids.size).toBe(1);
  const again = await place(request());
  expect(again.id).toBe(concurrent[0]!.id);

  const order = await settled(again.id, OrderStatus.ORDER_STATUS_CONFIRMED);
  expect(order.marketplace).toEqual({ partnerId: 'tmall', externalOrderId });
  expect(order.channel).toBe(Channel.CHANNEL_MARKETPLACE);
  const { orders } = await sys.orders.listOrders({
    page: undefined,
    customerId,
    storeId: '',
    channel: Channel.CHANNEL_UNSPECIFIED,
    statuses: [],
    placedAfter: undefined,
    placedBefore: undefined,
    partnerId: '',
  });
  expect(orders.map((o) => o.id)).toEqual([order.id]);
  // One hold of two units, one payment.
  expect(await availability(S.market, WH)).toMatchObject({ onHand: '10', held: '2', available: '8' });
  expect(order.groups).toHaveLength(1);
  expect((await holdOf(order.groups[0]!.holdId)).status).toBe(HoldStatus.HOLD_STATUS_ACTIVE);
  const payments = await paymentsOf(order.id);
  expect(payments).toHaveLength(1);
  expect(payments[0]?.status).toBe(PaymentStatus.PAYMENT_STATUS_AUTHORIZED);
  const types = await expectEvents(order, ['OrderPlaced', 'OrderConfirmed']);
  expect(count(types, 'OrderPlaced')).toBe(1);
  expect(count(types, 'OrderConfirmed')).toBe(1);
});

it('out of stock: rejected with a reason, nothing held, no payment', async () => {
  const before = await availability(S.scarce, WH);
  const paymentsBefore = await sys.paymentCount();
  const placed = await place(webOrder([[S.scarce, 3]]));

  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_REJECTED);
  expect(placed.statusReason).not.toBe('');
  const order = await settled(placed.id, OrderStatus.ORDER_STATUS_REJECTED);
  expect(order.groups.every((g) => g.status === GroupStatus.GROUP_STATUS_CANCELLED || g.holdId === '')).toBe(true);
  expect(await availability(S.scarce, WH)).toEqual(before);
  expect(before).toMatchObject({ onHand: '1', held: '0' });
  expect(await paymentsOf(placed.id)).toEqual([]);
  expect(await sys.paymentCount()).toBe(paymentsBefore);
  const types = await expectEvents(placed, ['OrderPlaced', 'OrderRejected']);
  expect(types).not.toContain('OrderConfirmed');
  expect(sys.orderEvents(placed.id).find((e) => e.type === 'OrderRejected')?.reason).not.toBe('');
});

it('card declined: rejected, the hold released, the payment declined', async () => {
  const placed = await place(
    webOrder([[S.declined, 2]], {
      payment: {
        method: PaymentMethod.PAYMENT_METHOD_CARD,
        card: { number: DECLINED_CARD },
        walletChannel: WalletChannel.WALLET_CHANNEL_UNSPECIFIED,
        terminalId: '',
      },
    }),
  );
  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_REJECTED);
  expect(placed.statusReason).not.toBe('');
  const order = await settled(placed.id, OrderStatus.ORDER_STATUS_REJECTED);
  expect(order.groups).toHaveLength(1);
  expect(order.groups[0]?.holdId).not.toBe('');
  expect(order.groups[0]?.status).toBe(GroupStatus.GROUP_STATUS_CANCELLED);
  expect((await holdOf(order.groups[0]!.holdId)).status).toBe(HoldStatus.HOLD_STATUS_RELEASED);
  expect(await availability(S.declined, WH)).toMatchObject({ onHand: '5', held: '0', available: '5' });
  const [payment, ...others] = await paymentsOf(placed.id);
  expect(others).toEqual([]);
  expect(payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_DECLINED);
  const types = await expectEvents(placed, ['OrderPlaced', 'OrderRejected']);
  expect(types).not.toContain('OrderConfirmed');
});

it('wallet unpaid: awaiting payment with a QR; after the QR deadline cancelled, hold released, payment expired', async () => {
  const placed = await place(
    webOrder([[S.walletUnpaid, 1]], {
      payment: {
        method: PaymentMethod.PAYMENT_METHOD_WALLET_QR,
        card: undefined,
        walletChannel: WalletChannel.WALLET_CHANNEL_ALIPAY,
        terminalId: '',
      },
    }),
  );
  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_AWAITING_PAYMENT);
  expect(placed.payment?.walletQrPayload).not.toBe('');
  expect(placed.payment?.walletChannel).toBe(WalletChannel.WALLET_CHANNEL_ALIPAY);
  expect(placed.payment?.payBy?.getTime()).toBeGreaterThan(Date.now());
  const holdId = placed.groups[0]!.holdId;
  expect((await holdOf(holdId)).status).toBe(HoldStatus.HOLD_STATUS_ACTIVE);
  expect(await availability(S.walletUnpaid, WH)).toMatchObject({ held: '1', available: '4' });
  const paymentId = placed.payment!.paymentId;
  expect((await sys.payments.getPayment({ paymentId })).payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_PENDING);
  expect((await sys.wallet.get(paymentId)).state).toBe('pending');

  await sys.wallet.letExpire(paymentId);
  const order = await settled(placed.id, OrderStatus.ORDER_STATUS_CANCELLED);
  expect(order.statusReason).not.toBe('');
  expect((await holdOf(holdId)).status).toBe(HoldStatus.HOLD_STATUS_RELEASED);
  expect(await availability(S.walletUnpaid, WH)).toMatchObject({ onHand: '5', held: '0', available: '5' });
  const [payment, ...others] = await paymentsOf(placed.id);
  expect(others).toEqual([]);
  expect(payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_EXPIRED);
  const types = await expectEvents(placed, ['OrderPlaced', 'OrderAwaitingPayment', 'OrderCancelled']);
  expect(types).not.toContain('OrderConfirmed');
});

it('wallet paid: awaiting payment, then confirmed once the customer pays the QR', async () => {
  const placed = await place(
    webOrder([[S.walletPaid, 1]], {
      payment: {
        method: PaymentMethod.PAYMENT_METHOD_WALLET_QR,
        card: undefined,
        walletChannel: WalletChannel.WALLET_CHANNEL_WECHAT_PAY,
        terminalId: '',
      },
    }),
  );
  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_AWAITING_PAYMENT);
  expect(placed.payment?.walletQrPayload).not.toBe('');
  const paid = await sys.wallet.pay(placed.payment!.paymentId);
  expect(paid.state).toBe('paid');

  const order = await settled(placed.id, OrderStatus.ORDER_STATUS_CONFIRMED);
  expect(order.payment?.authorized).toEqual(cny(S.walletPaid.online));
  expect((await holdOf(order.groups[0]!.holdId)).status).toBe(HoldStatus.HOLD_STATUS_ACTIVE);
  expect(await availability(S.walletPaid, WH)).toMatchObject({ held: '1', available: '4' });
  const [payment, ...others] = await paymentsOf(placed.id);
  expect(others).toEqual([]);
  expect(payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_AUTHORIZED);
  await expectEvents(placed, ['OrderPlaced', 'OrderAwaitingPayment', 'OrderConfirmed']);
});

it('cancel after confirmation: cancelled, hold released, authorisation voided; cancelling again answers the same', async () => {
  const placed = await place(webOrder([[S.cancel, 2]]));
  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  const cancel = { requestId: randomUUID(), orderId: placed.id, reason: 'customer changed their mind' };
  const { order: cancelled } = await sys.orders.cancelOrder(cancel);
  expect(cancelled?.status).toBe(OrderStatus.ORDER_STATUS_CANCELLED);

  const order = await settled(placed.id, OrderStatus.ORDER_STATUS_CANCELLED);
  expect(order.statusReason).toContain('customer changed their mind');
  expect(order.groups[0]?.status).toBe(GroupStatus.GROUP_STATUS_CANCELLED);
  expect((await holdOf(order.groups[0]!.holdId)).status).toBe(HoldStatus.HOLD_STATUS_RELEASED);
  expect(await availability(S.cancel, WH)).toMatchObject({ onHand: '5', held: '0', available: '5' });
  const [payment, ...others] = await paymentsOf(placed.id);
  expect(others).toEqual([]);
  expect(payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_VOIDED);
  expect(payment?.voidedAmount).toEqual(cny(2 * S.cancel.online));

  const repeat = (await sys.orders.cancelOrder(cancel)).order!;
  expect(repeat).toMatchObject({ id: placed.id, status: OrderStatus.ORDER_STATUS_CANCELLED });
  const again = (await sys.orders.cancelOrder({ ...cancel, requestId: randomUUID() })).order!;
  expect(again).toMatchObject({ id: placed.id, status: OrderStatus.ORDER_STATUS_CANCELLED });
  expect((await getOrder(placed.id)).version).toBe(order.version);
  expect(await paymentsOf(placed.id)).toEqual([payment]);
  const types = await expectEvents(placed, ['OrderPlaced', 'OrderConfirmed', 'OrderCancelled']);
  expect(count(types, 'OrderCancelled')).toBe(1);
});

it('cancel after dispatch: FAILED_PRECONDITION and nothing changes', async () => {
  const placed = await place(webOrder([[S.dispatched, 1]]));
  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  const group = placed.groups[0]!;
  await sys.publishDelivery(placed.id, 'TaskAccepted', {
    ref: ref(placed, group.id),
    taskId: 'task-d',
    time: new Date(),
  });
  await sys.publishDelivery(placed.id, 'OutForDelivery', {
    ref: ref(placed, group.id),
    shipmentId: 'shp-d',
    courierId: 'courier-9',
    time: new Date(),
  });
  const dispatched = await settled(placed.id, OrderStatus.ORDER_STATUS_OUT_FOR_DELIVERY);
  const paymentBefore = (await paymentsOf(placed.id))[0]!;
  const holdBefore = await holdOf(group.holdId);
  const stockBefore = await availability(S.dispatched, WH);

  const refused = await refusal(
    sys.orders.cancelOrder({ requestId: randomUUID(), orderId: placed.id, reason: 'too late' }),
  );
  expect(refused.code).toBe(status.FAILED_PRECONDITION);

  const after = await getOrder(placed.id);
  expect(after.status).toBe(OrderStatus.ORDER_STATUS_OUT_FOR_DELIVERY);
  expect(after.version).toBe(dispatched.version);
  expect(after.groups[0]?.status).toBe(GroupStatus.GROUP_STATUS_OUT_FOR_DELIVERY);
  expect((await paymentsOf(placed.id))[0]).toEqual(paymentBefore);
  expect(paymentBefore.status).toBe(PaymentStatus.PAYMENT_STATUS_CAPTURED);
  expect(await holdOf(group.holdId)).toEqual(holdBefore);
  expect(holdBefore.status).toBe(HoldStatus.HOLD_STATUS_COMMITTED);
  expect(await availability(S.dispatched, WH)).toEqual(stockBefore);
  const types = await expectEvents(placed, ['OrderPlaced', 'OrderConfirmed', 'OrderInFulfillment', 'OrderShipped']);
  expect(types).not.toContain('OrderCancelled');
});

it('return in store of an online order: requested at store B, received, refunded and restocked at store B', async () => {
  const done = await completedHomeDelivery([[S.returned, 2]]);
  const total = 2 * S.returned.online;
  expect(done.groups[0]?.locationId).toBe(WH);
  expect(await sys.stock(S.returned.code, STORE_B)).toMatchObject({ onHand: '0' });

  const { order: requested, returnId } = await sys.orders.requestReturn({
    requestId: randomUUID(),
    orderId: done.id,
    locationId: STORE_B,
    lines: [{ skuCode: S.returned.code, quantity: '2' }],
    reason: 'too strong',
  });
  expect(returnId).not.toBe('');
  expect(requested?.status).toBe(OrderStatus.ORDER_STATUS_RETURN_REQUESTED);
  expect(requested?.returns).toEqual([
    expect.objectContaining({
      id: returnId,
      status: ReturnStatus.RETURN_STATUS_REQUESTED,
      locationId: STORE_B,
      lines: [{ skuCode: S.returned.code, quantity: '2' }],
    }),
  ]);

  await sys.orders.receiveReturn({ requestId: randomUUID(), orderId: done.id, returnId });
  const returned = await settled(done.id, OrderStatus.ORDER_STATUS_RETURNED);
  expect(returned.returns[0]).toMatchObject({
    id: returnId,
    status: ReturnStatus.RETURN_STATUS_REFUNDED,
    refundAmount: cny(total),
  });
  expect(returned.lines[0]?.returnedQuantity).toBe('2');
  expect(returned.payment?.refunded).toEqual(cny(total));
  const [payment, ...others] = await paymentsOf(done.id);
  expect(others).toEqual([]);
  expect(payment).toMatchObject({ status: PaymentStatus.PAYMENT_STATUS_REFUNDED, refundedAmount: cny(total) });
  expect(await sys.stock(S.returned.code, STORE_B)).toMatchObject({ onHand: '2' });
  expect(await sys.stock(S.returned.code, WH)).toMatchObject({ onHand: '3', held: '0' });
  await expectEvents(done, ['OrderCompleted', 'ReturnRequested', 'OrderRefunded']);
  const refunded = sys.orderEvents(done.id).find((e) => e.type === 'OrderRefunded');
  expect(refunded?.returnId).toBe(returnId);
  expect(refunded?.payload.amount).toEqual(cny(total));
});

it('bad input: INVALID_ARGUMENT naming the fields, nothing created; unknown order NOT_FOUND; reused request id ALREADY_EXISTS', async () => {
  const customerId = uniqueName('bad');
  const stockBefore = await availability(S.input, WH);
  const paymentsBefore = await sys.paymentCount();
  const valid = () => webOrder([[S.input, 1]], { customerId });
  const cases: [string, PlaceOrderRequest][] = [
    ['lines', { ...valid(), lines: [] }],
    ['lines[0].quantity', { ...valid(), lines: [{ skuCode: S.input.code, quantity: '0' }] }],
    ['channel', { ...valid(), channel: 99 as Channel }],
    [
      'payment.method',
      {
        ...valid(),
        payment: {
          method: PaymentMethod.PAYMENT_METHOD_CASH,
          card: undefined,
          walletChannel: WalletChannel.WALLET_CHANNEL_UNSPECIFIED,
          terminalId: '',
        },
      },
    ],
  ];
  for (const [field, request] of cases) {
    const refused = await refusal(sys.orders.placeOrder(request));
    expect({ field, code: refused.code }).toEqual({ field, code: status.INVALID_ARGUMENT });
    expect(decodeFieldViolations(refused.metadata).map((v) => v.field)).toContain(field);
  }
  const list = async () =>
    (
      await sys.orders.listOrders({
        page: undefined,
        customerId,
        storeId: '',
        channel: Channel.CHANNEL_UNSPECIFIED,
        statuses: [],
        placedAfter: undefined,
        placedBefore: undefined,
        partnerId: '',
      })
    ).orders;
  expect(await list()).toEqual([]);
  expect(await availability(S.input, WH)).toEqual(stockBefore);
  expect(await sys.paymentCount()).toBe(paymentsBefore);

  expect((await refusal(sys.orders.getOrder({ orderId: `ord-${randomUUID()}` }))).code).toBe(status.NOT_FOUND);

  const first = valid();
  const placed = await place(first);
  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  expect((await place(first)).id).toBe(placed.id);
  const other = { ...first, lines: [{ skuCode: S.input.code, quantity: '2' }] };
  expect((await refusal(sys.orders.placeOrder(other))).code).toBe(status.ALREADY_EXISTS);
  expect((await list()).map((o) => o.id)).toEqual([placed.id]);
  expect(await availability(S.input, WH)).toMatchObject({ held: '1', available: '4' });
  expect(await paymentsOf(placed.id)).toHaveLength(1);
});

it('a restart of orders loses nothing: delivery events published while it is down are applied once it is back', async () => {
  const placed = await place(webOrder([[S.restart, 1]]));
  expect(placed.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  await sys.restart('orders', { whileDown: () => deliverGroup(placed, placed.groups[0]!.id) });

  const done = await settled(placed.id, OrderStatus.ORDER_STATUS_COMPLETED);
  expect(done.payment?.captured).toEqual(cny(S.restart.online));
  expect((await paymentsOf(placed.id))[0]?.status).toBe(PaymentStatus.PAYMENT_STATUS_CAPTURED);
  expect((await holdOf(placed.groups[0]!.holdId)).status).toBe(HoldStatus.HOLD_STATUS_COMMITTED);
  expect(await availability(S.restart, WH)).toMatchObject({ onHand: '4', held: '0' });
  const types = await expectEvents(placed, ['OrderConfirmed', 'OrderShipped', 'OrderDelivered', 'OrderCompleted']);
  expect(count(types, 'OrderCompleted')).toBe(1);
});
