// The orders API beyond the scenarios: lists with filters and cursor pages, the timeline, return refusals, a
// delivery event the lifecycle refuses, and SIGTERM under load (health NOT_SERVING first, no in-flight call lost).
// The four services run as processes (see system.ts).
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import {
  Channel,
  FulfilmentType,
  type ListOrdersRequest,
  type Order,
  OrderStatus,
  PaymentMethod,
  type PlaceOrderRequest,
} from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { decodeFieldViolations } from '@o2o/kit-grpc';
import { freePort, grpcHealth, refusal, testInfra, waitFor } from '@o2o/kit-testing';
import { MongoClient } from 'mongodb';
import { homeDeliveryOrder } from '@o2o/kit-bench';
import { LOCATIONS, type SkuSpec, startSystem, type System } from './system';

let sys: System;
const tea: SkuSpec = { code: `API-TEA-${randomUUID().slice(0, 8)}`, online: 2500, store: 2700 };
const cup: SkuSpec = { code: `API-CUP-${randomUUID().slice(0, 8)}`, online: 900, store: 990 };

let metricsUrl: string;

beforeAll(async () => {
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  sys = await startSystem({
    env: {
      orders: {
        SHUTDOWN_DRAIN_DELAY_MS: '700',
        SHUTDOWN_GRACE_MS: '15000',
        // Scraped as Prometheus would, from the process itself.
        OTEL_METRICS_EXPORTER: 'prometheus',
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: String(metricsPort),
        METRICS_QUERY_INTERVAL_MS: '0',
      },
    },
  });
  await sys.createLocations();
  await sys.createProduct('API tea set', [tea, cup]);
  await sys.receive(tea.code, LOCATIONS.warehouse, 500);
  await sys.receive(cup.code, LOCATIONS.warehouse, 500);
  // Tea only at the warehouse, so home deliveries come from there; cups also at store A for pick-ups.
  await sys.receive(cup.code, LOCATIONS.storeA, 50);
}, 180_000);

afterAll(async () => {
  await sys?.stop();
});

function order(customerId: string, overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return homeDeliveryOrder(
    { requestId: randomUUID(), customerId, lines: [{ skuCode: tea.code, quantity: 1 }] },
    overrides,
  );
}

const list = (request: Partial<ListOrdersRequest>) =>
  sys.orders.listOrders({
    page: undefined,
    customerId: '',
    storeId: '',
    channel: 0,
    statuses: [],
    placedAfter: undefined,
    placedBefore: undefined,
    partnerId: '',
    ...request,
  });

async function place(request: PlaceOrderRequest): Promise<Order> {
  return (await sys.orders.placeOrder(request)).order!;
}

it('lists a customer’s orders newest first in cursor pages, filtered by status, channel, store and time', async () => {
  const customerId = `api-list-${randomUUID().slice(0, 8)}`;
  const placed: Order[] = [];
  for (let i = 0; i < 5; i++) placed.push(await place(order(customerId)));
  const declined = await place(
    order(customerId, {
      payment: {
        method: PaymentMethod.PAYMENT_METHOD_CARD,
        card: { number: '4000000000009995' },
        walletChannel: 0,
        terminalId: '',
      },
    }),
  );
  const pickup = await place(
    order(customerId, {
      channel: Channel.CHANNEL_APP,
      lines: [{ skuCode: cup.code, quantity: '1' }],
      fulfilment: {
        type: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
        delivery: undefined,
        pickupLocationId: LOCATIONS.storeA,
      },
    }),
  );
  expect(declined.status).toBe(OrderStatus.ORDER_STATUS_REJECTED);
  expect(pickup.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);

  // Pages of 3, newest first, until the token runs out.
  const seen: string[] = [];
  let token = '';
  do {
    const page = await list({ customerId, page: { pageSize: 3, pageToken: token } });
    expect(page.orders.length).toBeLessThanOrEqual(3);
    seen.push(...page.orders.map((o) => o.id));
    token = page.page!.nextPageToken;
  } while (token);
  const newestFirst = [pickup, declined, ...placed.slice().reverse()].map((o) => o.id);
  expect(seen).toEqual(newestFirst);

  const rejected = await list({ customerId, statuses: [OrderStatus.ORDER_STATUS_REJECTED] });
  expect(rejected.orders.map((o) => o.id)).toEqual([declined.id]);
  const app = await list({ customerId, channel: Channel.CHANNEL_APP });
  expect(app.orders.map((o) => o.id)).toEqual([pickup.id]);
  const atStoreA = await list({ storeId: LOCATIONS.storeA, customerId });
  expect(atStoreA.orders.map((o) => o.id)).toEqual([pickup.id]);
  const since = await list({ customerId, placedAfter: pickup.createTime });
  expect(since.orders.map((o) => o.id)).toEqual([pickup.id]);
  const before = await list({ customerId, placedBefore: placed[1]!.createTime });
  expect(before.orders.map((o) => o.id)).toEqual([placed[0]!.id]);

  // A token is bound to its filters; a list needs a filter; page sizes are bounded.
  const first = await list({ customerId, page: { pageSize: 2, pageToken: '' } });
  const badToken = await refusal(
    list({ customerId, channel: Channel.CHANNEL_WEB, page: { pageSize: 2, pageToken: first.page!.nextPageToken } }),
  );
  expect(badToken.code).toBe(status.INVALID_ARGUMENT);
  expect(decodeFieldViolations(badToken.metadata).map((v) => v.field)).toContain('page.page_token');
  expect((await refusal(list({}))).code).toBe(status.INVALID_ARGUMENT);
  const tooBig = await refusal(list({ customerId, page: { pageSize: 500, pageToken: '' } }));
  expect(decodeFieldViolations(tooBig.metadata).map((v) => v.field)).toContain('page.page_size');
});

