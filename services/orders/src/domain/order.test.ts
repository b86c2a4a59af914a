import { OrderError } from './errors';
import { ORDER_TRANSITIONS } from './lifecycle';
import { isEndlessAisle, Order, type OrderPolicy } from './order';
import type { Placement } from './placement';
import type { Allocation, FulfilmentType, OrderEvent, OrderState, PaymentRequest, TaskOutcome } from './types';

const t0 = new Date('2026-11-22T12:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const cny = (amountMinor: number) => ({ currency: 'CNY', amountMinor });
const policy: OrderPolicy = {
  placementTimeoutMs: 60_000,
  placementHoldTtlMs: 15 * 60_000,
  walletPayTtlMs: 10 * 60_000,
  confirmedHoldTtlMs: 72 * 3_600_000,
  maxReroutes: 2,
};
const PRICES: Record<string, number> = { A: 1000, B: 250, C: 75 };

function placement(overrides: Partial<Placement> = {}): Placement {
  return {
    requestId: 'req-1',
    channel: 'WEB',
    customerId: 'cust-1',
    lines: [
      { skuCode: 'A', quantity: 2 },
      { skuCode: 'B', quantity: 3 },
    ],
    currency: 'CNY',
    fulfilment: {
      type: 'HOME_DELIVERY',
      delivery: { point: { latitude: 31.2, longitude: 121.5 }, recipientName: 'Li', recipientPhone: '1' },
    },
    payment: { method: 'CARD', cardLast4: '4242' },
    cardNumber: '4242424242424242',
    ...overrides,
  };
}

const priced = (order: Order): TaskOutcome => ({
  kind: 'priced',
  skus: order.snapshot().lines.map((l) => ({
    skuCode: l.skuCode,
    unitPrice: cny(PRICES[l.skuCode]!),
    productId: `p-${l.skuCode}`,
    productName: `Product ${l.skuCode}`,
  })),
});
const alloc = (locationId: string, items: [string, number][]): Allocation => ({
  locationId,
  items: items.map(([skuCode, quantity]) => ({ skuCode, quantity })),
  distanceM: 1200,
  sameDay: true,
});
/** A and B from one warehouse. */
const oneGroup = [
  alloc('wh-1', [
    ['A', 2],
    ['B', 3],
  ]),
];
/** A from a warehouse (2000), B from a store (750). */
const twoGroups = [alloc('wh-1', [['A', 2]]), alloc('store-7', [['B', 3]])];

/** Completes the first queued task, which must be of `kind`. */
function step(order: Order, kind: string, outcome: TaskOutcome, now = t0): OrderEvent[] {
  const task = order.nextTask();
  expect(task?.kind).toBe(kind);
  return order.completeTask(task!.id, outcome, now, policy);
}

function place(overrides: Partial<Placement> = {}, now = t0): Order {
  return Order.place('o-1', placement(overrides), now, policy).order;
}

/** Runs the saga up to the authorisation (every hold held). */
function heldOrder(allocations = oneGroup, overrides: Partial<Placement> = {}): Order {
  const order = place(overrides);
  step(order, 'PRICE', priced(order));
  step(order, 'PLAN', { kind: 'planned', allocations });
  for (let i = 0; i < allocations.length; i++) step(order, 'HOLD', { kind: 'held' });
  return order;
}

function confirmedOrder(allocations = oneGroup, overrides: Partial<Placement> = {}): Order {
  const order = heldOrder(allocations, overrides);
  const total = order.snapshot().totalMinor;
  step(order, 'AUTHORIZE', { kind: 'authorized', paymentId: 'pay-1', amount: cny(total) });
  return order;
}

/** Completes every queued task with a fitting success, as the services would answer. */
function drain(order: Order, now = t0): OrderEvent[] {
  const events: OrderEvent[] = [];
  for (let task = order.nextTask(); task; task = order.nextTask()) {
    const outcome: TaskOutcome =
      task.kind === 'CAPTURE'
        ? { kind: 'captured', amount: task.amount }
        : task.kind === 'REFUND'
          ? { kind: 'refunded', amount: task.amount }
          : { kind: 'done' };
    events.push(...order.completeTask(task.id, outcome, now, policy));
  }
  return events;
}

const kinds = (order: Order) => order.snapshot().tasks.map((t) => t.kind);
const taskList = (order: Order) =>
  order.snapshot().tasks.map((t) => ('groupId' in t ? `${t.kind}:${t.groupId}` : t.kind));
const types = (events: OrderEvent[]) => events.map((e) => e.type);

function kindOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof OrderError) return error.kind;
    throw error;
  }
  throw new Error('expected an OrderError');
}

/** Every consecutive pair of statuses in the timeline is allowed by the lifecycle table. */
function expectLegalTimeline(state: OrderState): void {
  state.timeline.forEach((entry, i) => {
    expect(entry.sequence).toBe(i + 1);
    const before = state.timeline[i - 1];
    if (before && before.status !== entry.status) {
      expect(ORDER_TRANSITIONS[before.status]).toContain(entry.status);
    }
  });
}

