// The services check ownership too (defence in depth): calls that carry the caller's principal in the metadata the
// gateway writes (x-o2o-principal) are answered only with what the caller may see and do. Catalogue, inventory,
// payments and orders run as processes against the real Kafka and database (see system.ts); calls without a principal
// are internal and behave as before.
import { randomUUID } from 'node:crypto';
import { Metadata, status } from '@grpc/grpc-js';
import {
  Channel,
  FulfilmentType,
  type ListOrdersRequest,
  type Order,
  OrderStatus,
  type PlaceOrderRequest,
} from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { decodeFieldViolations, PRINCIPAL_METADATA_KEY, type Principal, principalMetadata } from '@o2o/kit-grpc';
import { refusal, uniqueName } from '@o2o/kit-testing';
import { homeDeliveryOrder } from '@o2o/kit-bench';
import { LOCATIONS, type SkuSpec, startSystem, type System } from './system';

let sys: System;
const tea: SkuSpec = { code: `OWN-TEA-${randomUUID().slice(0, 8)}`, online: 2500, store: 2700 };
const cup: SkuSpec = { code: `OWN-CUP-${randomUUID().slice(0, 8)}`, online: 900, store: 990 };

const alice: Principal = { role: 'shopper', subject: uniqueName('alice'), storeIds: [], scopes: ['orders:write'] };
const bob: Principal = { role: 'shopper', subject: uniqueName('bob'), storeIds: [], scopes: ['orders:write'] };
const staffA: Principal = { role: 'staff', subject: 'emp-a', storeIds: [LOCATIONS.storeA], scopes: [] };
const tmall: Principal = { role: 'partner', subject: uniqueName('tmall'), storeIds: [], scopes: [] };
const jd: Principal = { role: 'partner', subject: uniqueName('jd'), storeIds: [], scopes: [] };
const admin: Principal = { role: 'admin', subject: 'ops-1', storeIds: [], scopes: [] };
const as = (principal: Principal) => ({ metadata: principalMetadata(principal) });

let alicesOrder: Order;
let pickupAtStoreA: Order;
let tmallOrder: Order;
let jdOrder: Order;

