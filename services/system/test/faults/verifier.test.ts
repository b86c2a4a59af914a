// The fault suite's verifier must be able to fail: a healthy snapshot passes every invariant, and each kind of
// damage a fault could do is caught by the invariant meant for it (and named in its violations).
import { OrderStatus } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import type { Journey } from './shoppers';
import { checkInvariants, type Doc, type PublishedEvent, type RunFacts, type Snapshot } from './verifier';

const SKU = 'TEA-1';
const WH = 'wh-1';

function event(
  topic: string,
  key: string,
  type: string,
  aggregate: Record<string, unknown>,
  id = `${key}-${type}-${String(aggregate.version)}`,
): PublishedEvent {
  return {
    topic: `run.o2o.${topic}.v1`,
    partition: 0,
    offset: '0',
    key,
    id,
    type: `o2o.${topic}.v1.${type}`,
    aggregate,
    version: Number(aggregate.version),
    headers: {},
    value: Buffer.alloc(0),
  };
}

/** One delivered order (2 units, 5000 captured) and one cancelled order (1 unit, voided), stock received 10. */
function healthy(): { snapshot: Snapshot; facts: RunFacts } {
  const orders: Doc[] = [
    {
      _id: 'o-1',
      placementKey: 'rq:r-1',
      status: 'COMPLETED',
      tasks: [],
      totalMinor: 5000,
      payment: { paymentId: 'pay-1', capturedMinor: 5000 },
      groups: [{ id: 'g1', holdId: 'h-1', status: 'DELIVERED' }],
      timeline: ['PENDING', 'CONFIRMED', 'IN_FULFILLMENT', 'OUT_FOR_DELIVERY', 'DELIVERED', 'COMPLETED'].map(
        (status) => ({ status }),
      ),
      outbox: [],
    },
    {
      _id: 'o-2',
      placementKey: 'rq:r-2',
      status: 'CANCELLED',
      tasks: [],
      totalMinor: 2500,
      payment: { paymentId: 'pay-2', capturedMinor: 0 },
      groups: [{ id: 'g1', holdId: 'h-2', status: 'CANCELLED' }],
      timeline: ['PENDING', 'CONFIRMED', 'CANCELLED'].map((status) => ({ status })),
      outbox: [],
    },
  ];
  const payments: Doc[] = [
    {
      _id: 'pay-1',
      orderId: 'o-1',
      status: 'CAPTURED',
      balances: { authorized: 5000, captured: 5000, voided: 0, refunded: 0 },
      ledger: [
        { kind: 'AUTHORIZATION', key: 'o-1:authorize', amountMinor: 5000 },
        { kind: 'CAPTURE', key: 'o-1:capture:g1', amountMinor: 5000 },
      ],
      outbox: [],
    },
    {
      _id: 'pay-2',
      orderId: 'o-2',
      status: 'VOIDED',
      balances: { authorized: 2500, captured: 0, voided: 2500, refunded: 0 },
      ledger: [
        { kind: 'AUTHORIZATION', key: 'o-2:authorize', amountMinor: 2500 },
        { kind: 'VOID', key: 'o-2:void', amountMinor: 2500 },
      ],
      outbox: [],
    },
  ];
  const holds: Doc[] = [
    { _id: 'h-1', ownerId: 'o-1', status: 'COMMITTED', lines: [{ skuCode: SKU, locationId: WH, quantity: 2 }] },
    { _id: 'h-2', ownerId: 'o-2', status: 'RELEASED', lines: [{ skuCode: SKU, locationId: WH, quantity: 1 }] },
  ];
  const stock: Doc[] = [
    {
      _id: 's-1',
      skuCode: SKU,
      locationId: WH,
      onHand: 8,
      held: 0,
      free: 8,
      safetyStock: 0,
      holding: [],
      settling: [],
      outbox: [],
    },
  ];
  const fulfilments: Doc[] = [
    { _id: 'f-1', orderId: 'o-1', task: { status: 'HANDED_OVER' }, shipment: { status: 'DELIVERED' }, outbox: [] },
    { _id: 'f-2', orderId: 'o-2', task: { status: 'CANCELLED' }, outbox: [] },
  ];
  const orderEvent = (id: string, type: string, version: number, status: string) =>
    event('orders', id, type, { id, version: String(version), status: `ORDER_STATUS_${status}` });
  const events: PublishedEvent[] = [
    orderEvent('o-1', 'OrderPlaced', 1, 'PENDING'),
    orderEvent('o-1', 'OrderConfirmed', 3, 'CONFIRMED'),
    orderEvent('o-1', 'OrderInFulfillment', 4, 'IN_FULFILLMENT'),
    orderEvent('o-1', 'OrderShipped', 5, 'OUT_FOR_DELIVERY'),
    // A redelivery: the same id again is not a second event.
    orderEvent('o-1', 'OrderShipped', 5, 'OUT_FOR_DELIVERY'),
    orderEvent('o-1', 'OrderDelivered', 6, 'DELIVERED'),
    orderEvent('o-1', 'OrderCompleted', 6, 'COMPLETED'),
    orderEvent('o-2', 'OrderPlaced', 1, 'PENDING'),
    orderEvent('o-2', 'OrderConfirmed', 3, 'CONFIRMED'),
    orderEvent('o-2', 'OrderCancelled', 4, 'CANCELLED'),
    event('payments', 'o-1', 'PaymentAuthorized', { id: 'pay-1', version: '1' }),
    event('payments', 'o-1', 'PaymentCaptured', { id: 'pay-1', version: '2' }),
  ];
  const journeys: Journey[] = [
    {
      kind: 'delivery',
      requestId: 'r-1',
      placementKey: 'rq:r-1',
      skuCode: SKU,
      quantity: 2,
      orderId: 'o-1',
      end: OrderStatus.ORDER_STATUS_COMPLETED,
      retries: {},
      startedAt: 0,
    },
    {
      kind: 'cancel',
      requestId: 'r-2',
      placementKey: 'rq:r-2',
      skuCode: SKU,
      quantity: 1,
      orderId: 'o-2',
      end: OrderStatus.ORDER_STATUS_CANCELLED,
      retries: {},
      startedAt: 0,
    },
  ];
  return {
    snapshot: { orders, payments, holds, stock, fulfilments, products: [], events },
    facts: { received: new Map([[`${SKU}@${WH}`, 10]]), journeys },
  };
}