describe('Order placement saga', () => {
  it('places PENDING with pricing queued and OrderPlaced', () => {
    const { order, events } = Order.place('o-1', placement(), t0, policy);
    const s = order.snapshot();
    expect(types(events)).toEqual(['OrderPlaced']);
    expect(s).toMatchObject({ id: 'o-1', status: 'PENDING', version: 1, totalMinor: 0, nextRunAt: t0 });
    expect(s.placementDeadline).toEqual(at(60_000));
    expect(s.tasks).toEqual([{ kind: 'PRICE', id: 1, attempts: 0 }]);
    expect(s.payment).toEqual({
      method: 'CARD',
      cardLast4: '4242',
      authorizedMinor: 0,
      capturedMinor: 0,
      refundedMinor: 0,
    });
    expect(JSON.stringify(s)).not.toContain('4242424242424242');
    expect(s.timeline).toEqual([{ sequence: 1, at: t0, status: 'PENDING', cause: 'placed on WEB' }]);
  });

  it('card happy path: PRICE → PLAN → HOLD per group → AUTHORIZE → CONFIRMED with the holds extended', () => {
    const order = place();
    const events: OrderEvent[] = [];
    events.push(...step(order, 'PRICE', priced(order)));
    let s = order.snapshot();
    expect(s.totalMinor).toBe(2 * 1000 + 3 * 250);
    expect(s.lines[0]).toMatchObject({ unitPrice: cny(1000), productId: 'p-A', productName: 'Product A' });

    events.push(...step(order, 'PLAN', { kind: 'planned', allocations: twoGroups }, at(1)));
    s = order.snapshot();
    expect(s.groups.map((g) => [g.id, g.locationId, g.status, g.holdId, g.amount.amountMinor])).toEqual([
      ['g1', 'wh-1', 'PENDING', 'o-1.g1', 2000],
      ['g2', 'store-7', 'PENDING', 'o-1.g2', 750],
    ]);
    expect(s.tasks).toMatchObject([
      { kind: 'HOLD', groupId: 'g1', expiresAt: at(1 + policy.placementHoldTtlMs) },
      { kind: 'HOLD', groupId: 'g2' },
    ]);

    events.push(...step(order, 'HOLD', { kind: 'held' }));
    expect(kinds(order)).toEqual(['HOLD']);
    events.push(...step(order, 'HOLD', { kind: 'held' }));
    expect(order.snapshot().payment.authorizeStarted).toBe(true);
    events.push(...step(order, 'AUTHORIZE', { kind: 'authorized', paymentId: 'pay-1', amount: cny(2750) }, at(5)));

    s = order.snapshot();
    expect(s.status).toBe('CONFIRMED');
    expect(s.groups.map((g) => g.status)).toEqual(['CONFIRMED', 'CONFIRMED']);
    expect(s.payment).toMatchObject({ paymentId: 'pay-1', authorizedMinor: 2750, capturedMinor: 0 });
    expect(s.tasks).toMatchObject([
      { kind: 'EXTEND_HOLD', groupId: 'g1', expiresAt: at(5 + policy.confirmedHoldTtlMs) },
      { kind: 'EXTEND_HOLD', groupId: 'g2' },
    ]);
    expect(types(events)).toEqual(['OrderConfirmed']);
    expect(isEndlessAisle(s)).toBe(false);

    drain(order);
    s = order.snapshot();
    expect(s.tasks).toEqual([]);
    expect(s.nextRunAt).toBeUndefined();
    expect(s.status).toBe('CONFIRMED');
    expectLegalTimeline(s);
    expect(s.timeline.map((e) => e.cause)).toEqual([
      'placed on WEB',
      'priced: 2750 CNY',
      'sourced from wh-1, store-7',
      'stock held at wh-1',
      'stock held at store-7',
      'payment authorised',
      'confirmed',
      'hold extended until dispatch',
      'hold extended until dispatch',
    ]);
  });

  it('each step bumps the version once', () => {
    const order = place();
    expect(order.version).toBe(1);
    step(order, 'PRICE', priced(order));
    expect(order.version).toBe(2);
    step(order, 'PLAN', { kind: 'planned', allocations: oneGroup });
    expect(order.version).toBe(3);
  });

  it('a kiosk sale fulfilled from another location is endless aisle', () => {
    const order = heldOrder(twoGroups, { channel: 'STORE_KIOSK', storeId: 'store-7' });
    expect(isEndlessAisle(order.snapshot())).toBe(true);
    const local = heldOrder(
      [
        alloc('store-7', [
          ['A', 2],
          ['B', 3],
        ]),
      ],
      { channel: 'STORE_KIOSK', storeId: 'store-7' },
    );
    expect(isEndlessAisle(local.snapshot())).toBe(false);
  });

  describe('wallet QR', () => {
    const wallet: Partial<Placement> = { payment: { method: 'WALLET_QR', walletChannel: 'ALIPAY' } };
    const { cardNumber: _c, ...noCard } = placement(wallet);

    function awaiting(): Order {
      const order = Order.place('o-1', noCard, t0, policy).order;
      step(order, 'PRICE', priced(order));
      step(order, 'PLAN', { kind: 'planned', allocations: twoGroups });
      expect(order.snapshot().tasks[0]).toMatchObject({
        expiresAt: at(policy.walletPayTtlMs + 5 * 60_000),
      });
      step(order, 'HOLD', { kind: 'held' });
      step(order, 'HOLD', { kind: 'held' });
      const events = step(order, 'AUTHORIZE', {
        kind: 'awaiting-payment',
        paymentId: 'pay-w',
        qrPayload: 'qr://x',
        payBy: at(600_000),
      });
      expect(types(events)).toEqual(['OrderAwaitingPayment']);
      return order;
    }

    it('waits in AWAITING_PAYMENT with the QR, stock held, nothing queued', () => {
      const s = awaiting().snapshot();
      expect(s.status).toBe('AWAITING_PAYMENT');
      expect(s.payment).toMatchObject({ paymentId: 'pay-w', walletQrPayload: 'qr://x', payBy: at(600_000) });
      expect(s.groups.map((g) => g.status)).toEqual(['HELD', 'HELD']);
      expect(s.tasks).toEqual([]);
    });

    it('paymentAuthorized → CONFIRMED with the holds extended; another payment id is ignored', () => {
      const order = awaiting();
      const before = order.snapshot();
      expect(order.paymentAuthorized('pay-other', cny(2750), at(10), policy)).toEqual([]);
      expect(order.snapshot()).toEqual(before);
      expect(types(order.paymentAuthorized('pay-w', cny(2750), at(10), policy))).toEqual(['OrderConfirmed']);
      const s = order.snapshot();
      expect(s.status).toBe('CONFIRMED');
      expect(s.payment.authorizedMinor).toBe(2750);
      expect(taskList(order)).toEqual(['EXTEND_HOLD:g1', 'EXTEND_HOLD:g2']);
      // An echo of the same event changes nothing.
      const v = order.version;
      expect(order.paymentAuthorized('pay-w', cny(2750), at(11), policy)).toEqual([]);
      expect(order.version).toBe(v);
    });

    it('paymentFailed → CANCELLED with every hold released and the QR voided', () => {
      const order = awaiting();
      expect(order.paymentFailed('pay-other', 'expired', at(10))).toEqual([]);
      const events = order.paymentFailed('pay-w', 'expired', at(10));
      expect(events).toEqual([{ type: 'OrderCancelled', reason: 'wallet payment expired unpaid' }]);
      const s = order.snapshot();
      expect(s.status).toBe('CANCELLED');
      expect(s.groups.map((g) => g.status)).toEqual(['CANCELLED', 'CANCELLED']);
      expect(taskList(order)).toEqual(['RELEASE_HOLD:g1', 'RELEASE_HOLD:g2', 'VOID_PAYMENTS']);
      expect(order.paymentFailed('pay-w', 'declined', at(11))).toEqual([]);
    });

    it('a wallet paid before the saga recorded its QR is confirmed as soon as the QR is recorded', () => {
      const order = Order.place('o-1', noCard, t0, policy).order;
      step(order, 'PRICE', priced(order));
      step(order, 'PLAN', { kind: 'planned', allocations: twoGroups });
      step(order, 'HOLD', { kind: 'held' });
      step(order, 'HOLD', { kind: 'held' });
      // The AUTHORIZE answer is on its way when the payment's event arrives.
      expect(order.paymentAuthorized('pay-w', cny(2750), at(1), policy)).toEqual([]);
      expect(order.status).toBe('PENDING');
      const v = order.version;
      order.paymentAuthorized('pay-w', cny(2750), at(1), policy);
      expect(order.version).toBe(v);
      const events = step(order, 'AUTHORIZE', {
        kind: 'awaiting-payment',
        paymentId: 'pay-w',
        qrPayload: 'qr://x',
        payBy: at(600_000),
      });
      expect(types(events)).toEqual(['OrderAwaitingPayment', 'OrderConfirmed']);
      expect(order.snapshot().payment.authorizedMinor).toBe(2750);
      expect(taskList(order)).toEqual(['EXTEND_HOLD:g1', 'EXTEND_HOLD:g2']);
    });

    it('a payment after cancellation queues VOID_PAYMENTS once', () => {
      const order = awaiting();
      order.cancel('changed my mind', at(1));
      drain(order);
      expect(order.paymentAuthorized('pay-w', cny(2750), at(2), policy)).toEqual([]);
      expect(kinds(order)).toEqual(['VOID_PAYMENTS']);
      expect(order.snapshot().status).toBe('CANCELLED');
      const v = order.version;
      order.paymentAuthorized('pay-w', cny(2750), at(3), policy);
      expect(kinds(order)).toEqual(['VOID_PAYMENTS']);
      expect(order.version).toBe(v);
    });
  });

  it('POS carry-out paid at the till completes at once with the holds committed', () => {
    const order = heldOrder(
      [
        alloc('store-1', [
          ['A', 2],
          ['B', 3],
        ]),
      ],
      {
        channel: 'STORE_POS',
        customerId: undefined,
        storeId: 'store-1',
        associateId: 'as-1',
        fulfilment: { type: 'IN_STORE_CARRY_OUT' },
        payment: { method: 'CASH' },
        cardNumber: undefined,
      },
    );
    const events = step(order, 'AUTHORIZE', { kind: 'paid', paymentId: 'pay-c', amount: cny(2750) });
    expect(types(events)).toEqual(['OrderConfirmed', 'OrderCompleted']);
    const s = order.snapshot();
    expect(s.status).toBe('COMPLETED');
    expect(s.groups[0]).toMatchObject({ status: 'HANDED_OVER', dispatched: true, captured: true });
    expect(s.payment).toMatchObject({ authorizedMinor: 2750, capturedMinor: 2750 });
    expect(taskList(order)).toEqual(['COMMIT_HOLD:g1']);
    expectLegalTimeline(s);
  });

  it('POS carry-out by card: captured after the hand-over, COMPLETED once the capture is done', () => {
    const order = heldOrder(oneGroup, {
      channel: 'STORE_POS',
      storeId: 'store-1',
      associateId: 'as-1',
      fulfilment: { type: 'IN_STORE_CARRY_OUT' },
    });
    step(order, 'AUTHORIZE', { kind: 'authorized', paymentId: 'pay-1', amount: cny(2750) });
    expect(order.status).toBe('CONFIRMED');
    expect(taskList(order)).toEqual(['COMMIT_HOLD:g1', 'CAPTURE:g1']);
    step(order, 'COMMIT_HOLD', { kind: 'done' });
    expect(types(step(order, 'CAPTURE', { kind: 'captured', amount: cny(2750) }))).toEqual(['OrderCompleted']);
    expect(order.status).toBe('COMPLETED');
  });
});

