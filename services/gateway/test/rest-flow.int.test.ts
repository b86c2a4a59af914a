// The whole online order flow over REST, against the running gateway in front of the five services (each its own
// process) with the real Kafka and database: a shopper browses, checks availability, places a home-delivery order
// (idempotently), the warehouse staff work the task through the gateway, the courier rides (over gRPC, as the courier
// app does), the shopper watches the ride as server-sent events and hands over the code, the order completes, its
// payment is captured, and a return is received in a store and refunded.
import { randomUUID } from 'node:crypto';
import { credentials } from '@grpc/grpc-js';
import { DeliveryServiceClient, Vehicle } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { uniqueName, waitFor } from '@o2o/kit-testing';
import { LOCATIONS, type SkuSpec } from '../../orders/test/system';
import { type GatewaySystem, restOrder, seedStock, startGatewaySystem } from './gateway-system';

/** A JSON body as the tests read it (shape checked by the assertions). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let gw: GatewaySystem;
const TEA: SkuSpec = { code: `REST-${randomUUID().slice(0, 8)}`, online: 2500, store: 2300 };
const PRODUCT_NAME = `Longjing tea ${TEA.code}`;
/** A courier 300 m north of the warehouse (31.21, 121.49). */
const NEAR_WAREHOUSE = { latitude: 31.21 + 300 / 111_320, longitude: 121.49 };

beforeAll(async () => {
  gw = await startGatewaySystem();
  await seedStock(gw, TEA, { name: PRODUCT_NAME, locationId: LOCATIONS.warehouse, quantity: 5 });
}, 240_000);

afterAll(async () => {
  await gw?.stop();
}, 60_000);

/** One server-sent event. */
interface SseEvent {
  event: string;
  id?: string;
  data: Record<string, unknown>;
}

/** Opens an event stream and collects its events until it ends (or `close()`). */
async function openEvents(url: string, key: string) {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { 'x-api-key': key, accept: 'text/event-stream' }, signal: abort.signal });
  const events: SseEvent[] = [];
  let comments = 0;
  const done = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments += 1;
            const colon = line.indexOf(': ');
            if (colon > 0 && !line.startsWith(':')) fields[line.slice(0, colon)] = line.slice(colon + 2);
          }
          if (fields.event) {
            events.push({
              event: fields.event,
              id: fields.id,
              data: JSON.parse(fields.data ?? '{}') as Record<string, unknown>,
            });
          }
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return { res, events, done, comments: () => comments, close: () => abort.abort() };
}