it('leaves nothing due for the recovery loop once an order has no task left', async () => {
  const placed = await place(order(`api-due-${randomUUID().slice(0, 8)}`));
  expect(placed.settling).toBe(false);
  const mongo = await new MongoClient(testInfra().mongoUrl).connect();
  try {
    const doc = await mongo
      .db(sys.databases.orders)
      .collection('orders')
      .findOne({ _id: placed.id as never });
    expect(doc?.tasks).toEqual([]);
    expect(doc).not.toHaveProperty('nextRunAt');
    expect(doc).not.toHaveProperty('leaseOwner');
  } finally {
    await mongo.close();
  }
});

it('refuses an order naming a store that does not exist or is not a store, creating nothing', async () => {
  const customerId = `api-stores-${randomUUID().slice(0, 8)}`;
  const pickupAt = (pickupLocationId: string) =>
    order(customerId, {
      channel: Channel.CHANNEL_APP,
      lines: [{ skuCode: cup.code, quantity: '1' }],
      fulfilment: { type: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP, delivery: undefined, pickupLocationId },
    });
  const unknown = await refusal(sys.orders.placeOrder(pickupAt('store-nowhere')));
  expect(unknown.code).toBe(status.NOT_FOUND);
  expect(unknown.details).toContain('fulfilment.pickup_location_id');
  const warehouse = await refusal(sys.orders.placeOrder(pickupAt(LOCATIONS.warehouse)));
  expect(warehouse.code).toBe(status.FAILED_PRECONDITION);
  const pos = await refusal(
    sys.orders.placeOrder(
      order('', {
        channel: Channel.CHANNEL_STORE_POS,
        storeId: 'store-nowhere',
        associateId: 'assoc-1',
        fulfilment: {
          type: FulfilmentType.FULFILMENT_TYPE_IN_STORE_CARRY_OUT,
          delivery: undefined,
          pickupLocationId: '',
        },
        payment: { method: PaymentMethod.PAYMENT_METHOD_CASH, card: undefined, walletChannel: 0, terminalId: '' },
      }),
    ),
  );
  expect(pos.code).toBe(status.NOT_FOUND);
  expect(pos.details).toContain('store_id');
  expect((await list({ customerId })).orders).toEqual([]);
  expect((await list({ storeId: 'store-nowhere' })).orders).toEqual([]);
});