describe('Order placement rejections', () => {
  it('pricing refused → REJECTED, nothing to compensate', () => {
    const order = place();
    const events = step(order, 'PRICE', { kind: 'refused', reason: 'SKU "B" is not sellable' });
    expect(events).toEqual([{ type: 'OrderRejected', reason: 'pricing failed: SKU "B" is not sellable' }]);
    const s = order.snapshot();
    expect(s).toMatchObject({ status: 'REJECTED', statusReason: 'pricing failed: SKU "B" is not sellable' });
    expect(s.tasks).toEqual([]);
    expect(s.nextRunAt).toBeUndefined();
  });

  it('a price in another currency, or a missing SKU, rejects', () => {
    const order = place();
    step(order, 'PRICE', {
      kind: 'priced',
      skus: [{ skuCode: 'A', unitPrice: { currency: 'USD', amountMinor: 1 }, productId: 'p', productName: 'n' }],
    });
    expect(order.status).toBe('REJECTED');
    expect(order.snapshot().statusReason).toBe('pricing failed: SKU "A" has no price in CNY');
  });

  it('plan refused, or a plan that does not cover the lines exactly → REJECTED without tasks', () => {
    const refused = place();
    step(refused, 'PRICE', priced(refused));
    step(refused, 'PLAN', { kind: 'refused', reason: 'no location has SKU "A"' });
    expect(refused.snapshot()).toMatchObject({
      status: 'REJECTED',
      statusReason: 'out of stock: no location has SKU "A"',
    });
    expect(refused.snapshot().tasks).toEqual([]);

    const short = place();
    step(short, 'PRICE', priced(short));
    step(short, 'PLAN', {
      kind: 'planned',
      allocations: [
        alloc('wh-1', [
          ['A', 2],
          ['B', 2],
        ]),
      ],
    });
    expect(short.snapshot().statusReason).toBe('sourcing failed: the plan does not cover SKU "B" exactly');
    expect(short.snapshot().tasks).toEqual([]);

    const extra = place();
    step(extra, 'PRICE', priced(extra));
    step(extra, 'PLAN', { kind: 'planned', allocations: [...oneGroup, alloc('wh-2', [['C', 1]])] });
    expect(extra.snapshot().statusReason).toBe('sourcing failed: the plan has items the order does not');

    const empty = place();
    step(empty, 'PRICE', priced(empty));
    step(empty, 'PLAN', { kind: 'planned', allocations: [] });
    expect(empty.status).toBe('REJECTED');
  });

  it('a short hold with another group already held → REJECTED, RELEASE_HOLD for every group, no void', () => {
    const order = place();
    step(order, 'PRICE', priced(order));
    step(order, 'PLAN', { kind: 'planned', allocations: twoGroups });
    step(order, 'HOLD', { kind: 'held' });
    const events = step(order, 'HOLD', {
      kind: 'short',
      shortages: [{ skuCode: 'B', locationId: 'store-7', requested: 3, available: 1 }],
    });
    expect(events).toEqual([
      { type: 'OrderRejected', reason: 'out of stock: SKU "B" at store-7: 3 requested, 1 available' },
    ]);
    const s = order.snapshot();
    expect(s.groups.map((g) => g.status)).toEqual(['CANCELLED', 'CANCELLED']);
    expect(taskList(order)).toEqual(['RELEASE_HOLD:g1', 'RELEASE_HOLD:g2']);
  });

  it('a short first hold drops the other HOLD task and releases both', () => {
    const order = place();
    step(order, 'PRICE', priced(order));
    step(order, 'PLAN', { kind: 'planned', allocations: twoGroups });
    step(order, 'HOLD', { kind: 'short', shortages: [] });
    expect(taskList(order)).toEqual(['RELEASE_HOLD:g1', 'RELEASE_HOLD:g2']);
  });

  it('declined → REJECTED, holds released and payments voided', () => {
    const order = heldOrder(twoGroups);
    const events = step(order, 'AUTHORIZE', { kind: 'declined', paymentId: 'pay-d', reason: 'insufficient funds' });
    expect(events).toEqual([{ type: 'OrderRejected', reason: 'payment declined: insufficient funds' }]);
    expect(order.snapshot().payment.paymentId).toBe('pay-d');
    expect(taskList(order)).toEqual(['RELEASE_HOLD:g1', 'RELEASE_HOLD:g2', 'VOID_PAYMENTS']);
    expectLegalTimeline(order.snapshot());
  });

  it('authorisation refused → REJECTED with the same compensations', () => {
    const order = heldOrder();
    step(order, 'AUTHORIZE', { kind: 'refused', reason: 'currency not supported' });
    expect(order.snapshot().statusReason).toBe('payment failed: currency not supported');
    expect(taskList(order)).toEqual(['RELEASE_HOLD:g1', 'VOID_PAYMENTS']);
  });
});