it('browse, order idempotently, fulfil, track live, deliver, pay, return: all over REST', async () => {
  const customer = uniqueName('cust');
  const shopper = await gw.issueKey({ role: 'shopper', subject: customer });
  const warehouseStaff = await gw.issueKey({ role: 'staff', subject: 'wh-lead', storeIds: [LOCATIONS.warehouse] });
  const storeStaff = await gw.issueKey({ role: 'staff', subject: 'store-a-1', storeIds: [LOCATIONS.storeA] });

  // Browse and check availability.
  const search = await gw.call<{ products: { id: string; name: string }[] }>(
    'GET',
    `/v1/products/search?query=${encodeURIComponent(TEA.code)}`,
    { key: shopper },
  );
  expect(search.status).toBe(200);
  expect(search.body.products.map((p) => p.name)).toContain(PRODUCT_NAME);
  const product = await gw.call<{ product: { skus: { code: string }[] } }>(
    'GET',
    `/v1/products/${search.body.products[0]!.id}`,
    {
      key: shopper,
    },
  );
  expect(product.body.product.skus.map((s) => s.code)).toEqual([TEA.code]);
  const availability = await gw.call<{
    items: { skuCode: string; locations: { locationId: string; available: string }[] }[];
  }>('GET', `/v1/availability?skuCodes=${TEA.code}`, { key: shopper });
  expect(availability.status).toBe(200);
  expect(JSON.stringify(availability.body)).toContain(LOCATIONS.warehouse);

  // Place the order; a retry with the same Idempotency-Key answers the same order.
  const orderBody = restOrder([{ skuCode: TEA.code, quantity: 2 }]);
  const idempotencyKey = randomUUID();
  const placed = await gw.call<{ order: Json }>('POST', '/v1/orders', {
    key: shopper,
    body: orderBody,
    headers: { 'idempotency-key': idempotencyKey },
  });
  expect(placed.status).toBe(201);
  const order = placed.body.order;
  expect(order).toMatchObject({ status: 'ORDER_STATUS_CONFIRMED', customerId: customer, channel: 'CHANNEL_WEB' });
  expect(order.total).toEqual({ currencyCode: 'CNY', amountMinor: '5000' });
  const again = await gw.call<{ order: { id: string } }>('POST', '/v1/orders', {
    key: shopper,
    body: orderBody,
    headers: { 'idempotency-key': idempotencyKey },
  });
  expect(again.status).toBe(201);
  expect(again.body.order.id).toBe(order.id);
  const changed = await gw.call('POST', '/v1/orders', {
    key: shopper,
    body: { ...orderBody, lines: [{ skuCode: TEA.code, quantity: '1' }] },
    headers: { 'idempotency-key': idempotencyKey },
  });
  expect(changed.status).toBe(409);
  expect(changed.headers.get('content-type')).toMatch(/^application\/problem\+json/);

  // The shopper sees it, by id and in their list.
  expect((await gw.call('GET', `/v1/orders/${order.id}`, { key: shopper })).status).toBe(200);
  const mine = await gw.call<{ orders: { id: string }[]; page: { nextPageToken: string } }>(
    'GET',
    '/v1/orders?pageSize=10',
    {
      key: shopper,
    },
  );
  expect(mine.body.orders.map((o) => o.id)).toEqual([order.id]);

  // The warehouse works the task through the gateway; a courier near it takes the shipment (courier app: gRPC).
  const courier = new DeliveryServiceClient(gw.sys.addresses.delivery, credentials.createInsecure());
  const courierId = uniqueName('rider');
  await gw.sys.delivery.registerCourier({
    courierId,
    name: 'Wang Fang',
    phone: '+86 139 0000 0000',
    vehicle: Vehicle.VEHICLE_E_BIKE,
    capacity: 2,
  });
  await gw.sys.delivery.setCourierAvailability({ courierId, available: true, point: NEAR_WAREHOUSE });
  const groupId = order.groups[0].id as string;
  const queue = await waitFor(
    async () => {
      const page = await gw.call<{ fulfilments: { id: string; orderId: string }[] }>(
        'GET',
        `/v1/locations/${LOCATIONS.warehouse}/fulfilments?taskStatuses=TASK_STATUS_OPEN`,
        { key: warehouseStaff },
      );
      return page.body.fulfilments?.find((f) => f.orderId === order.id);
    },
    { what: 'the task in the warehouse queue', timeoutMs: 20_000 },
  );
  const base = `/v1/locations/${LOCATIONS.warehouse}/fulfilments/${queue.id}`;
  const accepted = await gw.call<{ fulfilment: { shipment: { id: string; offer: { courierId: string } } } }>(
    'POST',
    `${base}/accept`,
    { key: warehouseStaff, body: { associateId: 'wh-lead' } },
  );
  expect(accepted.status).toBe(200);
  const shipmentId = accepted.body.fulfilment.shipment.id;
  expect(accepted.body.fulfilment.shipment.offer.courierId).toBe(courierId);

  // The shopper starts watching: the latest state first, then every change.
  const tracking = await openEvents(`${gw.url}/v1/orders/${order.id}/groups/${groupId}/tracking`, shopper);
  expect(tracking.res.status).toBe(200);
  expect(tracking.res.headers.get('content-type')).toMatch(/^text\/event-stream/);

  await gw.sys.delivery.acceptAssignment({ shipmentId, courierId });
  expect((await gw.call('POST', `${base}/picked`, { key: warehouseStaff })).status).toBe(200);
  expect((await gw.call('POST', `${base}/ready`, { key: warehouseStaff })).status).toBe(200);
  await gw.sys.delivery.confirmCollection({ shipmentId, courierId });
  await gw.sys.delivery.startDelivery({ shipmentId, courierId });

  // The rider streams positions towards the shopper.
  await new Promise<void>((resolve, reject) => {
    const call = courier.reportPositions((error) => (error ? reject(error) : resolve()));
    const start = Date.now() - 5_000;
    for (let i = 0; i < 5; i += 1) {
      call.write({
        courierId,
        shipmentId: '',
        point: { latitude: 31.215 + i * 0.002, longitude: 121.48 },
        time: new Date(start + i * 1000),
        speedMps: 5,
        headingDeg: 0,
        accuracyM: 5,
      });
    }
    call.end();
  });
  await waitFor(() => tracking.events.filter((e) => e.data.position).length >= 5, {
    what: 'five positions on the event stream',
    timeoutMs: 10_000,
  });

  // The shopper reads the code from their app and gives it at the door.
  const handover = await gw.call<{ code: string }>('GET', `/v1/orders/${order.id}/groups/${groupId}/handover-code`, {
    key: shopper,
  });
  expect(handover.status).toBe(200);
  expect(handover.body.code).toMatch(/^\d{6}$/);
  await gw.sys.delivery.confirmDelivery({ shipmentId, courierId, code: handover.body.code });
  await tracking.done;
  courier.close();
  const updates = tracking.events.filter((e) => e.event === 'update');
  const sequences = updates.map((e) => Number(e.id));
  expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  expect(new Set(sequences).size).toBe(sequences.length);
  expect(updates.map((e) => e.data.status)).toEqual(
    expect.arrayContaining(['SHIPMENT_STATUS_OUT_FOR_DELIVERY', 'SHIPMENT_STATUS_DELIVERED']),
  );
  expect(tracking.events[tracking.events.length - 1]?.event).toBe('end');

  // The order completes with its payment captured in full.
  const completed = await waitFor(
    async () => {
      const got = await gw.call<{ order: Json }>('GET', `/v1/orders/${order.id}`, { key: shopper });
      return got.body.order.status === 'ORDER_STATUS_COMPLETED' && !got.body.order.settling
        ? got.body.order
        : undefined;
    },
    { what: 'order COMPLETED', timeoutMs: 20_000 },
  );
  expect(completed.payment.captured).toEqual(order.total);
  const payments = await gw.call<{ payments: { status: string }[] }>('GET', `/v1/orders/${order.id}/payments`, {
    key: shopper,
  });
  expect(payments.status).toBe(200);
  expect(payments.body.payments.map((p) => p.status)).toEqual(['PAYMENT_STATUS_CAPTURED']);
  const timeline = await gw.call<{ entries: { status: string }[] }>('GET', `/v1/orders/${order.id}/timeline`, {
    key: shopper,
  });
  expect(timeline.body.entries.map((e) => e.status)).toEqual(
    expect.arrayContaining(['ORDER_STATUS_CONFIRMED', 'ORDER_STATUS_OUT_FOR_DELIVERY', 'ORDER_STATUS_COMPLETED']),
  );

  // One tea comes back to a store; the store receives it and the shopper is refunded.
  const requested = await gw.call<{ order: Json; returnId: string }>('POST', `/v1/orders/${order.id}/returns`, {
    key: shopper,
    body: { locationId: LOCATIONS.storeA, lines: [{ skuCode: TEA.code, quantity: '1' }], reason: 'gift duplicate' },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(requested.status).toBe(201);
  expect(requested.body.order.status).toBe('ORDER_STATUS_RETURN_REQUESTED');
  const received = await gw.call<{ order: Json }>(
    'POST',
    `/v1/orders/${order.id}/returns/${requested.body.returnId}/receive`,
    { key: storeStaff, body: {}, headers: { 'idempotency-key': randomUUID() } },
  );
  expect(received.status).toBe(200);
  const refunded = await waitFor(
    async () => {
      const got = await gw.call<{ order: Json }>('GET', `/v1/orders/${order.id}`, { key: shopper });
      return got.body.order.payment.refunded.amountMinor === '2500' ? got.body.order : undefined;
    },
    { what: 'the refund on the order', timeoutMs: 20_000 },
  );
  expect(refunded.status).toBe('ORDER_STATUS_PARTIALLY_RETURNED');
}, 120_000);