/** The invariants (by the start of their name) that a snapshot violates. */
function violated(snapshot: Snapshot, facts: RunFacts): string[] {
  return checkInvariants(snapshot, facts)
    .filter((r) => r.violations.length > 0)
    .map((r) => r.name.split(' (')[0]!);
}

const doc = (docs: Doc[], id: string) => docs.find((d) => d._id === id)!;

it('a healthy run holds every invariant, each checked over the documents and events given', () => {
  const { snapshot, facts } = healthy();
  const results = checkInvariants(snapshot, facts);
  expect(results.map((r) => [r.name.split(' (')[0], r.violations])).toEqual([
    ['no order lost', []],
    ['no order stuck', []],
    ['no oversell', []],
    ['no double capture', []],
    ['every hold accounted for', []],
    ['every authorisation accounted for', []],
    ['exactly one event per state change', []],
    ['no event left unpublished', []],
  ]);
  expect(results.find((r) => r.name.startsWith('exactly'))?.checked).toMatch(
    /^12 messages \(12 versioned\) on 2 topics/,
  );
});

it('an acknowledged order that is not stored is a lost order', () => {
  const { snapshot, facts } = healthy();
  snapshot.orders = snapshot.orders.filter((o) => o._id !== 'o-2');
  expect(violated(snapshot, facts)).toContain('no order lost');
});

it('an order left PENDING, or with work left, is stuck; so is a journey that gave up', () => {
  const a = healthy();
  doc(a.snapshot.orders, 'o-2').status = 'PENDING';
  expect(violated(a.snapshot, a.facts)).toContain('no order stuck');
  const b = healthy();
  doc(b.snapshot.orders, 'o-1').tasks = [{ kind: 'CAPTURE' }];
  expect(violated(b.snapshot, b.facts)).toEqual(['no order stuck']);
  const c = healthy();
  c.facts.journeys[0]!.failure = 'GetOrder: still failing at the deadline';
  expect(violated(c.snapshot, c.facts)).toEqual(['no order stuck']);
});

it('stock below zero, or goods gone without a committed hold, is an oversell', () => {
  const a = healthy();
  Object.assign(doc(a.snapshot.stock, 's-1'), { onHand: -1, free: -1 });
  expect(violated(a.snapshot, a.facts)).toContain('no oversell');
  const b = healthy();
  Object.assign(doc(b.snapshot.stock, 's-1'), { onHand: 7, free: 7 });
  expect(violated(b.snapshot, b.facts)).toEqual(['no oversell']);
});

it('a second capture, under another key or the same one, is a double capture', () => {
  const a = healthy();
  const p = doc(a.snapshot.payments, 'pay-1') as Doc & { ledger: unknown[]; balances: { captured: number } };
  p.ledger.push({ kind: 'CAPTURE', key: 'o-1:capture:g1', amountMinor: 5000 });
  expect(violated(a.snapshot, a.facts)).toContain('no double capture');
  const b = healthy();
  const q = doc(b.snapshot.payments, 'pay-1') as Doc & {
    ledger: unknown[];
    balances: { captured: number; authorized: number };
  };
  q.ledger.push({ kind: 'CAPTURE', key: 'o-1:capture:again', amountMinor: 5000 });
  q.balances.captured = 10000;
  q.balances.authorized = 10000;
  expect(violated(b.snapshot, b.facts)).toContain('no double capture');
});