it('keeps a timeline of every step, oldest first, with the status after each', async () => {
  const placed = await place(order(`api-timeline-${randomUUID().slice(0, 8)}`));
  const { entries } = await sys.orders.getOrderTimeline({ orderId: placed.id });
  expect(entries.map((e) => Number(e.sequence))).toEqual(entries.map((_, i) => i + 1));
  const causes = entries.map((e) => e.cause);
  expect(causes[0]).toBe('placed on WEB');
  expect(causes).toEqual(
    expect.arrayContaining(['payment authorised', 'confirmed', `stock held at ${placed.groups[0]!.locationId}`]),
  );
  expect(entries.at(-1)!.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  expect(entries.find((e) => e.cause.startsWith('stock held'))?.groupId).toBe('g1');
  expect((await refusal(sys.orders.getOrderTimeline({ orderId: 'o-none' }))).code).toBe(status.NOT_FOUND);
});

it('refuses returns that are not allowed, changing nothing', async () => {
  const placed = await place(order(`api-return-${randomUUID().slice(0, 8)}`));
  const ask = (overrides: Record<string, unknown>) =>
    refusal(
      sys.orders.requestReturn({
        requestId: randomUUID(),
        orderId: placed.id,
        locationId: LOCATIONS.storeB,
        lines: [{ skuCode: tea.code, quantity: '1' }],
        reason: 'too strong',
        ...overrides,
      }),
    );
  // Not completed yet.
  expect((await ask({})).code).toBe(status.FAILED_PRECONDITION);
  expect((await ask({ locationId: 'nowhere' })).code).toBe(status.NOT_FOUND);
  expect((await ask({ orderId: 'o-none' })).code).toBe(status.NOT_FOUND);
  expect((await ask({ locationId: '' })).code).toBe(status.INVALID_ARGUMENT);

  // Delivered: now more than was bought, or a SKU not on the order, is INVALID_ARGUMENT.
  for (const type of ['OutForDelivery', 'Delivered'] as const) {
    await sys.publishDelivery(placed.id, type, {
      ref: { orderId: placed.id, groupId: 'g1', locationId: placed.groups[0]!.locationId },
      shipmentId: 'sh-1',
      courierId: 'c-1',
      time: new Date(),
    });
  }
  await waitFor(
    async () =>
      (await sys.orders.getOrder({ orderId: placed.id })).order!.status === OrderStatus.ORDER_STATUS_COMPLETED ||
      undefined,
    {
      timeoutMs: 20_000,
    },
  );
  const tooMany = await ask({ lines: [{ skuCode: tea.code, quantity: '2' }] });
  expect(decodeFieldViolations(tooMany.metadata).map((v) => v.field)).toEqual(['lines[0].quantity']);
  const notOnOrder = await ask({ lines: [{ skuCode: cup.code, quantity: '1' }] });
  expect(decodeFieldViolations(notOnOrder.metadata).map((v) => v.field)).toEqual(['lines[0].sku_code']);
  const after = (await sys.orders.getOrder({ orderId: placed.id })).order!;
  expect(after.status).toBe(OrderStatus.ORDER_STATUS_COMPLETED);
  expect(after.returns).toEqual([]);
  expect((await refusal(sys.orders.receiveReturn({ requestId: 'x', orderId: placed.id, returnId: 'r9' }))).code).toBe(
    status.NOT_FOUND,
  );
}, 60_000);

it('skips a delivery event the lifecycle refuses and applies the next one', async () => {
  const placed = await place(order(`api-skip-${randomUUID().slice(0, 8)}`));
  const ref = { orderId: placed.id, groupId: 'g1', locationId: placed.groups[0]!.locationId };
  // A pick-up step on a home-delivery group, and a group the order does not have: both refused and skipped.
  await sys.publishDelivery(placed.id, 'ReadyForPickup', { ref, time: new Date() });
  await sys.publishDelivery(placed.id, 'TaskAccepted', {
    ref: { ...ref, groupId: 'g7' },
    taskId: 't-0',
    time: new Date(),
  });
  await sys.publishDelivery(placed.id, 'TaskAccepted', { ref, taskId: 't-1', time: new Date() });
  const moved = await waitFor(
    async () => {
      const o = (await sys.orders.getOrder({ orderId: placed.id })).order!;
      return o.status === OrderStatus.ORDER_STATUS_IN_FULFILLMENT ? o : undefined;
    },
    { timeoutMs: 20_000 },
  );
  const timeline = (await sys.orders.getOrderTimeline({ orderId: placed.id })).entries.map((e) => e.cause);
  expect(timeline.filter((c) => c.startsWith('delivery:'))).toEqual(['delivery: in fulfillment']);
  expect(moved.groups.map((g) => g.id)).toEqual(['g1']);
}, 60_000);

it('exports its business metrics to Prometheus: transitions by channel and event, placement time, backlogs', async () => {
  const customerId = `api-metrics-${randomUUID().slice(0, 8)}`;
  await place(order(customerId));
  await place(
    order(customerId, {
      payment: {
        method: PaymentMethod.PAYMENT_METHOD_CARD,
        card: { number: '4000000000009995' },
        walletChannel: 0,
        terminalId: '',
      },
    }),
  );
  const body = await (await fetch(metricsUrl)).text();
  const value = (pattern: RegExp) => Number(body.match(pattern)?.[1] ?? NaN);
  // Earlier tests in this file placed more orders: at least these two of each.
  expect(
    value(/^o2o_orders_transitions_total\{channel="WEB",event="OrderPlaced"[^}]*\} (\d+)/m),
  ).toBeGreaterThanOrEqual(2);
  expect(
    value(/^o2o_orders_transitions_total\{channel="WEB",event="OrderRejected"[^}]*\} (\d+)/m),
  ).toBeGreaterThanOrEqual(1);
  expect(
    value(/^o2o_orders_placement_duration_count\{channel="WEB",outcome="CONFIRMED"[^}]*\} (\d+)/m),
  ).toBeGreaterThanOrEqual(1);
  expect(
    value(/^o2o_orders_placement_duration_count\{channel="WEB",outcome="REJECTED"[^}]*\} (\d+)/m),
  ).toBeGreaterThanOrEqual(1);
  // The refused delivery events of the test above, by type.
  expect(
    value(/^o2o_orders_events_refused_total\{type="o2o.delivery.v1.ReadyForPickup"[^}]*\} (\d+)/m),
  ).toBeGreaterThanOrEqual(1); // at least once: a redelivery counts again
  expect(value(/^o2o_orders_placements_pending\{[^}]*\} (\d+)/m)).toBe(0);
  expect(value(/^o2o_orders_tasks_overdue\{[^}]*\} (\d+)/m)).toBe(0);
  expect(body).toMatch(/^rpc_server_call_duration_count\{[^}]*rpc_method="PlaceOrder"/m);
});