beforeAll(async () => {
  sys = await startSystem();
  await sys.createLocations();
  await sys.createProduct('Ownership tea', [tea, cup]);
  // Tea only at the warehouse (home deliveries come from there); cups at store A for the pick-up.
  await sys.receive(tea.code, LOCATIONS.warehouse, 200);
  await sys.receive(cup.code, LOCATIONS.storeA, 50);
  alicesOrder = await place(order(alice.subject), as(alice));
  pickupAtStoreA = await place(
    order(bob.subject, {
      channel: Channel.CHANNEL_APP,
      lines: [{ skuCode: cup.code, quantity: '1' }],
      fulfilment: {
        type: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
        delivery: undefined,
        pickupLocationId: LOCATIONS.storeA,
      },
    }),
    as(bob),
  );
  tmallOrder = await place(marketplaceOrder(tmall.subject), as(tmall));
  jdOrder = await place(marketplaceOrder(jd.subject), as(jd));
  for (const o of [alicesOrder, pickupAtStoreA, tmallOrder, jdOrder]) {
    expect(o.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  }
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

function marketplaceOrder(partnerId: string): PlaceOrderRequest {
  return order(uniqueName('mp-customer'), {
    channel: Channel.CHANNEL_MARKETPLACE,
    marketplace: { partnerId, externalOrderId: uniqueName('ext') },
  });
}

async function place(request: PlaceOrderRequest, options: { metadata?: Metadata } = {}): Promise<Order> {
  return (await sys.orders.placeOrder(request, options)).order!;
}

const list = (request: Partial<ListOrdersRequest>, options: { metadata?: Metadata } = {}) =>
  sys.orders.listOrders(
    {
      page: undefined,
      customerId: '',
      storeId: '',
      channel: 0,
      statuses: [],
      placedAfter: undefined,
      placedBefore: undefined,
      partnerId: '',
      ...request,
    },
    options,
  );

/** Metadata whose principal cannot be read. */
function malformed(): Metadata {
  const metadata = new Metadata();
  metadata.set(PRINCIPAL_METADATA_KEY, Buffer.from('{"role":"root","subject":"x"}').toString('base64url'));
  return metadata;
}

it('a shopper’s GetOrder on another shopper’s order is NOT_FOUND, exactly like a missing order', async () => {
  const hidden = await refusal(sys.orders.getOrder({ orderId: alicesOrder.id }, as(bob)));
  const missing = await refusal(sys.orders.getOrder({ orderId: 'no-such-order' }, as(bob)));
  expect(hidden.code).toBe(status.NOT_FOUND);
  expect(hidden.details).toBe(`Order "${alicesOrder.id}" does not exist`);
  expect(missing.details).toBe('Order "no-such-order" does not exist');
  expect((await refusal(sys.orders.getOrderTimeline({ orderId: alicesOrder.id }, as(bob)))).code).toBe(
    status.NOT_FOUND,
  );
  // Alice, the warehouse's staff (it fulfils the order) and an admin see it.
  const warehouseStaff: Principal = { ...staffA, storeIds: [LOCATIONS.warehouse] };
  for (const caller of [alice, warehouseStaff, admin]) {
    expect((await sys.orders.getOrder({ orderId: alicesOrder.id }, as(caller))).order!.id).toBe(alicesOrder.id);
  }
});

it('another shopper cannot cancel the order: NOT_FOUND, and the order is left as it was', async () => {
  const request = { requestId: randomUUID(), orderId: alicesOrder.id, reason: 'not mine' };
  expect((await refusal(sys.orders.cancelOrder(request, as(bob)))).code).toBe(status.NOT_FOUND);
  const after = (await sys.orders.getOrder({ orderId: alicesOrder.id })).order!;
  expect(after.status).toBe(OrderStatus.ORDER_STATUS_CONFIRMED);
  expect(after.version).toBe(alicesOrder.version);
});

it('a shopper may place only their own online orders: PERMISSION_DENIED naming the field, nothing stored', async () => {
  const forBob = await refusal(sys.orders.placeOrder(order(bob.subject), as(alice)));
  expect(forBob.code).toBe(status.PERMISSION_DENIED);
  expect(decodeFieldViolations(forBob.metadata).map((v) => v.field)).toEqual(['customer_id']);
  const asMarketplace = await refusal(sys.orders.placeOrder(marketplaceOrder(alice.subject), as(alice)));
  expect(decodeFieldViolations(asMarketplace.metadata).map((v) => v.field)).toEqual(['channel']);
  expect((await list({ customerId: bob.subject })).orders.map((o) => o.id)).toEqual([pickupAtStoreA.id]);
});

it('staff of store A listing store B: PERMISSION_DENIED; their own store lists its orders', async () => {
  const other = await refusal(list({ storeId: LOCATIONS.storeB }, as(staffA)));
  expect(other.code).toBe(status.PERMISSION_DENIED);
  expect(decodeFieldViolations(other.metadata).map((v) => v.field)).toEqual(['store_id']);
  const none = await refusal(list({ customerId: bob.subject }, as(staffA)));
  expect(none.code).toBe(status.INVALID_ARGUMENT);
  expect(decodeFieldViolations(none.metadata).map((v) => v.field)).toEqual(['store_id']);
  const own = await list({ storeId: LOCATIONS.storeA }, as(staffA));
  expect(own.orders.map((o) => o.id)).toEqual([pickupAtStoreA.id]);
});

it('a shopper’s list is their own, whatever they ask; another customer’s is refused', async () => {
  expect((await list({ statuses: [OrderStatus.ORDER_STATUS_CONFIRMED] }, as(alice))).orders.map((o) => o.id)).toEqual([
    alicesOrder.id,
  ]);
  expect((await refusal(list({ customerId: bob.subject }, as(alice)))).code).toBe(status.PERMISSION_DENIED);
});

it('a partner lists only its own marketplace orders (partner_id, filtered in the database)', async () => {
  expect((await list({}, as(tmall))).orders.map((o) => o.id)).toEqual([tmallOrder.id]);
  expect((await list({ partnerId: tmall.subject }, as(tmall))).orders.map((o) => o.id)).toEqual([tmallOrder.id]);
  const other = await refusal(list({ partnerId: jd.subject }, as(tmall)));
  expect(other.code).toBe(status.PERMISSION_DENIED);
  expect(decodeFieldViolations(other.metadata).map((v) => v.field)).toEqual(['partner_id']);
  // A partner's order is its own to see; the other partner's is not there for it.
  expect((await sys.orders.getOrder({ orderId: tmallOrder.id }, as(tmall))).order!.id).toBe(tmallOrder.id);
  expect((await refusal(sys.orders.getOrder({ orderId: jdOrder.id }, as(tmall)))).code).toBe(status.NOT_FOUND);
  // Admins and internal callers filter by any partner.
  expect((await list({ partnerId: jd.subject }, as(admin))).orders.map((o) => o.id)).toEqual([jdOrder.id]);
  expect((await list({ partnerId: jd.subject })).orders.map((o) => o.id)).toEqual([jdOrder.id]);
});

it('a malformed principal is UNAUTHENTICATED and changes nothing', async () => {
  const customerId = uniqueName('nobody');
  expect((await refusal(sys.orders.placeOrder(order(customerId), { metadata: malformed() }))).code).toBe(
    status.UNAUTHENTICATED,
  );
  expect((await refusal(sys.orders.getOrder({ orderId: alicesOrder.id }, { metadata: malformed() }))).code).toBe(
    status.UNAUTHENTICATED,
  );
  const cancel = { requestId: randomUUID(), orderId: alicesOrder.id, reason: 'x' };
  expect((await refusal(sys.orders.cancelOrder(cancel, { metadata: malformed() }))).code).toBe(status.UNAUTHENTICATED);
  expect((await list({ customerId })).orders).toEqual([]);
  expect((await sys.orders.getOrder({ orderId: alicesOrder.id })).order!.status).toBe(
    OrderStatus.ORDER_STATUS_CONFIRMED,
  );
});

it('no principal: an internal call, as before', async () => {
  for (const o of [alicesOrder, pickupAtStoreA, tmallOrder]) {
    expect((await sys.orders.getOrder({ orderId: o.id })).order!.id).toBe(o.id);
  }
  expect((await list({ storeId: LOCATIONS.storeB })).orders).toEqual([]);
  expect((await list({ customerId: alice.subject })).orders.map((o) => o.id)).toEqual([alicesOrder.id]);
});

it('payments stores the attribution orders sends: a payment shows to whoever may see its order', async () => {
  const paymentId = alicesOrder.payment!.paymentId;
  expect((await sys.payments.getPayment({ paymentId }, as(alice))).payment!.orderId).toBe(alicesOrder.id);
  const hidden = await refusal(sys.payments.getPayment({ paymentId }, as(bob)));
  expect(hidden.code).toBe(status.NOT_FOUND);
  expect(hidden.details).toBe(`Payment "${paymentId}" does not exist`);
  const listed = (principal: Principal) =>
    sys.payments.listPayments({ orderId: alicesOrder.id, page: undefined }, as(principal));
  expect((await listed(alice)).payments.map((p) => p.id)).toEqual([paymentId]);
  expect((await listed(bob)).payments).toEqual([]);
  // Money moves only on the saga's internal calls.
  const capture = { idempotencyKey: randomUUID(), paymentId, amount: { currencyCode: 'CNY', amountMinor: '1' } };
  expect((await refusal(sys.payments.capturePayment(capture, as(alice)))).code).toBe(status.PERMISSION_DENIED);
});