it('a hold left open, or committed for a cancelled order, is not accounted for', () => {
  const a = healthy();
  doc(a.snapshot.holds, 'h-2').status = 'ACTIVE';
  expect(violated(a.snapshot, a.facts)).toContain('every hold accounted for');
  const b = healthy();
  doc(b.snapshot.holds, 'h-2').status = 'COMMITTED';
  expect(violated(b.snapshot, b.facts)).toContain('every hold accounted for');
});

it('an authorisation neither captured nor voided, or a second payment for an order, is not accounted for', () => {
  const a = healthy();
  Object.assign(doc(a.snapshot.payments, 'pay-2'), {
    status: 'AUTHORIZED',
    balances: { authorized: 2500, captured: 0, voided: 0, refunded: 0 },
  });
  expect(violated(a.snapshot, a.facts)).toContain('every authorisation accounted for');
  const b = healthy();
  b.snapshot.payments.push({ ...doc(b.snapshot.payments, 'pay-2'), _id: 'pay-3' });
  expect(violated(b.snapshot, b.facts)).toContain('every authorisation accounted for');
});

it('one change published under two ids, a status never published, or events out of order break one event per change', () => {
  const a = healthy();
  const shipped = a.snapshot.events.find((e) => e.type.endsWith('OrderShipped'))!;
  a.snapshot.events.push({ ...shipped, id: 'another-id' });
  expect(violated(a.snapshot, a.facts)).toEqual(['exactly one event per state change']);
  const b = healthy();
  b.snapshot.events = b.snapshot.events.filter((e) => !e.type.endsWith('OrderCompleted'));
  expect(violated(b.snapshot, b.facts)).toEqual(['exactly one event per state change']);
  const c = healthy();
  const i = c.snapshot.events.findIndex((e) => e.type.endsWith('OrderInFulfillment'));
  const [moved] = c.snapshot.events.splice(i, 1);
  c.snapshot.events.splice(i + 2, 0, moved!);
  expect(violated(c.snapshot, c.facts)).toEqual(['exactly one event per state change']);
});

it('an event still in an outbox is unpublished', () => {
  const { snapshot, facts } = healthy();
  doc(snapshot.fulfilments, 'f-1').outbox = [{ id: 'e-1' }];
  expect(violated(snapshot, facts)).toEqual(['no event left unpublished']);
});

it('one change passing through two statuses (delivered and completed in one write) is one change, not a missing one', () => {
  const { snapshot, facts } = healthy();
  const o = doc(snapshot.orders, 'o-1') as Doc & { timeline: { status: string }[] };
  o.timeline = o.timeline.filter((t) => t.status !== 'DELIVERED');
  expect(violated(snapshot, facts)).toEqual([]);
  // But the last event must announce the status the order is in.
  doc(snapshot.orders, 'o-2').status = 'COMPLETED';
  expect(violated(snapshot, facts)).toContain('exactly one event per state change');
});

it('the partner must receive every event of its orders, signed, in order, and nothing about another’s order', () => {
  const { snapshot, facts } = healthy();
  const ordersEvents = snapshot.events.filter((e) => e.topic.endsWith('orders.v1'));
  for (const e of ordersEvents)
    if (e.key === 'o-1') e.aggregate = { ...e.aggregate, marketplace: { partnerId: 'p-1' } };
  const webhook = (e: PublishedEvent) => ({
    id: e.id,
    type: e.type,
    orderId: e.key,
    version: e.version,
    verified: true,
  });
  const theirs = ordersEvents.filter((e) => e.key === 'o-1');
  const unique = theirs.filter((e, i) => theirs.findIndex((x) => x.id === e.id) === i);
  const partner = (received: ReturnType<typeof webhook>[]) => ({ ...facts, partner: { id: 'p-1', received } });

  expect(violated(snapshot, partner(unique.map(webhook)))).toEqual([]);
  // A repeat of an id is allowed; a missing event, a bad signature, another's order or a late older event are not.
  expect(violated(snapshot, partner([...unique.map(webhook), webhook(unique[0]!)]))).toEqual([]);
  const name =
    'the partner received every event of its orders by webhook, signed, in order per order, and no one else’s';
  const short = name.split(' (')[0]!;
  expect(violated(snapshot, partner(unique.slice(1).map(webhook)))).toEqual([short]);
  expect(violated(snapshot, partner(unique.map((e, i) => ({ ...webhook(e), verified: i !== 2 }))))).toEqual([short]);
  const foreign = ordersEvents.find((e) => e.key === 'o-2')!;
  expect(violated(snapshot, partner([...unique.map(webhook), webhook(foreign)]))).toEqual([short]);
  expect(violated(snapshot, partner([...unique.slice(2), ...unique.slice(0, 2)].map(webhook)))).toEqual([short]);
});