describe('Order retries and the placement deadline', () => {
  it('a retry keeps the task, counts the attempt and backs off exponentially', () => {
    const order = place();
    const id = order.nextTask()!.id;
    const backoffs: number[] = [];
    for (let i = 0; i < 10; i++) {
      expect(order.completeTask(id, { kind: 'retry', error: 'catalogue unavailable' }, at(1000), policy)).toEqual([]);
      backoffs.push(order.snapshot().nextRunAt!.getTime() - at(1000).getTime());
    }
    expect(backoffs).toEqual([200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
    const s = order.snapshot();
    expect(s.tasks).toEqual([{ kind: 'PRICE', id, attempts: 10, lastError: 'catalogue unavailable' }]);
    expect(s.status).toBe('PENDING');
    expect(s.version).toBe(11);
    // The next answer runs the saga on, due at once.
    step(order, 'PRICE', priced(order), at(2000));
    expect(order.snapshot().nextRunAt).toEqual(at(2000));
  });

  it('a retry past the deadline rejects with compensations (VOID_PAYMENTS once AUTHORIZE was tried)', () => {
    const order = heldOrder(twoGroups);
    step(order, 'AUTHORIZE', { kind: 'retry', error: 'payments unavailable' }, at(30_000));
    expect(order.status).toBe('PENDING');
    const events = step(order, 'AUTHORIZE', { kind: 'retry', error: 'payments unavailable' }, at(60_000));
    expect(events).toEqual([
      {
        type: 'OrderRejected',
        reason: 'could not be placed in time (authorize: payments unavailable)',
      },
    ]);
    expect(taskList(order)).toEqual(['RELEASE_HOLD:g1', 'RELEASE_HOLD:g2', 'VOID_PAYMENTS']);
    expect(order.snapshot().nextRunAt).toEqual(at(60_000));
  });

  it('a pricing retry past the deadline rejects with nothing to compensate', () => {
    const order = place();
    step(order, 'PRICE', { kind: 'retry', error: 'down' }, at(61_000));
    expect(order.status).toBe('REJECTED');
    expect(order.snapshot().tasks).toEqual([]);
    expect(order.snapshot().nextRunAt).toBeUndefined();
  });

  it('a compensation retried past the deadline is simply retried', () => {
    const order = heldOrder();
    step(order, 'AUTHORIZE', { kind: 'declined', reason: 'no' });
    step(order, 'RELEASE_HOLD', { kind: 'retry', error: 'inventory down' }, at(120_000));
    expect(order.snapshot().tasks[0]).toMatchObject({ kind: 'RELEASE_HOLD', attempts: 1 });
    expect(order.snapshot().nextRunAt).toEqual(at(120_200));
  });

  it('completing an unknown task id changes nothing', () => {
    const order = place();
    const before = order.snapshot();
    expect(order.completeTask(99, priced(order), at(1), policy)).toEqual([]);
    expect(order.completeTask(99, { kind: 'retry', error: 'x' }, at(1), policy)).toEqual([]);
    expect(order.snapshot()).toEqual(before);
  });
});

describe('Order cancellation', () => {
  it('is refused while PENDING and once REJECTED', () => {
    const order = place();
    expect(kindOf(() => order.cancel('no', at(1)))).toBe('failed-precondition');
    step(order, 'PRICE', { kind: 'refused', reason: 'x' });
    const before = order.snapshot();
    expect(kindOf(() => order.cancel('no', at(1)))).toBe('failed-precondition');
    expect(order.snapshot()).toEqual(before);
  });

  it('CONFIRMED → CANCELLED: holds released, payment voided; a repeat changes nothing', () => {
    const order = confirmedOrder(twoGroups);
    drain(order);
    expect(order.cancel('customer asked', at(1))).toEqual([{ type: 'OrderCancelled', reason: 'customer asked' }]);
    const s = order.snapshot();
    expect(s).toMatchObject({ status: 'CANCELLED', statusReason: 'customer asked' });
    expect(taskList(order)).toEqual(['RELEASE_HOLD:g1', 'RELEASE_HOLD:g2', 'VOID_PAYMENTS']);
    expect(order.cancel('again', at(2))).toEqual([]);
    expect(order.snapshot()).toEqual(s);
    expectLegalTimeline(s);
  });

  it('IN_FULFILLMENT and READY_FOR_PICKUP may be cancelled', () => {
    const inFulfilment = confirmedOrder(twoGroups);
    inFulfilment.advanceGroup('g1', 'ACCEPTED', at(1));
    expect(inFulfilment.status).toBe('IN_FULFILLMENT');
    inFulfilment.cancel('late', at(2));
    expect(inFulfilment.status).toBe('CANCELLED');

    const ready = confirmedOrder(oneGroup, { fulfilment: { type: 'STORE_PICKUP', pickupLocationId: 'wh-1' } });
    ready.advanceGroup('g1', 'READY_FOR_PICKUP', at(1));
    expect(ready.status).toBe('READY_FOR_PICKUP');
    ready.cancel('not collected', at(2));
    expect(ready.status).toBe('CANCELLED');
  });

  it('a cash order paid at the till is refunded on cancellation', () => {
    const order = heldOrder(oneGroup, {
      channel: 'STORE_POS',
      storeId: 'store-1',
      associateId: 'as-1',
      fulfilment: { type: 'STORE_PICKUP', pickupLocationId: 'store-1' },
      payment: { method: 'CASH' },
    });
    step(order, 'AUTHORIZE', { kind: 'paid', paymentId: 'pay-c', amount: cny(2750) });
    drain(order);
    order.cancel('changed mind', at(1));
    expect(order.snapshot().tasks).toMatchObject([
      { kind: 'RELEASE_HOLD', groupId: 'g1' },
      { kind: 'VOID_PAYMENTS' },
      { kind: 'REFUND', refundId: 'cancel', amount: cny(2750) },
    ]);
  });

  it('is refused once a group is dispatched, and changes nothing', () => {
    const order = confirmedOrder(twoGroups);
    order.advanceGroup('g1', 'OUT_FOR_DELIVERY', at(1));
    const before = order.snapshot();
    expect(kindOf(() => order.cancel('too late', at(2)))).toBe('failed-precondition');
    expect(order.snapshot()).toEqual(before);
  });
});

describe('Order fulfilment', () => {
  const pickup: Partial<Placement> = { fulfilment: { type: 'STORE_PICKUP', pickupLocationId: 'store-7' } };

  it('pick-up: READY_FOR_PICKUP, then PICKED_UP commits and captures; COMPLETED once captured', () => {
    const order = confirmedOrder(oneGroup, pickup);
    drain(order);
    expect(order.advanceGroup('g1', 'ACCEPTED', at(1))).toEqual([{ type: 'OrderInFulfillment', groupId: 'g1' }]);
    expect(order.status).toBe('IN_FULFILLMENT');
    expect(order.advanceGroup('g1', 'READY_FOR_PICKUP', at(2))).toEqual([
      { type: 'OrderReadyForPickup', groupId: 'g1' },
    ]);
    expect(order.status).toBe('READY_FOR_PICKUP');
    expect(order.advanceGroup('g1', 'PICKED_UP', at(3))).toEqual([{ type: 'OrderPickedUp', groupId: 'g1' }]);
    expect(order.status).toBe('PICKED_UP');
    expect(order.snapshot().tasks).toMatchObject([
      { kind: 'COMMIT_HOLD', groupId: 'g1' },
      { kind: 'CAPTURE', groupId: 'g1', amount: cny(2750) },
    ]);
    step(order, 'COMMIT_HOLD', { kind: 'done' });
    expect(order.status).toBe('PICKED_UP');
    expect(types(step(order, 'CAPTURE', { kind: 'captured', amount: cny(2750) }))).toEqual(['OrderCompleted']);
    const s = order.snapshot();
    expect(s.status).toBe('COMPLETED');
    expect(s.payment.capturedMinor).toBe(2750);
    expect(s.groups[0]).toMatchObject({ captured: true, dispatched: true, status: 'PICKED_UP' });
    expectLegalTimeline(s);
  });

  it('delivery: OUT_FOR_DELIVERY captures; DELIVERED, then COMPLETED', () => {
    const order = confirmedOrder(twoGroups);
    drain(order);
    expect(order.advanceGroup('g1', 'OUT_FOR_DELIVERY', at(1))).toEqual([{ type: 'OrderShipped', groupId: 'g1' }]);
    expect(order.status).toBe('IN_FULFILLMENT');
    expect(order.snapshot().tasks).toMatchObject([
      { kind: 'COMMIT_HOLD', groupId: 'g1' },
      { kind: 'CAPTURE', groupId: 'g1', amount: cny(2000) },
    ]);
    order.advanceGroup('g2', 'OUT_FOR_DELIVERY', at(2));
    expect(order.status).toBe('OUT_FOR_DELIVERY');
    drain(order);
    expect(order.snapshot().payment.capturedMinor).toBe(2750);
    order.advanceGroup('g1', 'DELIVERED', at(3));
    expect(order.status).toBe('IN_FULFILLMENT');
    const events = order.advanceGroup('g2', 'DELIVERED', at(4));
    expect(types(events)).toEqual(['OrderDelivered', 'OrderCompleted']);
    expect(order.status).toBe('COMPLETED');
    expectLegalTimeline(order.snapshot());
  });

  it('DELIVERED straight from CONFIRMED (steps whose events were not sent) captures; COMPLETED after the capture', () => {
    const order = confirmedOrder();
    drain(order);
    order.advanceGroup('g1', 'DELIVERED', at(1));
    expect(order.status).toBe('DELIVERED');
    expect(taskList(order)).toEqual(['COMMIT_HOLD:g1', 'CAPTURE:g1']);
    drain(order);
    expect(order.status).toBe('COMPLETED');
  });

  it('a step the group type cannot take is refused with FAILED_PRECONDITION and changes nothing', () => {
    const delivery = confirmedOrder();
    const before = delivery.snapshot();
    expect(kindOf(() => delivery.advanceGroup('g1', 'READY_FOR_PICKUP', at(1)))).toBe('failed-precondition');
    expect(kindOf(() => delivery.advanceGroup('g1', 'PICKED_UP', at(1)))).toBe('failed-precondition');
    expect(kindOf(() => delivery.advanceGroup('g1', 'FAILED', at(1)))).toBe('failed-precondition');
    expect(delivery.snapshot()).toEqual(before);

    const pick = confirmedOrder(oneGroup, pickup);
    const pickBefore = pick.snapshot();
    expect(kindOf(() => pick.advanceGroup('g1', 'OUT_FOR_DELIVERY', at(1)))).toBe('failed-precondition');
    expect(kindOf(() => pick.advanceGroup('g1', 'DELIVERED', at(1)))).toBe('failed-precondition');
    expect(pick.snapshot()).toEqual(pickBefore);
  });

  it('going backwards, and steps before confirmation, are refused; an unknown group is NOT_FOUND', () => {
    const order = confirmedOrder();
    order.advanceGroup('g1', 'OUT_FOR_DELIVERY', at(1));
    expect(kindOf(() => order.advanceGroup('g1', 'ACCEPTED', at(2)))).toBe('failed-precondition');
    expect(kindOf(() => order.advanceGroup('g9', 'ACCEPTED', at(2)))).toBe('not-found');
    const held = heldOrder();
    expect(kindOf(() => held.advanceGroup('g1', 'ACCEPTED', at(2)))).toBe('failed-precondition');
  });

  it('a repeated step is a no-op', () => {
    const order = confirmedOrder();
    order.advanceGroup('g1', 'OUT_FOR_DELIVERY', at(1));
    const before = order.snapshot();
    expect(order.advanceGroup('g1', 'OUT_FOR_DELIVERY', at(2))).toEqual([]);
    expect(order.snapshot()).toEqual(before);
  });

  it('a failed delivery restocks and refunds the group; CANCELLED once every group failed', () => {
    const order = confirmedOrder(twoGroups);
    drain(order);
    order.advanceGroup('g1', 'OUT_FOR_DELIVERY', at(1));
    order.advanceGroup('g2', 'OUT_FOR_DELIVERY', at(1));
    drain(order);
    const first = order.advanceGroup('g1', 'FAILED', at(2), 'nobody home');
    expect(first).toEqual([{ type: 'OrderDeliveryFailed', groupId: 'g1', reason: 'nobody home' }]);
    expect(order.status).toBe('OUT_FOR_DELIVERY');
    expect(order.snapshot().tasks).toMatchObject([
      { kind: 'RESTOCK', key: 'failed-g1', locationId: 'wh-1', items: [{ skuCode: 'A', quantity: 2 }] },
      { kind: 'REFUND', refundId: 'failed-g1', amount: cny(2000), reason: 'nobody home' },
    ]);
    const second = order.advanceGroup('g2', 'FAILED', at(3));
    expect(second).toEqual([
      { type: 'OrderDeliveryFailed', groupId: 'g2', reason: 'delivery failed' },
      { type: 'OrderCancelled', reason: 'every delivery failed' },
    ]);
    expect(order.status).toBe('CANCELLED');
    drain(order);
    expect(order.snapshot().payment).toMatchObject({ capturedMinor: 2750, refundedMinor: 2750 });
    expectLegalTimeline(order.snapshot());
  });

  it('one failed group and one delivered: COMPLETED for the delivered part', () => {
    const order = confirmedOrder(twoGroups);
    order.advanceGroup('g1', 'OUT_FOR_DELIVERY', at(1));
    order.advanceGroup('g2', 'OUT_FOR_DELIVERY', at(1));
    drain(order);
    order.advanceGroup('g1', 'DELIVERED', at(2));
    order.advanceGroup('g2', 'FAILED', at(3));
    expect(order.status).toBe('COMPLETED');
  });

  // The groups left all CONFIRMED after another failed: the order stays IN_FULFILLMENT (it never goes back).
  it('a failed delivery while another group has not started is accepted', () => {
    const order = confirmedOrder(twoGroups);
    drain(order);
    order.advanceGroup('g1', 'OUT_FOR_DELIVERY', at(1));
    drain(order);
    expect(order.status).toBe('IN_FULFILLMENT');
    const events = order.advanceGroup('g1', 'FAILED', at(2), 'address not found');
    expect(types(events)).toContain('OrderDeliveryFailed');
    expect(order.snapshot().groups.map((g) => g.status)).toEqual(['DELIVERY_FAILED', 'CONFIRMED']);
    expect(kinds(order)).toEqual(['RESTOCK', 'REFUND']);
    expectLegalTimeline(order.snapshot());
  });

  // The failed group's refund is already queued: the cancellation refunds only what is left.
  it('cancelling after a failed delivery does not refund the failed group twice', () => {
    const order = confirmedOrder(twoGroups);
    drain(order);
    order.advanceGroup('g2', 'ACCEPTED', at(1));
    order.advanceGroup('g1', 'OUT_FOR_DELIVERY', at(1));
    step(order, 'COMMIT_HOLD', { kind: 'done' });
    step(order, 'CAPTURE', { kind: 'captured', amount: cny(2000) });
    order.advanceGroup('g1', 'FAILED', at(2), 'parcel damaged');
    order.cancel('customer gave up', at(3));
    const refunds = order
      .snapshot()
      .tasks.flatMap((t) => (t.kind === 'REFUND' ? [t.amount.amountMinor] : []))
      .reduce((a, b) => a + b, 0);
    expect(refunds).toBeLessThanOrEqual(order.snapshot().payment.capturedMinor);
    drain(order);
    expect(order.snapshot().payment.refundedMinor).toBeLessThanOrEqual(order.snapshot().payment.capturedMinor);
  });
});

describe('Order pick-up expiry', () => {
  const pickup: Partial<Placement> = { fulfilment: { type: 'STORE_PICKUP', pickupLocationId: 'store-7' } };

  /** A confirmed pick-up order with every group READY_FOR_PICKUP and the confirmation's tasks done. */
  function ready(allocations = oneGroup, overrides: Partial<Placement> = {}): Order {
    const order = confirmedOrder(allocations, { ...pickup, ...overrides });
    drain(order);
    for (const g of order.snapshot().groups) order.advanceGroup(g.id, 'READY_FOR_PICKUP', at(1));
    return order;
  }

  it('the only group: hold released, payment voided, CANCELLED "pick-up not collected"; a repeat changes nothing', () => {
    const order = ready();
    expect(order.status).toBe('READY_FOR_PICKUP');
    const events = order.advanceGroup('g1', 'PICKUP_EXPIRED', at(2));
    expect(events).toEqual([{ type: 'OrderCancelled', reason: 'pick-up not collected' }]);
    let s = order.snapshot();
    expect(s).toMatchObject({ status: 'CANCELLED', statusReason: 'pick-up not collected' });
    expect(s.groups[0]).toMatchObject({ status: 'CANCELLED', dispatched: false, captured: false });
    expect(s.tasks).toMatchObject([
      { kind: 'RELEASE_HOLD', groupId: 'g1', reason: 'pick-up not collected' },
      { kind: 'VOID_PAYMENTS', reason: 'pick-up not collected' },
    ]);
    expect(s.timeline.slice(-2)).toMatchObject([
      { status: 'READY_FOR_PICKUP', cause: 'delivery: pick-up expired (not collected)', groupId: 'g1' },
      { status: 'CANCELLED', cause: 'cancelled: pick-up not collected' },
    ]);
    expectLegalTimeline(s);

    const before = order.snapshot();
    expect(order.advanceGroup('g1', 'PICKUP_EXPIRED', at(3))).toEqual([]);
    expect(order.snapshot()).toEqual(before);
    drain(order);
    s = order.snapshot();
    expect(s.payment).toMatchObject({ capturedMinor: 0, refundedMinor: 0 });
    expect(s.timeline.slice(-2).map((e) => e.cause)).toEqual(['hold released', 'payment voided']);
    // Nothing more can happen to it: a late PickedUp is refused, a repeated expiry still changes nothing.
    expect(kindOf(() => order.advanceGroup('g1', 'PICKED_UP', at(4)))).toBe('failed-precondition');
    expect(order.advanceGroup('g1', 'PICKUP_EXPIRED', at(4))).toEqual([]);
  });

  it('one of two groups, the other collected and captured: the expired share is never captured; COMPLETED', () => {
    const order = ready(twoGroups);
    order.advanceGroup('g2', 'PICKED_UP', at(2));
    drain(order);
    expect(order.status).toBe('IN_FULFILLMENT');
    expect(order.snapshot().payment).toMatchObject({ authorizedMinor: 2750, capturedMinor: 750 });

    const events = order.advanceGroup('g1', 'PICKUP_EXPIRED', at(3));
    expect(events).toEqual([{ type: 'OrderCompleted' }]);
    expect(order.status).toBe('COMPLETED');
    // The rest of the authorisation (g1's 2000) is voided; no capture of g1 is ever queued.
    expect(taskList(order)).toEqual(['RELEASE_HOLD:g1', 'VOID_PAYMENTS']);
    drain(order);
    const s = order.snapshot();
    expect(s.payment).toMatchObject({ capturedMinor: 750, refundedMinor: 0 });
    expect(s.groups.map((g) => [g.id, g.status, g.captured])).toEqual([
      ['g1', 'CANCELLED', false],
      ['g2', 'PICKED_UP', true],
    ]);
    expectLegalTimeline(s);
    // Only what the customer collected can be returned.
    expect(
      kindOf(() =>
        order.requestReturn(
          { requestId: 'rr-1', locationId: 'store-7', lines: [{ skuCode: 'A', quantity: 1 }], reason: '' },
          at(4),
        ),
      ),
    ).toBe('invalid-argument');
  });

  it('one of two groups, the other collected later: captured for that group only, the rest voided after its capture', () => {
    const order = ready(twoGroups);
    expect(order.advanceGroup('g1', 'PICKUP_EXPIRED', at(2))).toEqual([]);
    expect(order.status).toBe('READY_FOR_PICKUP');
    expect(taskList(order)).toEqual(['RELEASE_HOLD:g1']);
    drain(order);

    expect(order.advanceGroup('g2', 'PICKED_UP', at(3))).toEqual([{ type: 'OrderPickedUp', groupId: 'g2' }]);
    expect(taskList(order)).toEqual(['COMMIT_HOLD:g2', 'CAPTURE:g2', 'VOID_PAYMENTS']);
    expect(types(drain(order))).toEqual(['OrderCompleted']);
    expect(order.snapshot().payment).toMatchObject({ capturedMinor: 750 });
    expectLegalTimeline(order.snapshot());
  });

  it('both groups expire one after the other: CANCELLED, each hold released, the payment voided once', () => {
    const order = ready(twoGroups);
    order.advanceGroup('g1', 'PICKUP_EXPIRED', at(2));
    expect(types(order.advanceGroup('g2', 'PICKUP_EXPIRED', at(3)))).toEqual(['OrderCancelled']);
    expect(taskList(order)).toEqual(['RELEASE_HOLD:g1', 'RELEASE_HOLD:g2', 'VOID_PAYMENTS']);
    expect(order.snapshot().statusReason).toBe('pick-up not collected');
  });

  it('a store sale paid at the till has the expired group refunded', () => {
    const order = heldOrder(oneGroup, {
      channel: 'STORE_POS',
      storeId: 'store-7',
      associateId: 'as-1',
      ...pickup,
      payment: { method: 'CASH' },
    });
    step(order, 'AUTHORIZE', { kind: 'paid', paymentId: 'pay-c', amount: cny(2750) });
    drain(order);
    order.advanceGroup('g1', 'READY_FOR_PICKUP', at(1));
    order.advanceGroup('g1', 'PICKUP_EXPIRED', at(2));
    expect(order.status).toBe('CANCELLED');
    expect(order.snapshot().tasks).toMatchObject([
      { kind: 'RELEASE_HOLD', groupId: 'g1' },
      { kind: 'REFUND', refundId: 'expired-g1', amount: cny(2750), reason: 'pick-up not collected' },
      { kind: 'VOID_PAYMENTS' },
    ]);
    drain(order);
    expect(order.snapshot().payment).toMatchObject({ capturedMinor: 2750, refundedMinor: 2750 });
  });

  it('is refused for a delivery group and for a pick-up group not READY_FOR_PICKUP, changing nothing', () => {
    const delivery = confirmedOrder();
    const confirmedDelivery = delivery.snapshot();
    expect(kindOf(() => delivery.advanceGroup('g1', 'PICKUP_EXPIRED', at(1)))).toBe('failed-precondition');
    expect(delivery.snapshot()).toEqual(confirmedDelivery);
    // Even once its group is CANCELLED with the order: a delivery group has no pick-up to expire.
    delivery.cancel('changed my mind', at(1));
    const cancelled = delivery.snapshot();
    expect(kindOf(() => delivery.advanceGroup('g1', 'PICKUP_EXPIRED', at(2)))).toBe('failed-precondition');
    expect(delivery.snapshot()).toEqual(cancelled);

    const order = confirmedOrder(twoGroups, pickup);
    drain(order);
    const confirmed = order.snapshot();
    expect(kindOf(() => order.advanceGroup('g1', 'PICKUP_EXPIRED', at(1)))).toBe('failed-precondition');
    expect(order.snapshot()).toEqual(confirmed);
    order.advanceGroup('g1', 'ACCEPTED', at(1));
    order.advanceGroup('g2', 'READY_FOR_PICKUP', at(1));
    order.advanceGroup('g2', 'PICKED_UP', at(1));
    const moving = order.snapshot();
    expect(kindOf(() => order.advanceGroup('g1', 'PICKUP_EXPIRED', at(2)))).toBe('failed-precondition');
    expect(kindOf(() => order.advanceGroup('g2', 'PICKUP_EXPIRED', at(2)))).toBe('failed-precondition');
    expect(kindOf(() => order.advanceGroup('g9', 'PICKUP_EXPIRED', at(2)))).toBe('not-found');
    expect(order.snapshot()).toEqual(moving);
  });

  it('after the order was cancelled (the expiry raced a cancellation) it changes nothing', () => {
    const order = ready();
    order.cancel('changed my mind', at(2));
    const before = order.snapshot();
    expect(order.advanceGroup('g1', 'PICKUP_EXPIRED', at(3))).toEqual([]);
    expect(order.snapshot()).toEqual(before);
  });
});

describe('Order overdue tasks', () => {
  const pickup: Partial<Placement> = { fulfilment: { type: 'STORE_PICKUP', pickupLocationId: 'store-7' } };

  it('an overdue pick-up task is noted on the timeline once, without a status change, an event or a re-route', () => {
    const order = confirmedOrder(twoGroups, pickup);
    drain(order);
    const before = order.snapshot();
    const overdue = { taskId: 't-7', deadline: at(60_000) };
    expect(order.taskOverdue('g2', overdue, at(61_000), policy)).toEqual([]);
    const s = order.snapshot();
    expect(s.status).toBe('CONFIRMED');
    expect(s.groups).toEqual(before.groups);
    expect(s.tasks).toEqual([]);
    expect(s.version).toBe(before.version + 1);
    expect(s.timeline.slice(before.timeline.length)).toEqual([
      {
        sequence: before.timeline.length + 1,
        at: at(61_000),
        status: 'CONFIRMED',
        cause: 'delivery: task t-7 not accepted at store-7 by 2026-11-22T12:01:00.000Z',
        groupId: 'g2',
      },
    ]);
    // A pick-up group stays at the store the shopper chose: counted as not allowed.
    expect(order.takeRerouteOutcomes()).toEqual(['not_allowed']);
    // Redelivered: nothing changes.
    expect(order.taskOverdue('g2', overdue, at(62_000), policy)).toEqual([]);
    expect(order.snapshot()).toEqual(s);
    expect(order.takeRerouteOutcomes()).toEqual([]);
  });

  it('an unknown group is NOT_FOUND; a group that ended is left alone', () => {
    const order = confirmedOrder();
    expect(kindOf(() => order.taskOverdue('g9', { taskId: 't-1' }, at(1), policy))).toBe('not-found');
    order.cancel('changed my mind', at(1));
    const before = order.snapshot();
    expect(order.taskOverdue('g1', { taskId: 't-1' }, at(2), policy)).toEqual([]);
    expect(order.snapshot()).toEqual(before);
  });
});

describe('Order re-routing', () => {
  const overdue = (n = 1) => ({ taskId: `o-1.g${n}`, deadline: at(300_000) });
  const planAt = (locationId: string, items: [string, number][]): TaskOutcome => ({
    kind: 'planned',
    allocations: [alloc(locationId, items)],
  });
  const all: [string, number][] = [
    ['A', 2],
    ['B', 3],
  ];

  /** A confirmed one-group home delivery at wh-1 (2750 CNY), its holds extended, g1 overdue: REROUTE queued. */
  function overdueOrder(allocations = oneGroup, overrides: Partial<Placement> = {}): Order {
    const order = confirmedOrder(allocations, overrides);
    drain(order);
    order.taskOverdue('g1', overdue(), at(301_000), policy);
    return order;
  }

  it('queues one REROUTE for a delivery group still waiting, reserving the next group id; a repeat queues none', () => {
    const order = confirmedOrder();
    drain(order);
    const before = order.snapshot();
    expect(order.taskOverdue('g1', overdue(), at(301_000), policy)).toEqual([]);
    const s = order.snapshot();
    expect(s.tasks).toMatchObject([
      { kind: 'REROUTE', groupId: 'g1', toGroupId: 'g2', reason: 'not accepted in time' },
    ]);
    expect(s.groups).toEqual([{ ...before.groups[0], rerouteTo: 'g2' }]);
    expect(s.status).toBe('CONFIRMED');
    expect(s.nextRunAt).toEqual(at(301_000));
    expect(s.timeline.slice(-2).map((e) => e.cause)).toEqual([
      'delivery: task o-1.g1 not accepted at wh-1 by 2026-11-22T12:05:00.000Z',
      're-routing g1: not accepted in time',
    ]);
    // Redelivered, or announced again with another deadline: no second REROUTE.
    expect(order.taskOverdue('g1', overdue(), at(302_000), policy)).toEqual([]);
    expect(order.snapshot()).toEqual(s);
    order.taskOverdue('g1', { taskId: 'o-1.g1', deadline: at(400_000) }, at(402_000), policy);
    expect(kinds(order)).toEqual(['REROUTE']);
    expect(order.takeRerouteOutcomes()).toEqual([]);
  });

  it('ship-from-store groups are re-routed too; pick-up groups never, and nor is a group accepted meanwhile', () => {
    const ship = confirmedOrder(oneGroup, {
      fulfilment: { type: 'SHIP_FROM_STORE', delivery: placement().fulfilment.delivery! },
    });
    drain(ship);
    ship.taskOverdue('g1', overdue(), at(301_000), policy);
    expect(kinds(ship)).toEqual(['REROUTE']);

    const pickup = confirmedOrder(oneGroup, { fulfilment: { type: 'STORE_PICKUP', pickupLocationId: 'store-7' } });
    drain(pickup);
    pickup.taskOverdue('g1', overdue(), at(301_000), policy);
    expect(kinds(pickup)).toEqual([]);
    expect(pickup.snapshot().groups[0]!.rerouteTo).toBeUndefined();

    // The location accepted late, before the overdue event arrived: it is just noted.
    const accepted = confirmedOrder();
    drain(accepted);
    accepted.advanceGroup('g1', 'ACCEPTED', at(1));
    accepted.taskOverdue('g1', overdue(), at(301_000), policy);
    expect(kinds(accepted)).toEqual([]);
    expect(accepted.takeRerouteOutcomes()).toEqual([]);
  });

  it('respects the per-order limit (0: off), counting re-routes done and queued', () => {
    const off = confirmedOrder(twoGroups);
    drain(off);
    off.taskOverdue('g1', overdue(), at(301_000), { ...policy, maxReroutes: 0 });
    expect(kinds(off)).toEqual([]);
    expect(off.takeRerouteOutcomes()).toEqual(['not_allowed']);

    const one = confirmedOrder(twoGroups);
    drain(one);
    one.taskOverdue('g1', overdue(1), at(301_000), { ...policy, maxReroutes: 1 });
    one.taskOverdue('g2', overdue(2), at(301_000), { ...policy, maxReroutes: 1 });
    expect(taskList(one)).toEqual(['REROUTE:g1']);
    expect(one.snapshot().timeline.at(-1)).toMatchObject({
      cause: "not re-routed: the order's limit of 1 re-routes is reached",
      groupId: 'g2',
    });
    expect(one.takeRerouteOutcomes()).toEqual(['not_allowed']);

    // Both within the limit: each gets its own new group id.
    const two = confirmedOrder(twoGroups);
    drain(two);
    two.taskOverdue('g1', overdue(1), at(301_000), policy);
    two.taskOverdue('g2', overdue(2), at(301_000), policy);
    expect(two.snapshot().tasks).toMatchObject([
      { kind: 'REROUTE', groupId: 'g1', toGroupId: 'g3' },
      { kind: 'REROUTE', groupId: 'g2', toGroupId: 'g4' },
    ]);
  });

  it('plan, then hold, then the outcome: g1 REROUTED, g2 CONFIRMED at the new location, old hold released', () => {
    const order = overdueOrder();
    const money = order.snapshot().payment;
    // First run: the plan. Its one allocation becomes the task's target; the task stays to hold there.
    expect(step(order, 'REROUTE', planAt('store-3', all), at(302_000))).toEqual([]);
    let s = order.snapshot();
    expect(s.tasks).toEqual([
      {
        kind: 'REROUTE',
        groupId: 'g1',
        toGroupId: 'g2',
        reason: 'not accepted in time',
        id: expect.any(Number),
        attempts: 0,
        target: { ...alloc('store-3', all), expiresAt: at(302_000 + policy.confirmedHoldTtlMs) },
      },
    ]);
    expect(s.groups.map((g) => g.status)).toEqual(['CONFIRMED']);
    expect(s.timeline.at(-1)?.cause).toBe('re-routing g1: holding the stock at store-3');
    // A retried hold keeps the same target (the runner retries; the aggregate only backs off).
    step(order, 'REROUTE', { kind: 'retry', error: 'inventory down' }, at(303_000));
    expect(order.snapshot().tasks[0]).toMatchObject({ kind: 'REROUTE', target: { locationId: 'store-3' } });
    // Second run: held. The re-route is applied.
    const events = step(order, 'REROUTE', { kind: 'held' }, at(304_000));
    s = order.snapshot();
    expect(events).toEqual([
      { type: 'OrderRerouted', fromGroupId: 'g1', toGroupId: 'g2', reason: 'not accepted in time' },
    ]);
    expect(s.groups).toEqual([
      expect.objectContaining({ id: 'g1', status: 'REROUTED', locationId: 'wh-1', holdId: 'o-1.g1', captured: false }),
      {
        id: 'g2',
        type: 'HOME_DELIVERY',
        locationId: 'store-3',
        items: s.groups[0]!.items,
        status: 'CONFIRMED',
        holdId: 'o-1.g2',
        sameDay: true,
        distanceM: 1200,
        amount: cny(2750),
        captured: false,
        dispatched: false,
        replaces: 'g1',
      },
    ]);
    expect(s.tasks).toMatchObject([
      { kind: 'RELEASE_HOLD', groupId: 'g1', reason: 're-routed to store-3: not accepted in time' },
    ]);
    expect(s.tasks[0]).not.toHaveProperty('holdId');
    expect(s.status).toBe('CONFIRMED');
    expect(s.timeline.at(-1)).toMatchObject({
      status: 'CONFIRMED',
      cause: 'rerouted g1 from wh-1 to store-3: not accepted in time',
      groupId: 'g1',
    });
    // Money untouched: nothing voided, refunded or captured.
    expect(s.payment).toEqual(money);
    expect(kinds(order)).toEqual(['RELEASE_HOLD']);
    expect(order.takeRerouteOutcomes()).toEqual(['rerouted']);
    drain(order);
    expect(order.snapshot().timeline.at(-1)).toMatchObject({ cause: 'hold released', groupId: 'g1' });
    expectLegalTimeline(order.snapshot());
  });

  it('the new group goes on as any group: captured once for the full amount at dispatch, then COMPLETED', () => {
    const order = overdueOrder();
    step(order, 'REROUTE', planAt('store-3', all));
    step(order, 'REROUTE', { kind: 'held' });
    drain(order);
    expect(order.advanceGroup('g2', 'ACCEPTED', at(1))).toEqual([{ type: 'OrderInFulfillment', groupId: 'g2' }]);
    expect(order.status).toBe('IN_FULFILLMENT');
    order.advanceGroup('g2', 'OUT_FOR_DELIVERY', at(2));
    expect(order.snapshot().tasks).toMatchObject([
      { kind: 'COMMIT_HOLD', groupId: 'g2' },
      { kind: 'CAPTURE', groupId: 'g2', amount: cny(2750) },
    ]);
    drain(order);
    expect(types(order.advanceGroup('g2', 'DELIVERED', at(3)))).toEqual(['OrderDelivered', 'OrderCompleted']);
    const s = order.snapshot();
    expect(s.payment).toMatchObject({ authorizedMinor: 2750, capturedMinor: 2750, refundedMinor: 0 });
    expect(s.tasks).toEqual([]);
    expectLegalTimeline(s);
  });

  it('late events for the re-routed group are refused and change nothing', () => {
    const order = overdueOrder();
    step(order, 'REROUTE', planAt('store-3', all));
    step(order, 'REROUTE', { kind: 'held' });
    const before = order.snapshot();
    for (const late of ['ACCEPTED', 'OUT_FOR_DELIVERY', 'DELIVERED', 'FAILED', 'PICKUP_EXPIRED'] as const) {
      expect(kindOf(() => order.advanceGroup('g1', late, at(5)))).toBe('failed-precondition');
    }
    expect(order.taskOverdue('g1', { taskId: 'o-1.g1', deadline: at(9) }, at(10), policy)).toEqual([]);
    expect(order.snapshot()).toEqual(before);
  });

  it('a plan that is infeasible, or needs several locations, is noted and leaves the group as it is (no retry)', () => {
    const refused = overdueOrder();
    const before = refused.snapshot();
    step(refused, 'REROUTE', { kind: 'refused', reason: 'No plan covers every item' });
    let s = refused.snapshot();
    expect(s.tasks).toEqual([]);
    expect(s.groups).toEqual(before.groups);
    expect(s.timeline.at(-1)).toMatchObject({ cause: 'cannot re-route g1: No plan covers every item', groupId: 'g1' });
    expect(refused.takeRerouteOutcomes()).toEqual(['no_location']);
    // The group keeps waiting; another overdue of it queues nothing.
    refused.taskOverdue('g1', { taskId: 'o-1.g1', deadline: at(400_000) }, at(401_000), policy);
    expect(kinds(refused)).toEqual([]);

    const split = overdueOrder();
    step(split, 'REROUTE', {
      kind: 'planned',
      allocations: [alloc('store-3', [['A', 2]]), alloc('store-7', [['B', 3]])],
    });
    s = split.snapshot();
    expect(s.tasks).toEqual([]);
    expect(s.timeline.at(-1)?.cause).toBe(
      'cannot re-route g1: no single location has every item (the plan needs store-3, store-7)',
    );
    const short = overdueOrder();
    step(short, 'REROUTE', planAt('store-3', [['A', 2]]));
    expect(short.snapshot().timeline.at(-1)?.cause).toBe(
      "cannot re-route g1: the plan does not cover the group's items exactly",
    );
    const same = overdueOrder();
    step(same, 'REROUTE', planAt('wh-1', all));
    expect(same.snapshot().timeline.at(-1)?.cause).toBe(
      'cannot re-route g1: the plan chose wh-1, where the group already was',
    );
    expect(same.snapshot().tasks).toEqual([]);
  });

  it('a hold that comes back short is noted; nothing was held, so nothing is released', () => {
    const order = overdueOrder();
    step(order, 'REROUTE', planAt('store-3', all));
    const before = order.snapshot();
    step(order, 'REROUTE', {
      kind: 'short',
      shortages: [{ skuCode: 'B', locationId: 'store-3', requested: 3, available: 1 }],
    });
    const s = order.snapshot();
    expect(s.tasks).toEqual([]);
    expect(s.groups).toEqual(before.groups);
    expect(s.timeline.at(-1)?.cause).toBe('cannot re-route g1: SKU "B" at store-3: 3 requested, 1 available');
    expect(order.takeRerouteOutcomes()).toEqual(['no_location']);
  });

  it('accepted while the stock was being held: the outcome is discarded and the new hold released', () => {
    const order = overdueOrder();
    step(order, 'REROUTE', planAt('store-3', all));
    // The late TaskAccepted is applied while the hold call runs.
    expect(types(order.advanceGroup('g1', 'ACCEPTED', at(5)))).toEqual(['OrderInFulfillment']);
    expect(step(order, 'REROUTE', { kind: 'held' }, at(6))).toEqual([]);
    const s = order.snapshot();
    expect(s.groups).toHaveLength(1);
    expect(s.groups[0]).toMatchObject({ id: 'g1', status: 'IN_FULFILLMENT', rerouteTo: 'g2' });
    expect(s.tasks).toMatchObject([
      {
        kind: 'RELEASE_HOLD',
        groupId: 'g1',
        holdId: 'o-1.g2',
        reason: 're-route of g1 not needed: it is in fulfillment now',
      },
    ]);
    expect(s.timeline.at(-1)?.cause).toBe('not re-routing g1: it is in fulfillment now');
    expect(order.takeRerouteOutcomes()).toEqual(['discarded']);
    drain(order);
    expect(order.snapshot().timeline.at(-1)?.cause).toBe('hold o-1.g2 released');
    // The group's own hold is still there to commit at dispatch.
    order.advanceGroup('g1', 'OUT_FOR_DELIVERY', at(7));
    expect(taskList(order)).toEqual(['COMMIT_HOLD:g1', 'CAPTURE:g1']);
  });

  it('accepted before the plan came back: dropped without holding anything', () => {
    const order = overdueOrder();
    order.advanceGroup('g1', 'ACCEPTED', at(5));
    step(order, 'REROUTE', planAt('store-3', all));
    expect(kinds(order)).toEqual([]);
    expect(order.snapshot().timeline.at(-1)?.cause).toBe('not re-routing g1: it is in fulfillment now');
    expect(order.takeRerouteOutcomes()).toEqual(['discarded']);
  });

  it('cancelled while the re-route ran: the new hold is released too; money as for any cancellation', () => {
    const order = overdueOrder();
    step(order, 'REROUTE', planAt('store-3', all));
    order.cancel('changed my mind', at(5));
    expect(taskList(order)).toEqual(['REROUTE:g1', 'RELEASE_HOLD:g1', 'VOID_PAYMENTS']);
    step(order, 'REROUTE', { kind: 'held' }, at(6));
    const s = order.snapshot();
    expect(s.status).toBe('CANCELLED');
    expect(s.groups.map((g) => [g.id, g.status])).toEqual([['g1', 'CANCELLED']]);
    expect(s.tasks).toMatchObject([
      { kind: 'RELEASE_HOLD', groupId: 'g1', reason: 'order cancelled: changed my mind' },
      { kind: 'VOID_PAYMENTS' },
      { kind: 'RELEASE_HOLD', groupId: 'g1', holdId: 'o-1.g2' },
    ]);
    expect(s.timeline.at(-1)?.cause).toBe('not re-routing g1: the order is cancelled');
  });

  it('cancelling after a re-route releases the new group only (the old hold is released by the re-route)', () => {
    const order = overdueOrder();
    step(order, 'REROUTE', planAt('store-3', all));
    step(order, 'REROUTE', { kind: 'held' });
    drain(order);
    const events = order.cancel('changed my mind', at(9));
    expect(events).toEqual([{ type: 'OrderCancelled', reason: 'changed my mind' }]);
    const s = order.snapshot();
    expect(s.groups.map((g) => [g.id, g.status])).toEqual([
      ['g1', 'REROUTED'],
      ['g2', 'CANCELLED'],
    ]);
    expect(taskList(order)).toEqual(['RELEASE_HOLD:g2', 'VOID_PAYMENTS']);
  });

  it('a second re-route excludes every location the chain was at, and the order limit counts both', () => {
    const order = overdueOrder();
    step(order, 'REROUTE', planAt('store-3', all));
    step(order, 'REROUTE', { kind: 'held' });
    drain(order);
    order.taskOverdue('g2', overdue(2), at(9), policy);
    expect(order.snapshot().tasks).toMatchObject([{ kind: 'REROUTE', groupId: 'g2', toGroupId: 'g3' }]);
    step(order, 'REROUTE', planAt('wh-1', all));
    expect(order.snapshot().timeline.at(-1)?.cause).toBe(
      'cannot re-route g2: the plan chose wh-1, where the group already was',
    );
    // g3 stays reserved: a later re-route of g2 would never reuse it (the limit of 2 is not reached: one done).
    expect(order.snapshot().groups.map((g) => [g.id, g.rerouteTo ?? '-', g.replaces ?? '-'])).toEqual([
      ['g1', 'g2', '-'],
      ['g2', 'g3', 'g1'],
    ]);
  });

  it('a sale paid at the till keeps its money with the new group: nothing refunded or voided', () => {
    const order = heldOrder(oneGroup, {
      channel: 'STORE_POS',
      storeId: 'store-3',
      associateId: 'as-1',
      customerId: undefined,
      payment: { method: 'CASH' },
    });
    step(order, 'AUTHORIZE', { kind: 'paid', paymentId: 'pay-1', amount: cny(2750) });
    drain(order);
    order.taskOverdue('g1', overdue(), at(1), policy);
    step(order, 'REROUTE', planAt('store-3', all));
    step(order, 'REROUTE', { kind: 'held' });
    const s = order.snapshot();
    expect(s.groups.map((g) => [g.id, g.status, g.captured])).toEqual([
      ['g1', 'REROUTED', false],
      ['g2', 'CONFIRMED', true],
    ]);
    expect(kinds(order)).toEqual(['RELEASE_HOLD']);
    expect(s.payment).toMatchObject({ capturedMinor: 2750, refundedMinor: 0 });
    drain(order);
    order.advanceGroup('g2', 'DELIVERED', at(2));
    // Already paid at the till: no capture; the order completes once the goods are out.
    expect(kinds(order)).toEqual(['COMMIT_HOLD']);
    drain(order);
    expect(order.status).toBe('COMPLETED');
    expect(isEndlessAisle(order.snapshot())).toBe(false);
  });
});

describe('Order returns', () => {
  function completed(type: FulfilmentType = 'HOME_DELIVERY', payment?: PaymentRequest): Order {
    const fulfilment =
      type === 'STORE_PICKUP'
        ? { type, pickupLocationId: 'store-7' }
        : { type, delivery: { point: { latitude: 0, longitude: 0 }, recipientName: '', recipientPhone: '' } };
    const order = confirmedOrder(twoGroups, payment ? { fulfilment, payment } : { fulfilment });
    order.advanceGroup('g1', 'DELIVERED', at(1));
    order.advanceGroup('g2', 'DELIVERED', at(1));
    drain(order);
    expect(order.status).toBe('COMPLETED');
    return order;
  }
  const ret = (requestId: string, lines: [string, number][]) => ({
    requestId,
    locationId: 'store-3',
    lines: lines.map(([skuCode, quantity]) => ({ skuCode, quantity })),
    reason: 'too small',
  });

  it('only after COMPLETED', () => {
    const order = confirmedOrder();
    expect(kindOf(() => order.requestReturn(ret('rr-1', [['A', 1]]), at(1)))).toBe('failed-precondition');
  });

  it('requested, received (RESTOCK + REFUND), refunded → PARTIALLY_RETURNED, then RETURNED', () => {
    const order = completed();
    const { returnId, events } = order.requestReturn(ret('rr-1', [['A', 1]]), at(10));
    expect(returnId).toBe('r1');
    expect(events).toEqual([{ type: 'ReturnRequested', returnId: 'r1' }]);
    expect(order.status).toBe('RETURN_REQUESTED');
    expect(order.snapshot().returns[0]).toMatchObject({
      status: 'REQUESTED',
      refund: cny(1000),
      locationId: 'store-3',
    });
    expect(order.snapshot().tasks).toEqual([]);

    expect(order.receiveReturn('r1', at(11))).toEqual([]);
    expect(order.snapshot().tasks).toMatchObject([
      { kind: 'RESTOCK', key: 'r1', locationId: 'store-3', items: [{ skuCode: 'A', quantity: 1 }] },
      { kind: 'REFUND', refundId: 'r1', amount: cny(1000), reason: 'too small' },
    ]);
    expect(order.receiveReturn('r1', at(12))).toEqual([]);
    expect(kinds(order)).toEqual(['RESTOCK', 'REFUND']);
    step(order, 'RESTOCK', { kind: 'done' });
    expect(order.status).toBe('RETURN_REQUESTED');
    expect(step(order, 'REFUND', { kind: 'refunded', amount: cny(1000) }, at(13))).toEqual([
      { type: 'OrderRefunded', returnId: 'r1', amount: cny(1000) },
    ]);
    let s = order.snapshot();
    expect(s.status).toBe('PARTIALLY_RETURNED');
    expect(s.returns[0]).toMatchObject({ status: 'REFUNDED', refundedAt: at(13) });
    expect(s.payment.refundedMinor).toBe(1000);
    expect(s.lines.map((l) => l.returnedQuantity)).toEqual([1, 0]);

    order.requestReturn(
      ret('rr-2', [
        ['A', 1],
        ['B', 3],
      ]),
      at(20),
    );
    order.receiveReturn('r2', at(21));
    drain(order, at(22));
    s = order.snapshot();
    expect(s.status).toBe('RETURNED');
    expect(s.payment.refundedMinor).toBe(2750);
    expectLegalTimeline(s);
    // RETURNED is final.
    expect(kindOf(() => order.requestReturn(ret('rr-3', [['A', 1]]), at(30)))).toBe('failed-precondition');
  });

  it('quantities are limited to what was received and not returned yet (open returns count)', () => {
    const order = completed();
    const before = order.snapshot();
    expect(kindOf(() => order.requestReturn(ret('rr-1', [['A', 3]]), at(1)))).toBe('invalid-argument');
    expect(kindOf(() => order.requestReturn(ret('rr-1', [['A', 0]]), at(1)))).toBe('invalid-argument');
    expect(kindOf(() => order.requestReturn(ret('rr-1', [['Z', 1]]), at(1)))).toBe('invalid-argument');
    expect(kindOf(() => order.requestReturn(ret('rr-1', []), at(1)))).toBe('invalid-argument');
    expect(
      kindOf(() =>
        order.requestReturn(
          ret('rr-1', [
            ['A', 1],
            ['A', 1],
          ]),
          at(1),
        ),
      ),
    ).toBe('invalid-argument');
    expect(order.snapshot()).toEqual(before);
    order.requestReturn(ret('rr-1', [['A', 2]]), at(2));
    let error: unknown;
    try {
      order.requestReturn(ret('rr-2', [['A', 1]]), at(3));
    } catch (e) {
      error = e;
    }
    expect((error as OrderError).violations).toEqual([
      { field: 'lines[0].quantity', description: 'must be from 1 to 0 (what can still be returned)' },
    ]);
  });

  it('a repeated request id answers the same return and changes nothing', () => {
    const order = completed();
    order.requestReturn(ret('rr-1', [['A', 1]]), at(1));
    const before = order.snapshot();
    expect(order.requestReturn(ret('rr-1', [['B', 2]]), at(2))).toEqual({ returnId: 'r1', events: [] });
    expect(order.snapshot()).toEqual(before);
  });

  it('receiving an unknown return is NOT_FOUND', () => {
    const order = completed();
    expect(kindOf(() => order.receiveReturn('r9', at(1)))).toBe('not-found');
  });

  it('a pick-up order can be returned too', () => {
    const order = confirmedOrder(oneGroup, { fulfilment: { type: 'STORE_PICKUP', pickupLocationId: 'wh-1' } });
    order.advanceGroup('g1', 'PICKED_UP', at(1));
    drain(order);
    expect(order.status).toBe('COMPLETED');
    expect(order.requestReturn(ret('rr-1', [['B', 3]]), at(2)).returnId).toBe('r1');
  });
});

describe('Order late payments', () => {
  it('a late authorisation on a REJECTED order queues VOID_PAYMENTS once while one is queued', () => {
    const order = place();
    step(order, 'PRICE', { kind: 'refused', reason: 'x' });
    expect(order.snapshot().tasks).toEqual([]);
    order.paymentAuthorized('pay-late', cny(100), at(1), policy);
    expect(kinds(order)).toEqual(['VOID_PAYMENTS']);
    expect(order.status).toBe('REJECTED');
    order.paymentAuthorized('pay-late', cny(100), at(2), policy);
    expect(kinds(order)).toEqual(['VOID_PAYMENTS']);
    drain(order);
    expect(
      order
        .snapshot()
        .timeline.map((e) => e.cause)
        .slice(-2),
    ).toEqual(['late payment pay-late is voided', 'payment voided']);
  });

  it('the echo of the order’s own authorisation after it was cancelled (or delivered again) changes nothing', () => {
    const order = confirmedOrder();
    drain(order);
    const paymentId = order.snapshot().payment.paymentId!;
    order.cancel('changed my mind', at(1));
    drain(order, at(2));
    expect(order.status).toBe('CANCELLED');
    const before = order.snapshot();
    expect(order.paymentAuthorized(paymentId, cny(2750), at(3), policy)).toEqual([]);
    expect(order.paymentAuthorized(paymentId, cny(2750), at(4), policy)).toEqual([]);
    expect(order.snapshot()).toEqual(before);
  });

  it('a payment event for a CONFIRMED or PENDING order changes nothing', () => {
    const order = confirmedOrder();
    drain(order);
    const before = order.snapshot();
    expect(order.paymentAuthorized('pay-1', cny(2750), at(1), policy)).toEqual([]);
    expect(order.paymentFailed('pay-1', 'declined', at(1))).toEqual([]);
    expect(order.snapshot()).toEqual(before);
    const pending = place();
    const p = pending.snapshot();
    expect(pending.paymentAuthorized('pay-1', cny(1), at(1), policy)).toEqual([]);
    expect(pending.snapshot()).toEqual(p);
  });
});

describe('Order timeline', () => {
  it('records each change with its time, status, cause and group', () => {
    const order = confirmedOrder(twoGroups);
    drain(order, at(5));
    order.advanceGroup('g2', 'ACCEPTED', at(6), 'picker 4');
    const s = order.snapshot();
    expect(s.timeline.at(-1)).toEqual({
      sequence: s.timeline.length,
      at: at(6),
      status: 'IN_FULFILLMENT',
      cause: 'status follows groups: in_fulfillment',
    });
    expect(s.timeline.at(-2)).toEqual({
      sequence: s.timeline.length - 1,
      at: at(6),
      status: 'CONFIRMED',
      cause: 'delivery: in fulfillment (picker 4)',
      groupId: 'g2',
    });
    expectLegalTimeline(s);
  });

  it('fromState/snapshot round-trip and are independent copies', () => {
    const order = confirmedOrder();
    const state = order.snapshot();
    const copy = Order.fromState(state);
    state.status = 'CANCELLED';
    expect(copy.snapshot().status).toBe('CONFIRMED');
    expect(copy.snapshot()).toEqual(order.snapshot());
  });
});