it('on SIGTERM under load: health NOT_SERVING first, every accepted placement completes, then refusals only', async () => {
  const customerId = `api-sigterm-${randomUUID().slice(0, 8)}`;
  const health = grpcHealth(sys.addresses.orders);
  expect(await health.check()).toBe('SERVING');
  const ok: Order[] = [];
  const refused: number[] = [];
  const other: { code?: number; details?: string }[] = [];
  let sigtermAt = 0;
  let notServingAt = 0;
  let okAfterSigterm = 0;
  const worker = async () => {
    for (;;) {
      try {
        const o = await place(order(customerId));
        ok.push(o);
        if (sigtermAt > 0) okAfterSigterm += 1;
      } catch (error) {
        const e = error as { code?: number; details?: string };
        if (sigtermAt > 0 && e.code === status.UNAVAILABLE) refused.push(Date.now());
        else other.push({ code: e.code, details: e.details });
        return;
      }
    }
  };
  const workers = Array.from({ length: 6 }, worker);
  await waitFor(() => ok.length >= 12 || undefined, { timeoutMs: 60_000 });
  sigtermAt = Date.now();
  const restarting = sys.restart('orders');
  while (notServingAt === 0 && Date.now() - sigtermAt < 5_000) {
    if ((await health.check(200)) !== 'SERVING') notServingAt = Date.now();
  }
  await Promise.all(workers);
  await restarting;
  health.close();

  expect(other).toEqual([]);
  expect(notServingAt).toBeGreaterThan(0);
  expect(okAfterSigterm).toBeGreaterThan(0);
  expect(refused.length).toBeGreaterThan(0);
  expect(refused.every((at) => at >= notServingAt)).toBe(true);
  expect(
    sys.logs('orders').some((l) => l.includes('"msg":"gRPC server stopped"') && l.includes('"forced":false')),
  ).toBe(true);
  // Every answered placement is whole after the restart: confirmed, nothing left to do.
  for (const o of ok) {
    const now = (await sys.orders.getOrder({ orderId: o.id })).order!;
    expect(now.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  }
  await waitFor(
    async () => {
      const all = (await list({ customerId, page: { pageSize: 200, pageToken: '' } })).orders;
      return all.every((x) => !x.settling) || undefined;
    },
    { timeoutMs: 30_000 },
  );
}, 120_000);
