// Use-case tests with an in-memory repository (same contract as the Mongo one: version-checked writes, claims with
// leases, due()) and in-memory fakes of catalogue, inventory and payments that record calls and can fail or refuse.
// Timers are faked so the saga's inline retries and the recovery loop run in fake time.
import type { Principal } from '@o2o/kit-grpc';
import { OrderError } from '../domain/errors';
import { Order, type OrderPolicy } from '../domain/order';
import type { Allocation, ItemQuantity, OrderEvent, OrderState, PlacementInput } from '../domain/types';
import {
  cancelOrder,
  onFulfilmentEvent,
  onPaymentEvent,
  onTaskOverdue,
  receiveReturn,
  requestReturn,
} from './change-order';
import { executeTask } from './execute-task';
import { placeOrder } from './place-order';
import type {
  AuthorizeOutcome,
  AuthorizeRequest,
  CataloguePort,
  Deps,
  InventoryPort,
  Lease,
  LocationInfo,
  OrderRepository,
  PaymentsPort,
  PlanQuery,
  Retry,
} from './ports';
import { getOrder, getTimeline, listOrders } from './queries';
import { recoverDue } from './run-tasks';

const t0 = new Date('2026-11-22T12:00:00.000Z');
const policy: OrderPolicy = {
  placementTimeoutMs: 60_000,
  placementHoldTtlMs: 15 * 60_000,
  walletPayTtlMs: 10 * 60_000,
  confirmedHoldTtlMs: 72 * 3_600_000,
  maxReroutes: 2,
};
const VISA = '4242424242424242';
const PRICES: Record<string, number> = { A: 1000, B: 250 };
const down: Retry = { kind: 'retry', error: 'unavailable' };

interface Row {
  state: OrderState;
  placementKey: string;
  fingerprint: string;
  leaseOwner?: string;
  leaseUntil?: Date;
}

/** The OrderRepository port in memory. */
function memoryRepository() {
  const rows = new Map<string, Row>();
  const published: OrderEvent[] = [];
  let lostRaces = 0;
  const repo: OrderRepository = {
    async insert(order, events, meta) {
      const state = order.snapshot();
      if (rows.has(state.id) || [...rows.values()].some((r) => r.placementKey === meta.placementKey)) return 'exists';
      rows.set(state.id, {
        state,
        placementKey: meta.placementKey,
        fingerprint: meta.fingerprint,
        leaseOwner: meta.lease.owner,
        leaseUntil: meta.lease.until,
      });
      published.push(...events);
      return 'inserted';
    },
    async findByPlacementKey(key) {
      const row = [...rows.values()].find((r) => r.placementKey === key);
      return row && { state: structuredClone(row.state), fingerprint: row.fingerprint };
    },
    async get(id) {
      const row = rows.get(id);
      return row && structuredClone(row.state);
    },
    async update(id, change) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const row = rows.get(id);
        if (!row) throw new OrderError('not-found', `Order "${id}" does not exist`);
        const version = row.state.version;
        const order = Order.fromState(row.state);
        await Promise.resolve(); // a concurrent writer may interleave between read and write
        const { events, result } = change(order);
        const state = order.snapshot();
        if (state.version === version) return { state, result };
        if (rows.get(id)!.state.version !== version) {
          lostRaces++;
          continue;
        }
        row.state = state;
        published.push(...events);
        return { state: structuredClone(state), result };
      }
      throw new OrderError('aborted', `Order "${id}" is changing concurrently: retry`);
    },
    async claim(id, lease, now) {
      const row = rows.get(id);
      if (!row) return false;
      if (row.leaseOwner !== lease.owner && row.leaseUntil && row.leaseUntil >= now) return false;
      row.leaseOwner = lease.owner;
      row.leaseUntil = lease.until;
      return true;
    },
    async unclaim(id, owner) {
      const row = rows.get(id);
      if (row?.leaseOwner !== owner) return;
      delete row.leaseOwner;
      delete row.leaseUntil;
    },
    async due(now, limit) {
      return [...rows.values()]
        .filter((r) => r.state.nextRunAt && r.state.nextRunAt <= now && !(r.leaseUntil && r.leaseUntil >= now))
        .sort((a, b) => a.state.nextRunAt!.getTime() - b.state.nextRunAt!.getTime())
        .slice(0, limit)
        .map((r) => r.state.id);
    },
    async list(filter, page) {
      const matching = [...rows.values()]
        .map((r) => r.state)
        .filter(
          (s) =>
            (!filter.customerId || s.customerId === filter.customerId) &&
            (!filter.storeId || s.storeId === filter.storeId) &&
            (!filter.partnerId || s.marketplace?.partnerId === filter.partnerId) &&
            (!filter.channel || s.channel === filter.channel) &&
            (!filter.statuses?.length || filter.statuses.includes(s.status)),
        )
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
      const start = page.after ? matching.findIndex((s) => s.id === page.after) + 1 : 0;
      const items = matching.slice(start, start + page.size);
      return start + page.size < matching.length ? { items, after: items.at(-1)!.id } : { items };
    },
  };
  /** Takes a runner's claim as another (crashed or busy) process would. */
  const claimAs = (id: string, lease: Lease) => {
    const row = rows.get(id)!;
    row.leaseOwner = lease.owner;
    row.leaseUntil = lease.until;
  };
  const claimed = () => [...rows.values()].some((r) => r.leaseOwner !== undefined);
  return { repo, rows, published, claimAs, claimed, lostRaces: () => lostRaces };
}

type Mode = 'ok' | 'down' | 'refuse';

function fakeCatalogue() {
  const calls: Parameters<CataloguePort['priceSkus']>[0][] = [];
  const fake = {
    calls,
    mode: 'ok' as Mode,
    port: {
      async priceSkus(query) {
        calls.push(query);
        if (fake.mode === 'down') return down;
        if (fake.mode === 'refuse') return { kind: 'refused', reason: 'SKU "B" is not sellable' };
        return {
          kind: 'priced',
          skus: query.skuCodes.map((skuCode) => ({
            skuCode,
            unitPrice: { currency: query.currency, amountMinor: PRICES[skuCode]! },
            productId: `p-${skuCode}`,
            productName: `Product ${skuCode}`,
          })),
        };
      },
    } satisfies CataloguePort,
  };
  return fake;
}

function fakeInventory() {
  const calls: string[] = [];
  /** Holds by id: reserving the same id again holds nothing more. */
  const holds = new Map<string, { lines: { skuCode: string; quantity: number }[]; state: string }>();
  const restocked: { requestId: string; skuCode: string; quantity: number; locationId: string }[] = [];
  const locations = new Map<string, LocationInfo>([
    ['store-3', { id: 'store-3', open: true, acceptsReturns: true, isStore: true }],
    ['wh-1', { id: 'wh-1', open: true, acceptsReturns: false, isStore: false }],
  ]);
  const fake: {
    calls: string[];
    holds: typeof holds;
    restocked: typeof restocked;
    plans: PlanQuery[];
    mode: Record<'plan' | 'reserve' | 'other', Mode>;
    plan: (items: ItemQuantity[], query: PlanQuery) => Allocation[];
    port: InventoryPort;
  } = {
    calls,
    holds,
    restocked,
    plans: [],
    mode: { plan: 'ok', reserve: 'ok', other: 'ok' },
    /** How the plan splits the items: by default everything from wh-1. */
    plan: (items: ItemQuantity[]): Allocation[] => [{ locationId: 'wh-1', items, distanceM: 800, sameDay: true }],
    port: {
      async plan(query) {
        const excluded = query.excludeLocationIds ?? [];
        calls.push(excluded.length > 0 ? `plan excluding ${excluded.join(' ')}` : 'plan');
        fake.plans.push(query);
        if (fake.mode.plan === 'down') return down;
        if (fake.mode.plan === 'refuse') return { kind: 'refused', reason: 'no location has SKU "A"' };
        return { kind: 'planned', allocations: fake.plan(query.items, query) };
      },
      async reserve(request) {
        calls.push(`reserve ${request.holdId}`);
        if (fake.mode.reserve === 'down') return down;
        if (fake.mode.reserve === 'refuse') {
          return { kind: 'short', shortages: [{ skuCode: 'A', locationId: 'wh-1', requested: 2, available: 0 }] };
        }
        if (!holds.has(request.holdId)) holds.set(request.holdId, { lines: request.lines, state: 'HELD' });
        return { kind: 'held' };
      },
      async extend(holdId) {
        calls.push(`extend ${holdId}`);
        return fake.mode.other === 'down' ? down : { kind: 'done' };
      },
      async commit(holdId) {
        calls.push(`commit ${holdId}`);
        if (fake.mode.other === 'down') return down;
        holds.get(holdId)!.state = 'COMMITTED';
        return { kind: 'done' };
      },
      async release(holdId) {
        calls.push(`release ${holdId}`);
        if (fake.mode.other === 'down') return down;
        const hold = holds.get(holdId);
        if (hold) hold.state = 'RELEASED';
        return { kind: 'done' };
      },
      async restock(request) {
        calls.push(`restock ${request.requestId}`);
        if (fake.mode.other === 'down') return down;
        if (!restocked.some((r) => r.requestId === request.requestId)) restocked.push(request);
        return { kind: 'done' };
      },
      async location(id) {
        return locations.get(id);
      },
    },
  };
  return fake;
}

function fakePayments() {
  const calls: string[] = [];
  const requests: AuthorizeRequest[] = [];
  /** Authorisations by idempotency key. */
  const payments = new Map<string, { orderId: string; outcome: AuthorizeOutcome }>();
  const captures = new Map<string, number>();
  const refunds = new Map<string, number>();
  const voided: string[] = [];
  const fake: {
    calls: string[];
    requests: AuthorizeRequest[];
    payments: typeof payments;
    captures: typeof captures;
    refunds: typeof refunds;
    voided: string[];
    /** 'lost': the authorisation is made but its answer never reaches the caller. */
    mode: { authorize: Mode | 'lost' | 'decline'; paymentOfOrder: Mode; other: Mode };
    port: PaymentsPort;
  } = {
    calls,
    requests,
    payments,
    captures,
    refunds,
    voided,
    mode: { authorize: 'ok', paymentOfOrder: 'ok', other: 'ok' },
    port: {
      async authorize(request) {
        calls.push(`authorize ${request.key}`);
        requests.push(request);
        if (fake.mode.authorize === 'down') return down;
        if (fake.mode.authorize === 'decline')
          return { kind: 'declined', paymentId: 'pay-d', reason: 'insufficient funds' };
        let known = payments.get(request.key);
        if (!known) {
          const paymentId = `pay-${payments.size + 1}`;
          const outcome: AuthorizeOutcome =
            request.method === 'WALLET_QR'
              ? { kind: 'awaiting-payment', paymentId, qrPayload: `qr://${paymentId}`, payBy: request.payBy! }
              : request.method === 'CARD'
                ? { kind: 'authorized', paymentId, amount: request.amount }
                : { kind: 'paid', paymentId, amount: request.amount };
          known = { orderId: request.orderId, outcome };
          payments.set(request.key, known);
        }
        return fake.mode.authorize === 'lost' ? down : known.outcome;
      },
      async paymentOfOrder(orderId) {
        calls.push(`paymentOfOrder ${orderId}`);
        if (fake.mode.paymentOfOrder === 'down') return down;
        return [...payments.values()].find((p) => p.orderId === orderId)?.outcome ?? { kind: 'none' };
      },
      async voidAll(orderId) {
        calls.push(`voidAll ${orderId}`);
        if (fake.mode.other === 'down') return down;
        voided.push(orderId);
        return { kind: 'done' };
      },
      async capture(request) {
        calls.push(`capture ${request.key}`);
        if (fake.mode.other === 'down') return down;
        captures.set(request.key, request.amount.amountMinor);
        return { kind: 'captured', amount: request.amount };
      },
      async refund(request) {
        calls.push(`refund ${request.key}`);
        if (fake.mode.other === 'down') return down;
        refunds.set(request.key, request.amount.amountMinor);
        return { kind: 'refunded', amount: request.amount };
      },
    },
  };
  return fake;
}

function setup() {
  const memory = memoryRepository();
  const catalogue = fakeCatalogue();
  const inventory = fakeInventory();
  const payments = fakePayments();
  const taskErrors: unknown[] = [];
  let ids = 0;
  let writes = 0;
  const deps: Deps = {
    orders: memory.repo,
    catalogue: catalogue.port,
    inventory: inventory.port,
    payments: payments.port,
    policy,
    clock: { now: () => new Date() },
    newId: () => `o-${++ids}`,
    runnerId: 'runner-1',
    leaseMs: 30_000,
    afterWrite: () => void writes++,
    onTaskError: (_id, error) => taskErrors.push(error),
  };
  return { deps, memory, catalogue, inventory, payments, taskErrors, writes: () => writes };
}

/** Lets `promise` finish, moving fake time on while it waits (inline retries sleep). */
async function drive<T>(promise: Promise<T>): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 4_000 && !settled; i++) await jest.advanceTimersByTimeAsync(25);
  return promise;
}

/** Waits for background task runs (kickTasks) to finish: no claim left. */
async function idle(memory: ReturnType<typeof memoryRepository>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    await jest.advanceTimersByTimeAsync(25);
    if (i > 2 && !memory.claimed()) return;
  }
  throw new Error('background tasks did not finish');
}

async function kindOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OrderError) return error.kind;
    throw error;
  }
  throw new Error('expected an OrderError');
}

function cardOrder(overrides: Partial<PlacementInput> = {}): PlacementInput {
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
      delivery: { point: { latitude: 31.2, longitude: 121.5 }, recipientName: 'Li', recipientPhone: '138' },
    },
    payment: { method: 'CARD', cardNumber: VISA },
    ...overrides,
  };
}
const walletOrder = (overrides: Partial<PlacementInput> = {}) =>
  cardOrder({ payment: { method: 'WALLET_QR', walletChannel: 'ALIPAY' }, ...overrides });
const splitPlan = (items: ItemQuantity[]): Allocation[] => [
  { locationId: 'wh-1', items: items.filter((i) => i.skuCode === 'A'), distanceM: 800, sameDay: true },
  { locationId: 'store-7', items: items.filter((i) => i.skuCode !== 'A'), distanceM: 300, sameDay: true },
];

beforeEach(() => jest.useFakeTimers({ now: t0 }));
afterEach(() => jest.useRealTimers());

describe('placeOrder', () => {
  it('runs the saga inline: prices, plans, holds each group, authorises the card, extends the holds', async () => {
    const { deps, memory, catalogue, inventory, payments, taskErrors } = setup();
    inventory.plan = splitPlan;
    const order = await drive(placeOrder(deps, cardOrder()));

    expect(order.status).toBe('CONFIRMED');
    expect(order.id).toBe('o-1');
    expect(catalogue.calls).toEqual([
      { skuCodes: ['A', 'B'], priceList: 'ONLINE', salesChannel: 'ONLINE', currency: 'CNY' },
    ]);
    expect(inventory.calls).toEqual(['plan', 'reserve o-1.g1', 'reserve o-1.g2', 'extend o-1.g1', 'extend o-1.g2']);
    expect([...inventory.holds.entries()]).toEqual([
      ['o-1.g1', { lines: [{ skuCode: 'A', locationId: 'wh-1', quantity: 2 }], state: 'HELD' }],
      ['o-1.g2', { lines: [{ skuCode: 'B', locationId: 'store-7', quantity: 3 }], state: 'HELD' }],
    ]);
    expect(payments.requests).toEqual([
      {
        key: 'o-1:authorize',
        orderId: 'o-1',
        amount: { currency: 'CNY', amountMinor: 2750 },
        method: 'CARD',
        cardNumber: VISA,
        // Whose order it is, for payments' own ownership checks.
        attribution: { customerId: 'cust-1', storeId: '', partnerId: '', locationIds: ['wh-1', 'store-7'] },
      },
    ]);
    expect(order.tasks).toEqual([]);
    expect(order.nextRunAt).toBeUndefined();
    expect(order.payment).toMatchObject({ paymentId: 'pay-1', authorizedMinor: 2750, cardLast4: '4242' });
    expect(JSON.stringify(memory.rows.get('o-1')!.state)).not.toContain(VISA);
    expect(memory.published.map((e) => e.type)).toEqual(['OrderPlaced', 'OrderConfirmed']);
    expect(memory.claimed()).toBe(false);
    expect(taskErrors).toEqual([]);
    expect(await getOrder(deps, 'o-1')).toEqual(order);
    expect((await getTimeline(deps, 'o-1')).at(-1)?.cause).toBe('hold extended until dispatch');
  });

  it('store channels price from the STORE list; a carry-out plans at the store of sale and completes', async () => {
    const { deps, catalogue, inventory, payments } = setup();
    const planned: unknown[] = [];
    const plan = inventory.port.plan.bind(inventory.port);
    inventory.port.plan = async (query) => {
      planned.push(query);
      return plan(query);
    };
    const order = await drive(
      placeOrder(
        deps,
        cardOrder({
          channel: 'STORE_POS',
          customerId: undefined,
          storeId: 'store-3',
          associateId: 'as-1',
          fulfilment: { type: 'IN_STORE_CARRY_OUT' },
          payment: { method: 'STORE_TERMINAL', terminalId: 'T-1' },
        }),
      ),
    );
    expect(catalogue.calls[0]).toMatchObject({ priceList: 'STORE', salesChannel: 'IN_STORE' });
    expect(planned).toEqual([
      {
        items: [
          { skuCode: 'A', quantity: 2 },
          { skuCode: 'B', quantity: 3 },
        ],
        type: 'IN_STORE_CARRY_OUT',
        storeLocationId: 'store-3',
      },
    ]);
    expect(payments.requests[0]).toMatchObject({ method: 'STORE_TERMINAL', storeId: 'store-3', terminalId: 'T-1' });
    expect(order.status).toBe('COMPLETED');
    expect(inventory.holds.get('o-1.g1')?.state).toBe('COMMITTED');
  });

  it('a repeat with the same request id returns the same order without calling anything again', async () => {
    const { deps, catalogue, inventory, payments } = setup();
    const first = await drive(placeOrder(deps, cardOrder()));
    const calls = [catalogue.calls.length, inventory.calls.length, payments.calls.length];
    const again = await drive(placeOrder(deps, cardOrder()));
    expect(again).toEqual(first);
    expect([catalogue.calls.length, inventory.calls.length, payments.calls.length]).toEqual(calls);
  });

  it('the same request id with other content is ALREADY_EXISTS', async () => {
    const { deps } = setup();
    await drive(placeOrder(deps, cardOrder()));
    expect(await kindOf(placeOrder(deps, cardOrder({ lines: [{ skuCode: 'A', quantity: 1 }] })))).toBe(
      'already-exists',
    );
    // Another card with the same last four digits is the same content; another last four is not.
    expect(
      await kindOf(placeOrder(deps, cardOrder({ payment: { method: 'CARD', cardNumber: '5555555555554444' } }))),
    ).toBe('already-exists');
  });

  it('a marketplace order repeated under another request id is the same order', async () => {
    const { deps, catalogue } = setup();
    const marketplace = { partnerId: 'tmall', externalOrderId: 'TM-1' };
    const first = await drive(placeOrder(deps, cardOrder({ channel: 'MARKETPLACE', marketplace })));
    const again = await drive(placeOrder(deps, cardOrder({ channel: 'MARKETPLACE', marketplace, requestId: 'req-2' })));
    expect(again.id).toBe(first.id);
    expect(catalogue.calls).toHaveLength(1);
    expect(
      await kindOf(
        placeOrder(deps, cardOrder({ channel: 'MARKETPLACE', marketplace, requestId: 'req-3', currency: 'USD' })),
      ),
    ).toBe('already-exists');
  });

  it('invalid input is refused before anything is stored', async () => {
    const { deps, memory, catalogue } = setup();
    expect(await kindOf(placeOrder(deps, cardOrder({ lines: [] })))).toBe('invalid-argument');
    expect(memory.rows.size).toBe(0);
    expect(catalogue.calls).toEqual([]);
  });

  it('pricing refused → REJECTED at once, nothing held', async () => {
    const { deps, catalogue, inventory, payments } = setup();
    catalogue.mode = 'refuse';
    const order = await drive(placeOrder(deps, cardOrder()));
    expect(order).toMatchObject({ status: 'REJECTED', statusReason: 'pricing failed: SKU "B" is not sellable' });
    expect(inventory.calls).toEqual([]);
    expect(payments.calls).toEqual([]);
  });

  it('declined → REJECTED, every hold released and the payment voided', async () => {
    const { deps, inventory, payments } = setup();
    inventory.plan = splitPlan;
    payments.mode.authorize = 'decline';
    const order = await drive(placeOrder(deps, cardOrder()));
    expect(order).toMatchObject({ status: 'REJECTED', statusReason: 'payment declined: insufficient funds' });
    expect(inventory.calls.filter((c) => c.startsWith('release'))).toEqual(['release o-1.g1', 'release o-1.g2']);
    expect(payments.calls).toContain('voidAll o-1');
    expect(order.tasks).toEqual([]);
  });

  it('a dependency down leaves the order PENDING with nextRunAt; recovery finishes it once it is back', async () => {
    const { deps, catalogue } = setup();
    catalogue.mode = 'down';
    const pending = await drive(placeOrder(deps, walletOrder()));
    expect(pending.status).toBe('PENDING');
    expect(pending.tasks).toMatchObject([{ kind: 'PRICE', lastError: 'unavailable' }]);
    expect(pending.tasks[0]!.attempts).toBeGreaterThanOrEqual(2);
    expect(pending.nextRunAt!.getTime()).toBeGreaterThan(Date.now());
    expect(await deps.orders.due(new Date(), 10)).toEqual([]);

    catalogue.mode = 'ok';
    jest.setSystemTime(pending.nextRunAt);
    expect(await deps.orders.due(new Date(), 10)).toEqual(['o-1']);
    expect(await drive(recoverDue(deps, 10))).toBe(1);
    const order = await getOrder(deps, 'o-1');
    expect(order.status).toBe('AWAITING_PAYMENT');
    expect(order.payment.walletQrPayload).toBe('qr://pay-1');
    expect(await deps.orders.due(new Date(Date.now() + 3_600_000), 10)).toEqual([]);
  });

  it('recovery leaves an order alone while another runner holds an unexpired claim', async () => {
    const { deps, memory, catalogue } = setup();
    catalogue.mode = 'down';
    const pending = await drive(placeOrder(deps, walletOrder()));
    catalogue.mode = 'ok';
    memory.claimAs('o-1', { owner: 'runner-2', until: new Date(pending.nextRunAt!.getTime() + 10_000) });
    jest.setSystemTime(pending.nextRunAt);
    expect(await drive(recoverDue(deps, 10))).toBe(0);
    expect((await getOrder(deps, 'o-1')).status).toBe('PENDING');
    jest.setSystemTime(pending.nextRunAt!.getTime() + 10_001);
    expect(await drive(recoverDue(deps, 10))).toBe(1);
    expect((await getOrder(deps, 'o-1')).status).toBe('AWAITING_PAYMENT');
  });

  it('a crash after the hold was made but before it was recorded: recovery holds once (same hold id)', async () => {
    const { deps, inventory } = setup();
    inventory.mode.reserve = 'down';
    const pending = await drive(placeOrder(deps, walletOrder()));
    expect(pending.tasks[0]).toMatchObject({ kind: 'HOLD', groupId: 'g1' });
    inventory.mode.reserve = 'ok';
    // The runner reserved and crashed before recording the answer.
    expect(await executeTask(deps, pending, pending.tasks[0]!)).toEqual({ kind: 'held' });
    jest.setSystemTime(pending.nextRunAt);
    await drive(recoverDue(deps, 10));
    expect(inventory.calls.filter((c) => c === 'reserve o-1.g1').length).toBeGreaterThanOrEqual(3);
    expect([...inventory.holds.keys()]).toEqual(['o-1.g1']);
    expect((await getOrder(deps, 'o-1')).status).toBe('AWAITING_PAYMENT');
  });

  it('a card saga resumed after a restart adopts the authorisation payments already made', async () => {
    const { deps, payments } = setup();
    payments.mode.authorize = 'lost';
    const pending = await drive(placeOrder(deps, cardOrder()));
    expect(pending.status).toBe('PENDING');
    expect(pending.tasks[0]?.kind).toBe('AUTHORIZE');
    const authorizeCalls = payments.calls.filter((c) => c.startsWith('authorize')).length;
    jest.setSystemTime(pending.nextRunAt);
    // Another process (its own runner id), without the first one's memory of the card.
    await drive(recoverDue({ ...deps, runnerId: 'runner-after-restart' }, 10));
    const order = await getOrder(deps, 'o-1');
    expect(order.status).toBe('CONFIRMED');
    expect(order.payment).toMatchObject({ paymentId: 'pay-1', authorizedMinor: 2750 });
    expect(payments.calls.filter((c) => c.startsWith('authorize'))).toHaveLength(authorizeCalls);
    expect(payments.calls).toContain('paymentOfOrder o-1');
  });

  it('a card saga resumed by the process that took the call charges the card it kept in memory', async () => {
    const { deps, payments } = setup();
    payments.mode.authorize = 'down';
    const pending = await drive(placeOrder(deps, cardOrder()));
    expect(pending.status).toBe('PENDING');
    payments.mode.authorize = 'ok';
    jest.setSystemTime(pending.nextRunAt);
    // The process hands its use cases copies of its deps (the gRPC handlers get a logger added): same runner.
    await drive(recoverDue({ ...deps }, 10));
    const order = await getOrder(deps, 'o-1');
    expect(order.status).toBe('CONFIRMED');
    expect(payments.requests.at(-1)).toMatchObject({ key: 'o-1:authorize', cardNumber: VISA });
    // Never written: the stored order knows only the last four digits.
    expect(JSON.stringify(order)).not.toContain(VISA);
  });

  it('a card saga resumed after a restart (the card is gone with the process) rejects, releases and voids', async () => {
    const { deps, inventory, payments } = setup();
    payments.mode.authorize = 'down';
    const pending = await drive(placeOrder(deps, cardOrder()));
    expect(pending.status).toBe('PENDING');
    payments.mode.authorize = 'ok';
    jest.setSystemTime(pending.nextRunAt);
    // Another process (same stores and clients, its own runner id): nothing of the first one's memory.
    const restarted = { ...deps, runnerId: 'runner-after-restart' };
    await drive(recoverDue(restarted, 10));
    const order = await getOrder(deps, 'o-1');
    expect(order.status).toBe('REJECTED');
    expect(order.statusReason).toBe(
      'payment declined: the placement was interrupted before the card was charged; place the order again',
    );
    expect(inventory.holds.get('o-1.g1')?.state).toBe('RELEASED');
    expect(payments.voided).toEqual(['o-1']);
    expect(payments.payments.size).toBe(0);
  });

  it('a repeat of a PENDING placement resumes the saga with the repeated request’s card', async () => {
    const { deps, payments } = setup();
    payments.mode.authorize = 'down';
    const pending = await drive(placeOrder(deps, cardOrder()));
    payments.mode.authorize = 'ok';
    jest.setSystemTime(pending.nextRunAt);
    const again = await drive(placeOrder(deps, cardOrder()));
    expect(again.status).toBe('CONFIRMED');
    expect(payments.requests.at(-1)).toMatchObject({ key: 'o-1:authorize', cardNumber: VISA });
  });

  it('the placement deadline passing during an AUTHORIZE retry rejects and voids', async () => {
    const { deps, inventory, payments } = setup();
    payments.mode.authorize = 'down';
    payments.mode.paymentOfOrder = 'down';
    const pending = await drive(placeOrder(deps, cardOrder()));
    expect(pending.tasks[0]).toMatchObject({ kind: 'AUTHORIZE' });
    jest.setSystemTime(pending.placementDeadline.getTime() + 1);
    await drive(recoverDue(deps, 10));
    const order = await getOrder(deps, 'o-1');
    expect(order.status).toBe('REJECTED');
    expect(order.statusReason).toBe('could not be placed in time (authorize: unavailable)');
    expect(inventory.holds.get('o-1.g1')?.state).toBe('RELEASED');
    expect(payments.voided).toEqual(['o-1']);
    expect(order.tasks).toEqual([]);
  });
});

describe('order commands and events', () => {
  async function confirmed(input = cardOrder()) {
    const ctx = setup();
    ctx.inventory.plan = splitPlan;
    const order = await drive(placeOrder(ctx.deps, input));
    expect(order.status).toBe('CONFIRMED');
    return { ...ctx, order };
  }

  it('cancelOrder releases every hold and voids the payment', async () => {
    const { deps, inventory, payments } = await confirmed();
    const order = await drive(cancelOrder(deps, { orderId: 'o-1', reason: ' changed my mind ' }));
    expect(order).toMatchObject({ status: 'CANCELLED', statusReason: 'changed my mind', tasks: [] });
    expect(inventory.holds.get('o-1.g1')?.state).toBe('RELEASED');
    expect(inventory.holds.get('o-1.g2')?.state).toBe('RELEASED');
    expect(payments.voided).toEqual(['o-1']);
    // A repeat answers the cancelled order and changes nothing.
    const again = await drive(cancelOrder(deps, { orderId: 'o-1', reason: 'again' }));
    expect(again).toEqual(order);
    expect(payments.voided).toEqual(['o-1']);
  });

  it('cancelOrder validates its input and refuses unknown orders', async () => {
    const { deps } = await confirmed();
    expect(await kindOf(cancelOrder(deps, { orderId: '', reason: '  ' }))).toBe('invalid-argument');
    expect(await kindOf(cancelOrder(deps, { orderId: 'o-1', reason: 'x'.repeat(501) }))).toBe('invalid-argument');
    expect(await kindOf(cancelOrder(deps, { orderId: 'o-9', reason: 'x' }))).toBe('not-found');
  });

  it('OUT_FOR_DELIVERY commits the hold and captures the group with its own key; DELIVERED completes', async () => {
    const { deps, memory, inventory, payments } = await confirmed();
    await onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g1', step: 'OUT_FOR_DELIVERY' });
    await idle(memory);
    expect(inventory.holds.get('o-1.g1')?.state).toBe('COMMITTED');
    expect([...payments.captures.entries()]).toEqual([['o-1:capture:g1', 2000]]);
    let order = await getOrder(deps, 'o-1');
    expect(order.status).toBe('IN_FULFILLMENT');
    expect(order.payment.capturedMinor).toBe(2000);

    await onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g2', step: 'DELIVERED' });
    await idle(memory);
    await onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g1', step: 'DELIVERED' });
    await idle(memory);
    order = await getOrder(deps, 'o-1');
    expect(order.status).toBe('COMPLETED');
    expect([...payments.captures.entries()]).toEqual([
      ['o-1:capture:g1', 2000],
      ['o-1:capture:g2', 750],
    ]);
    expect(memory.published.map((e) => e.type)).toEqual([
      'OrderPlaced',
      'OrderConfirmed',
      'OrderShipped',
      'OrderDelivered',
      'OrderDelivered',
      'OrderCompleted',
    ]);
  });

  it('fulfilment events: an unknown order is NOT_FOUND, an illegal step FAILED_PRECONDITION', async () => {
    const { deps } = await confirmed();
    expect(await kindOf(onFulfilmentEvent(deps, { orderId: 'o-9', groupId: 'g1', step: 'ACCEPTED' }))).toBe(
      'not-found',
    );
    expect(await kindOf(onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g1', step: 'PICKED_UP' }))).toBe(
      'failed-precondition',
    );
  });

  it('a wallet payment event confirms the order and extends the holds in the background', async () => {
    const { deps, memory, inventory } = setup();
    const waiting = await drive(placeOrder(deps, walletOrder()));
    expect(waiting.status).toBe('AWAITING_PAYMENT');
    await onPaymentEvent(deps, { orderId: 'o-9', paymentId: 'pay-1', kind: 'authorized' });
    await onPaymentEvent(deps, {
      orderId: 'o-1',
      paymentId: 'pay-1',
      kind: 'authorized',
      amount: { currency: 'CNY', amountMinor: 2750 },
    });
    await idle(memory);
    const order = await getOrder(deps, 'o-1');
    expect(order.status).toBe('CONFIRMED');
    expect(order.tasks).toEqual([]);
    expect(inventory.calls.at(-1)).toBe('extend o-1.g1');
  });

  it('a wallet payment that expired cancels the order and releases its stock', async () => {
    const { deps, memory, inventory, payments } = setup();
    await drive(placeOrder(deps, walletOrder()));
    await onPaymentEvent(deps, { orderId: 'o-1', paymentId: 'pay-1', kind: 'expired' });
    await idle(memory);
    const order = await getOrder(deps, 'o-1');
    expect(order).toMatchObject({ status: 'CANCELLED', statusReason: 'wallet payment expired unpaid', tasks: [] });
    expect(inventory.holds.get('o-1.g1')?.state).toBe('RELEASED');
    expect(payments.voided).toEqual(['o-1']);
  });

  it('requestReturn checks the location: unknown → NOT_FOUND, not taking returns → FAILED_PRECONDITION', async () => {
    const { deps, memory } = await confirmed();
    for (const groupId of ['g1', 'g2']) {
      await onFulfilmentEvent(deps, { orderId: 'o-1', groupId, step: 'DELIVERED' });
      await idle(memory);
    }
    expect((await getOrder(deps, 'o-1')).status).toBe('COMPLETED');
    const request = { requestId: 'rr-1', orderId: 'o-1', lines: [{ skuCode: 'B', quantity: 1 }], reason: 'too small' };
    expect(await kindOf(requestReturn(deps, { ...request, locationId: 'nowhere' }))).toBe('not-found');
    expect(await kindOf(requestReturn(deps, { ...request, locationId: 'wh-1' }))).toBe('failed-precondition');
    expect(await kindOf(requestReturn(deps, { ...request, orderId: 'o-9', locationId: 'store-3' }))).toBe('not-found');
    expect(await kindOf(requestReturn(deps, { ...request, requestId: '', locationId: 'store-3' }))).toBe(
      'invalid-argument',
    );
    expect((await getOrder(deps, 'o-1')).returns).toEqual([]);
  });

  it('a return at a store: requested, received → restocked there and refunded, PARTIALLY_RETURNED', async () => {
    const { deps, memory, inventory, payments } = await confirmed();
    for (const groupId of ['g1', 'g2']) {
      await onFulfilmentEvent(deps, { orderId: 'o-1', groupId, step: 'DELIVERED' });
      await idle(memory);
    }
    const request = {
      requestId: 'rr-1',
      orderId: 'o-1',
      locationId: 'store-3',
      lines: [{ skuCode: 'B', quantity: 2 }],
      reason: 'too small',
    };
    const { order: requested, returnId } = await requestReturn(deps, request);
    expect(returnId).toBe('r1');
    expect(requested.status).toBe('RETURN_REQUESTED');
    expect((await requestReturn(deps, request)).returnId).toBe('r1');

    const order = await drive(receiveReturn(deps, { orderId: 'o-1', returnId: 'r1' }));
    expect(order.status).toBe('PARTIALLY_RETURNED');
    expect(order.payment.refundedMinor).toBe(500);
    expect(inventory.restocked).toEqual([
      { requestId: 'o-1:r1:B', skuCode: 'B', locationId: 'store-3', quantity: 2, note: 'order o-1 r1' },
    ]);
    expect([...payments.refunds.entries()]).toEqual([['o-1:refund:r1', 500]]);
    expect(memory.published.filter((e) => e.type === 'OrderRefunded')).toEqual([
      { type: 'OrderRefunded', returnId: 'r1', amount: { currency: 'CNY', amountMinor: 500 } },
    ]);
  });

  it('listOrders needs a filter and answers newest first in pages', async () => {
    const { deps } = setup();
    await drive(placeOrder(deps, cardOrder()));
    jest.advanceTimersByTime(1_000);
    await drive(placeOrder(deps, cardOrder({ requestId: 'req-2' })));
    expect(await kindOf(listOrders(deps, {}, { size: 10 }))).toBe('invalid-argument');
    expect(await kindOf(listOrders(deps, { statuses: [] }, { size: 10 }))).toBe('invalid-argument');
    expect(
      await kindOf(listOrders(deps, { customerId: 'cust-1', placedAfter: t0, placedBefore: t0 }, { size: 10 })),
    ).toBe('invalid-argument');
    const first = await listOrders(deps, { customerId: 'cust-1' }, { size: 1 });
    expect(first.items.map((o) => o.id)).toEqual(['o-2']);
    const second = await listOrders(deps, { customerId: 'cust-1' }, { size: 1, after: first.after! });
    expect(second).toEqual({ items: [expect.objectContaining({ id: 'o-1' })] });
    expect((await listOrders(deps, { statuses: ['CONFIRMED'] }, { size: 10 })).items).toHaveLength(2);
  });

  it('getOrder: an empty id is INVALID_ARGUMENT, an unknown one NOT_FOUND', async () => {
    const { deps } = setup();
    expect(await kindOf(getOrder(deps, ''))).toBe('invalid-argument');
    expect(await kindOf(getOrder(deps, 'o-9'))).toBe('not-found');
  });

  const pickupOrder = () =>
    cardOrder({ fulfilment: { type: 'STORE_PICKUP', pickupLocationId: 'store-3' }, channel: 'APP' });

  /** Delivery's events taking every group of o-1 to READY_FOR_PICKUP. */
  async function readyForPickup(deps: Deps, memory: ReturnType<typeof memoryRepository>, groups: string[]) {
    for (const groupId of groups) {
      await onFulfilmentEvent(deps, { orderId: 'o-1', groupId, step: 'ACCEPTED' });
      await onFulfilmentEvent(deps, { orderId: 'o-1', groupId, step: 'READY_FOR_PICKUP' });
    }
    await idle(memory);
  }

  it('a pick-up nobody collected: hold released, payment voided, CANCELLED; a repeat changes nothing', async () => {
    const { deps, memory, inventory, payments } = await confirmed(pickupOrder());
    await readyForPickup(deps, memory, ['g1', 'g2']);
    expect((await getOrder(deps, 'o-1')).status).toBe('READY_FOR_PICKUP');

    await onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g1', step: 'PICKUP_EXPIRED' });
    await onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g2', step: 'PICKUP_EXPIRED' });
    await idle(memory);
    const order = await getOrder(deps, 'o-1');
    expect(order).toMatchObject({ status: 'CANCELLED', statusReason: 'pick-up not collected', tasks: [] });
    expect(inventory.holds.get('o-1.g1')?.state).toBe('RELEASED');
    expect(inventory.holds.get('o-1.g2')?.state).toBe('RELEASED');
    expect(payments.voided).toEqual(['o-1']);
    expect(payments.captures.size).toBe(0);
    expect(memory.published.at(-1)).toEqual({ type: 'OrderCancelled', reason: 'pick-up not collected' });

    const published = memory.published.length;
    const calls = [...inventory.calls, ...payments.calls];
    await onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g1', step: 'PICKUP_EXPIRED' });
    await idle(memory);
    expect(await getOrder(deps, 'o-1')).toEqual(order);
    expect(memory.published).toHaveLength(published);
    expect([...inventory.calls, ...payments.calls]).toEqual(calls);
  });

  it('a pick-up expired while the other group was collected: only the collected group captured; COMPLETED', async () => {
    const { deps, memory, inventory, payments } = await confirmed(pickupOrder());
    await readyForPickup(deps, memory, ['g1', 'g2']);
    await onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g2', step: 'PICKED_UP' });
    await idle(memory);
    expect([...payments.captures.entries()]).toEqual([['o-1:capture:g2', 750]]);

    await onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g1', step: 'PICKUP_EXPIRED' });
    await idle(memory);
    const order = await getOrder(deps, 'o-1');
    expect(order.status).toBe('COMPLETED');
    expect(order.payment).toMatchObject({ authorizedMinor: 2750, capturedMinor: 750, refundedMinor: 0 });
    expect([...payments.captures.entries()]).toEqual([['o-1:capture:g2', 750]]);
    // The expired group's share (the rest of the authorisation) is voided, after the capture.
    expect(payments.calls.slice(-2)).toEqual(['capture o-1:capture:g2', 'voidAll o-1']);
    expect(inventory.holds.get('o-1.g1')?.state).toBe('RELEASED');
    expect(inventory.holds.get('o-1.g2')?.state).toBe('COMMITTED');
    expect(memory.published.map((e) => e.type).slice(-2)).toEqual(['OrderPickedUp', 'OrderCompleted']);
  });

  it('a pick-up expiry is refused for a delivery group and for a pick-up group not ready', async () => {
    const delivery = await confirmed();
    expect(
      await kindOf(onFulfilmentEvent(delivery.deps, { orderId: 'o-1', groupId: 'g1', step: 'PICKUP_EXPIRED' })),
    ).toBe('failed-precondition');
    const pickup = await confirmed(pickupOrder());
    await onFulfilmentEvent(pickup.deps, { orderId: 'o-1', groupId: 'g1', step: 'ACCEPTED' });
    const before = await getOrder(pickup.deps, 'o-1');
    expect(
      await kindOf(onFulfilmentEvent(pickup.deps, { orderId: 'o-1', groupId: 'g1', step: 'PICKUP_EXPIRED' })),
    ).toBe('failed-precondition');
    expect(await getOrder(pickup.deps, 'o-1')).toEqual(before);
  });

  it('an overdue pick-up task is recorded on the timeline once, with no event; unknown orders are NOT_FOUND', async () => {
    const { deps, memory } = await confirmed(pickupOrder());
    const published = memory.published.length;
    const outcomes: string[] = [];
    deps.onReroute = (outcome) => outcomes.push(outcome);
    const overdue = { orderId: 'o-1', groupId: 'g2', taskId: 'task-9', deadline: new Date(t0.getTime() + 60_000) };
    await onTaskOverdue(deps, overdue);
    await onTaskOverdue(deps, overdue);
    await idle(memory);
    const timeline = await getTimeline(deps, 'o-1');
    const noted = timeline.filter((e) => e.cause.startsWith('delivery: task task-9'));
    expect(noted).toMatchObject([
      {
        status: 'CONFIRMED',
        groupId: 'g2',
        cause: 'delivery: task task-9 not accepted at store-7 by 2026-11-22T12:01:00.000Z',
      },
    ]);
    const order = await getOrder(deps, 'o-1');
    expect(order.status).toBe('CONFIRMED');
    expect(order.tasks).toEqual([]);
    expect(memory.published).toHaveLength(published);
    // A pick-up stays at the shopper's store: counted once as not allowed.
    expect(outcomes).toEqual(['not_allowed']);
    expect(await kindOf(onTaskOverdue(deps, { ...overdue, orderId: 'o-9' }))).toBe('not-found');
    expect(await kindOf(onTaskOverdue(deps, { ...overdue, groupId: 'g9' }))).toBe('not-found');
  });

  it('two events racing on one order are both applied (version-checked update re-applies the loser)', async () => {
    const { deps, memory } = await confirmed();
    await Promise.all([
      onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g1', step: 'ACCEPTED' }),
      onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g2', step: 'ACCEPTED' }),
    ]);
    await idle(memory);
    expect(memory.lostRaces()).toBeGreaterThan(0);
    const order = await getOrder(deps, 'o-1');
    expect(order.groups.map((g) => g.status)).toEqual(['IN_FULFILLMENT', 'IN_FULFILLMENT']);
    expect(memory.published.filter((e) => e.type === 'OrderInFulfillment')).toHaveLength(2);
  });
});

describe('re-routing a group nobody accepted', () => {
  const overdue = { orderId: 'o-1', groupId: 'g1', taskId: 'o-1.g1', deadline: new Date(t0.getTime() + 300_000) };
  /** wh-1 for the placement; afterwards store-3 has everything, unless the test says otherwise. */
  const elsewhere = (items: ItemQuantity[], query: PlanQuery): Allocation[] =>
    query.excludeLocationIds?.length
      ? [{ locationId: 'store-3', items, distanceM: 1500, sameDay: true }]
      : [{ locationId: 'wh-1', items, distanceM: 800, sameDay: true }];

  async function confirmedAtWarehouse() {
    const ctx = setup();
    ctx.inventory.plan = elsewhere;
    const outcomes: string[] = [];
    ctx.deps.onReroute = (outcome) => outcomes.push(outcome);
    const order = await drive(placeOrder(ctx.deps, cardOrder()));
    expect(order.groups.map((g) => [g.id, g.locationId])).toEqual([['g1', 'wh-1']]);
    return { ...ctx, outcomes };
  }

  it('plans elsewhere, holds there, then moves the group; the old hold is released, money untouched', async () => {
    const { deps, memory, inventory, payments, outcomes, taskErrors } = await confirmedAtWarehouse();
    const published = memory.published.length;
    await onTaskOverdue(deps, overdue);
    await idle(memory);
    // Redelivered: nothing more (no second plan, hold or event).
    await onTaskOverdue(deps, overdue);
    await idle(memory);

    expect(inventory.calls.slice(-3)).toEqual(['plan excluding wh-1', 'reserve o-1.g2', 'release o-1.g1']);
    expect(inventory.plans.at(-1)).toEqual({
      items: [
        { skuCode: 'A', quantity: 2 },
        { skuCode: 'B', quantity: 3 },
      ],
      type: 'HOME_DELIVERY',
      deliveryPoint: { latitude: 31.2, longitude: 121.5 },
      excludeLocationIds: ['wh-1'],
    });
    expect(inventory.holds.get('o-1.g1')?.state).toBe('RELEASED');
    expect(inventory.holds.get('o-1.g2')).toEqual({
      lines: [
        { skuCode: 'A', locationId: 'store-3', quantity: 2 },
        { skuCode: 'B', locationId: 'store-3', quantity: 3 },
      ],
      state: 'HELD',
    });
    const order = await getOrder(deps, 'o-1');
    expect(order.status).toBe('CONFIRMED');
    expect(order.tasks).toEqual([]);
    expect(order.groups.map((g) => [g.id, g.status, g.locationId, g.holdId, g.amount.amountMinor])).toEqual([
      ['g1', 'REROUTED', 'wh-1', 'o-1.g1', 2750],
      ['g2', 'CONFIRMED', 'store-3', 'o-1.g2', 2750],
    ]);
    expect(memory.published.slice(published)).toEqual([
      { type: 'OrderRerouted', fromGroupId: 'g1', toGroupId: 'g2', reason: 'not accepted in time' },
    ]);
    expect((await getTimeline(deps, 'o-1')).map((e) => e.cause)).toContain(
      'rerouted g1 from wh-1 to store-3: not accepted in time',
    );
    expect(order.payment).toMatchObject({ authorizedMinor: 2750, capturedMinor: 0, refundedMinor: 0 });
    expect(payments.calls).toEqual(['authorize o-1:authorize']);
    expect(outcomes).toEqual(['rerouted']);
    expect(taskErrors).toEqual([]);

    // The new group goes on: a late acceptance of g1 is refused; g2's dispatch captures the whole amount once.
    expect(await kindOf(onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g1', step: 'ACCEPTED' }))).toBe(
      'failed-precondition',
    );
    await onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g2', step: 'ACCEPTED' });
    await onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g2', step: 'OUT_FOR_DELIVERY' });
    await idle(memory);
    await onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g2', step: 'DELIVERED' });
    await idle(memory);
    const done = await getOrder(deps, 'o-1');
    expect(done.status).toBe('COMPLETED');
    expect([...payments.captures.entries()]).toEqual([['o-1:capture:g2', 2750]]);
    expect(inventory.holds.get('o-1.g2')?.state).toBe('COMMITTED');
  });

  it('no single other location has everything: noted, the group stays, nothing held; no retry', async () => {
    const { deps, memory, inventory, outcomes } = await confirmedAtWarehouse();
    inventory.plan = (items, query) =>
      query.excludeLocationIds?.length
        ? [
            { locationId: 'store-3', items: items.slice(0, 1), distanceM: 1500, sameDay: true },
            { locationId: 'store-7', items: items.slice(1), distanceM: 2500, sameDay: true },
          ]
        : [{ locationId: 'wh-1', items, distanceM: 800, sameDay: true }];
    await onTaskOverdue(deps, overdue);
    await idle(memory);
    let order = await getOrder(deps, 'o-1');
    expect(order.groups.map((g) => [g.id, g.status])).toEqual([['g1', 'CONFIRMED']]);
    expect(order.tasks).toEqual([]);
    expect((await getTimeline(deps, 'o-1')).at(-1)?.cause).toBe(
      'cannot re-route g1: no single location has every item (the plan needs store-3, store-7)',
    );
    expect(inventory.calls.filter((c) => c.startsWith('reserve'))).toEqual(['reserve o-1.g1']);

    // Infeasible outright (inventory refuses the plan): the same, once.
    const other = await confirmedAtWarehouse();
    other.inventory.mode.plan = 'refuse';
    await onTaskOverdue(other.deps, overdue);
    await idle(other.memory);
    order = await getOrder(other.deps, 'o-1');
    expect(order.groups.map((g) => g.status)).toEqual(['CONFIRMED']);
    expect((await getTimeline(other.deps, 'o-1')).at(-1)?.cause).toBe('cannot re-route g1: no location has SKU "A"');
    expect([...outcomes, ...other.outcomes]).toEqual(['no_location', 'no_location']);
  });

  it('inventory refuses the new hold (stock went meanwhile): noted, the group stays at its location', async () => {
    const { deps, memory, inventory, outcomes } = await confirmedAtWarehouse();
    inventory.mode.reserve = 'refuse';
    await onTaskOverdue(deps, overdue);
    await idle(memory);
    const order = await getOrder(deps, 'o-1');
    expect(order.groups.map((g) => [g.id, g.status, g.locationId])).toEqual([['g1', 'CONFIRMED', 'wh-1']]);
    expect(order.tasks).toEqual([]);
    expect(inventory.holds.get('o-1.g1')?.state).toBe('HELD');
    expect(inventory.holds.has('o-1.g2')).toBe(false);
    expect((await getTimeline(deps, 'o-1')).at(-1)?.cause).toBe(
      'cannot re-route g1: SKU "A" at wh-1: 2 requested, 0 available',
    );
    expect(outcomes).toEqual(['no_location']);
  });

  it('inventory down: the task waits and retries the same hold; recovery finishes the re-route', async () => {
    const { deps, memory, inventory } = await confirmedAtWarehouse();
    inventory.mode.reserve = 'down';
    await onTaskOverdue(deps, overdue);
    await idle(memory);
    let order = await getOrder(deps, 'o-1');
    expect(order.tasks).toMatchObject([{ kind: 'REROUTE', target: { locationId: 'store-3' } }]);
    inventory.mode.reserve = 'ok';
    await jest.advanceTimersByTimeAsync(31_000);
    await drive(recoverDue(deps, 10));
    await idle(memory);
    order = await getOrder(deps, 'o-1');
    expect(order.groups.map((g) => g.status)).toEqual(['REROUTED', 'CONFIRMED']);
    // One plan however often the hold was tried; every try held o-1.g2 at the same place.
    expect(inventory.calls.filter((c) => c.startsWith('plan excluding'))).toHaveLength(1);
    expect(new Set(inventory.calls.filter((c) => c.startsWith('reserve o-1.g2'))).size).toBe(1);
  });

  it('accepted while the re-route ran: the outcome is discarded and the new hold released', async () => {
    const { deps, memory, inventory, outcomes } = await confirmedAtWarehouse();
    const reserve = inventory.port.reserve.bind(inventory.port);
    inventory.port.reserve = async (request) => {
      const held = await reserve(request);
      // The location accepts just as the new hold is made.
      if (request.holdId === 'o-1.g2') {
        await onFulfilmentEvent(deps, { orderId: 'o-1', groupId: 'g1', step: 'ACCEPTED' });
      }
      return held;
    };
    await onTaskOverdue(deps, overdue);
    await idle(memory);
    const order = await getOrder(deps, 'o-1');
    expect(order.groups.map((g) => [g.id, g.status])).toEqual([['g1', 'IN_FULFILLMENT']]);
    expect(order.tasks).toEqual([]);
    expect(inventory.holds.get('o-1.g1')?.state).toBe('HELD');
    expect(inventory.holds.get('o-1.g2')?.state).toBe('RELEASED');
    expect(memory.published.map((e) => e.type)).not.toContain('OrderRerouted');
    expect(outcomes).toEqual(['discarded']);
  });

  it('cancelled while the re-route ran: every hold released, the payment voided, no re-route', async () => {
    const { deps, memory, inventory, payments } = await confirmedAtWarehouse();
    const plan = inventory.port.plan.bind(inventory.port);
    inventory.port.plan = async (query) => {
      const answer = await plan(query);
      if (query.excludeLocationIds?.length) await cancelOrder(deps, { orderId: 'o-1', reason: 'changed my mind' });
      return answer;
    };
    await onTaskOverdue(deps, overdue);
    await idle(memory);
    const order = await getOrder(deps, 'o-1');
    expect(order.status).toBe('CANCELLED');
    expect(order.groups.map((g) => g.status)).toEqual(['CANCELLED']);
    expect(order.tasks).toEqual([]);
    expect(inventory.holds.get('o-1.g1')?.state).toBe('RELEASED');
    expect(inventory.holds.has('o-1.g2')).toBe(false);
    expect(payments.voided).toEqual(['o-1']);
  });
});

describe('caller identity: what a principal may do (calls without one are internal, as above)', () => {
  const shopper: Principal = { role: 'shopper', subject: 'cust-1', storeIds: [], scopes: [] };
  const otherShopper: Principal = { ...shopper, subject: 'cust-2' };
  const staffAt = (...storeIds: string[]): Principal => ({ role: 'staff', subject: 'emp-1', storeIds, scopes: [] });
  const partner: Principal = { role: 'partner', subject: 'tmall', storeIds: ['store-p'], scopes: [] };
  const admin: Principal = { role: 'admin', subject: 'ops-1', storeIds: [], scopes: [] };
  const kiosk = (overrides: Partial<PlacementInput> = {}) =>
    cardOrder({ channel: 'STORE_KIOSK', storeId: 'store-3', ...overrides });
  const marketplace = (partnerId = 'tmall', overrides: Partial<PlacementInput> = {}) =>
    cardOrder({ channel: 'MARKETPLACE', marketplace: { partnerId, externalOrderId: 'TM-1' }, ...overrides });

  /** The refusal's kind and the fields it names. */
  async function refusalOf(promise: Promise<unknown>): Promise<{ kind: string; fields: string[]; message: string }> {
    try {
      await promise;
    } catch (error) {
      if (!(error instanceof OrderError)) throw error;
      return { kind: error.kind, fields: error.violations.map((v) => v.field), message: error.message };
    }
    throw new Error('expected an OrderError');
  }

  async function confirmedAsInternal(input = cardOrder()) {
    const ctx = setup();
    ctx.inventory.plan = splitPlan;
    const order = await drive(placeOrder(ctx.deps, input));
    expect(order.status).toBe('CONFIRMED');
    return { ...ctx, order };
  }

  it.each<[string, Principal, () => PlacementInput]>([
    ['a shopper, their own web order', shopper, () => cardOrder()],
    ['a shopper, their own app order', shopper, () => cardOrder({ channel: 'APP' })],
    ['staff, a kiosk order at their store', staffAt('store-3'), () => kiosk()],
    ['a partner, its own marketplace order', partner, () => marketplace()],
    ['an admin, anything', admin, () => kiosk({ customerId: 'cust-9' })],
  ])('PlaceOrder allows %s', async (_who, caller, input) => {
    const { deps } = setup();
    expect((await drive(placeOrder(deps, input(), { caller }))).status).toBe('CONFIRMED');
  });

  it.each<[string, Principal, () => PlacementInput, string]>([
    ['a shopper ordering for another customer', otherShopper, () => cardOrder(), 'customer_id'],
    ['a shopper at a store kiosk', shopper, () => kiosk(), 'channel'],
    ['a shopper as a marketplace', shopper, () => marketplace(), 'channel'],
    ['staff selling online', staffAt('store-3'), () => cardOrder(), 'channel'],
    ['staff at another store', staffAt('store-4'), () => kiosk(), 'store_id'],
    ['a partner placing a web order', partner, () => cardOrder(), 'channel'],
    ['a partner placing another partner’s order', partner, () => marketplace('jd'), 'marketplace.partner_id'],
  ])('PlaceOrder refuses %s before anything is written or called', async (_who, caller, input, field) => {
    const { deps, memory, catalogue, inventory, payments } = setup();
    const located: string[] = [];
    const location = inventory.port.location.bind(inventory.port);
    inventory.port.location = async (id) => (located.push(id), location(id));
    const refused = await refusalOf(placeOrder(deps, input(), { caller }));
    expect(refused).toMatchObject({ kind: 'permission-denied', fields: [field] });
    expect(refused.message).toContain(field);
    expect(memory.rows.size).toBe(0);
    expect([catalogue.calls, inventory.calls, payments.calls, located]).toEqual([[], [], [], []]);
  });

  it('PlaceOrder: a replay never reveals an order the caller may not see', async () => {
    const { deps, memory } = setup();
    const first = await drive(placeOrder(deps, cardOrder(), { caller: shopper }));
    // The same request id from another shopper (the gateway namespaces keys per caller; this is the defence behind it).
    const refused = await refusalOf(placeOrder(deps, cardOrder({ customerId: 'cust-2' }), { caller: otherShopper }));
    expect(refused.kind).toBe('already-exists');
    expect(refused.message).not.toContain(first.id);
    // The owner's replay, and an admin's, answer the order.
    expect((await drive(placeOrder(deps, cardOrder(), { caller: shopper }))).id).toBe(first.id);
    expect((await drive(placeOrder(deps, cardOrder(), { caller: admin }))).id).toBe(first.id);
    expect(memory.rows.size).toBe(1);
  });

  it('GetOrder and GetOrderTimeline: an order the caller may not see is NOT_FOUND, word for word', async () => {
    const { deps } = await confirmedAsInternal();
    const missing = await refusalOf(getOrder(deps, 'o-9', { caller: shopper }));
    expect(missing.message).toBe('Order "o-9" does not exist');
    for (const caller of [otherShopper, staffAt('store-3'), { ...partner, storeIds: [] }]) {
      const hidden = await refusalOf(getOrder(deps, 'o-1', { caller }));
      expect(hidden).toEqual({ kind: 'not-found', fields: [], message: 'Order "o-1" does not exist' });
      expect((await refusalOf(getTimeline(deps, 'o-1', { caller }))).kind).toBe('not-found');
    }
    // The customer, staff of a fulfilling location (the plan split it over wh-1 and store-7), a partner operating
    // one, and an admin see it.
    for (const caller of [shopper, staffAt('store-7'), staffAt('wh-1'), { ...partner, storeIds: ['wh-1'] }, admin]) {
      expect((await getOrder(deps, 'o-1', { caller })).id).toBe('o-1');
      expect((await getTimeline(deps, 'o-1', { caller })).length).toBeGreaterThan(0);
    }
  });

  it('staff see the orders their store sold; a partner the marketplace orders it placed', async () => {
    const { deps } = setup();
    const sold = await drive(placeOrder(deps, kiosk()));
    const placed = await drive(placeOrder(deps, marketplace('tmall', { requestId: 'req-2' })));
    expect((await getOrder(deps, sold.id, { caller: staffAt('store-3') })).id).toBe(sold.id);
    expect((await getOrder(deps, placed.id, { caller: partner })).id).toBe(placed.id);
    expect((await refusalOf(getOrder(deps, placed.id, { caller: { ...partner, subject: 'jd' } }))).kind).toBe(
      'not-found',
    );
  });

  it('CancelOrder of an order the caller may not see: NOT_FOUND, nothing changes', async () => {
    const { deps, memory, inventory, payments } = await confirmedAsInternal();
    const before = structuredClone(memory.rows.get('o-1')!.state);
    const published = memory.published.length;
    const hidden = await refusalOf(cancelOrder(deps, { orderId: 'o-1', reason: 'mine now' }, { caller: otherShopper }));
    expect(hidden).toEqual({ kind: 'not-found', fields: [], message: 'Order "o-1" does not exist' });
    expect(memory.rows.get('o-1')!.state).toEqual(before);
    expect(memory.published).toHaveLength(published);
    expect(payments.voided).toEqual([]);
    expect(inventory.calls.filter((c) => c.startsWith('release'))).toEqual([]);
    // The customer may.
    const cancelled = await drive(
      cancelOrder(deps, { orderId: 'o-1', reason: 'changed my mind' }, { caller: shopper }),
    );
    expect(cancelled.status).toBe('CANCELLED');
    expect(payments.voided).toEqual(['o-1']);
  });

  describe('returns', () => {
    async function completed() {
      const ctx = await confirmedAsInternal();
      for (const groupId of ['g1', 'g2']) {
        await onFulfilmentEvent(ctx.deps, { orderId: 'o-1', groupId, step: 'DELIVERED' });
        await idle(ctx.memory);
      }
      return ctx;
    }
    const returnAtStore3 = {
      requestId: 'rr-1',
      orderId: 'o-1',
      locationId: 'store-3',
      lines: [{ skuCode: 'B', quantity: 1 }],
      reason: 'too small',
    };

    it('RequestReturn of an order the caller may not see: NOT_FOUND, no return opened', async () => {
      const { deps } = await completed();
      const hidden = await refusalOf(requestReturn(deps, returnAtStore3, { caller: otherShopper }));
      expect(hidden).toEqual({ kind: 'not-found', fields: [], message: 'Order "o-1" does not exist' });
      expect((await getOrder(deps, 'o-1')).returns).toEqual([]);
      const { returnId } = await requestReturn(deps, returnAtStore3, { caller: shopper });
      expect(returnId).toBe('r1');
    });

    it('ReceiveReturn: staff acting for the return’s location or an admin; refusals change nothing', async () => {
      const { deps, memory, inventory, payments } = await completed();
      await requestReturn(deps, returnAtStore3, { caller: shopper });
      const before = structuredClone(memory.rows.get('o-1')!.state);
      const receive = (caller: Principal, returnId = 'r1') =>
        refusalOf(receiveReturn(deps, { orderId: 'o-1', returnId }, { caller }));

      // The customer sees the order but does not work at the store; wh-1's staff see it (they fulfilled it) but the
      // goods came back to store-3; a store that has nothing to do with it is told the order does not exist.
      expect(await receive(shopper)).toMatchObject({ kind: 'permission-denied' });
      expect(await receive(staffAt('wh-1'))).toMatchObject({ kind: 'permission-denied' });
      expect(await receive(staffAt('store-9'))).toEqual({
        kind: 'not-found',
        fields: [],
        message: 'Order "o-1" does not exist',
      });
      expect(await receive(otherShopper)).toMatchObject({ kind: 'not-found' });
      expect(await receive(staffAt('wh-1'), 'r9')).toMatchObject({ kind: 'not-found' });
      expect(memory.rows.get('o-1')!.state).toEqual(before);
      expect(inventory.restocked).toEqual([]);
      expect(payments.refunds.size).toBe(0);

      // store-3's staff receive it, though the order was neither sold nor fulfilled there: the return location makes
      // the order theirs to see too.
      expect((await getOrder(deps, 'o-1', { caller: staffAt('store-3') })).id).toBe('o-1');
      const received = await drive(
        receiveReturn(deps, { orderId: 'o-1', returnId: 'r1' }, { caller: staffAt('store-3') }),
      );
      expect(received.status).toBe('PARTIALLY_RETURNED');
      expect(inventory.restocked).toHaveLength(1);
    });

    it('ReceiveReturn by an admin', async () => {
      const { deps } = await completed();
      await requestReturn(deps, returnAtStore3);
      const received = await drive(receiveReturn(deps, { orderId: 'o-1', returnId: 'r1' }, { caller: admin }));
      expect(received.status).toBe('PARTIALLY_RETURNED');
    });
  });

  describe('ListOrders', () => {
    async function threeOrders() {
      const ctx = setup();
      await drive(placeOrder(ctx.deps, cardOrder()));
      jest.advanceTimersByTime(1_000);
      await drive(placeOrder(ctx.deps, kiosk({ requestId: 'req-2', customerId: 'cust-2' })));
      jest.advanceTimersByTime(1_000);
      await drive(placeOrder(ctx.deps, marketplace('tmall', { requestId: 'req-3', customerId: 'cust-3' })));
      return ctx;
    }
    const ids = async (promise: Promise<{ items: OrderState[] }>) => (await promise).items.map((o) => o.id);
    const page = { size: 10 };

    it('a shopper lists their own orders only: customer_id is forced, another one refused', async () => {
      const { deps } = await threeOrders();
      expect(await ids(listOrders(deps, {}, page, { caller: shopper }))).toEqual(['o-1']);
      expect(await ids(listOrders(deps, { channel: 'STORE_KIOSK' }, page, { caller: otherShopper }))).toEqual(['o-2']);
      expect(await ids(listOrders(deps, { customerId: 'cust-1' }, page, { caller: shopper }))).toEqual(['o-1']);
      expect(await refusalOf(listOrders(deps, { customerId: 'cust-2' }, page, { caller: shopper }))).toMatchObject({
        kind: 'permission-denied',
        fields: ['customer_id'],
      });
    });

    it('staff list one of their stores: store_id required, another store refused', async () => {
      const { deps } = await threeOrders();
      const staff = staffAt('store-3');
      expect(await ids(listOrders(deps, { storeId: 'store-3' }, page, { caller: staff }))).toEqual(['o-2']);
      expect(await refusalOf(listOrders(deps, { customerId: 'cust-2' }, page, { caller: staff }))).toMatchObject({
        kind: 'invalid-argument',
        fields: ['store_id'],
      });
      expect(await refusalOf(listOrders(deps, { storeId: 'store-4' }, page, { caller: staff }))).toMatchObject({
        kind: 'permission-denied',
        fields: ['store_id'],
      });
    });

    it('a partner lists its own marketplace orders, or one of its stores', async () => {
      const { deps } = await threeOrders();
      expect(await ids(listOrders(deps, {}, page, { caller: partner }))).toEqual(['o-3']);
      expect(await ids(listOrders(deps, { partnerId: 'tmall' }, page, { caller: partner }))).toEqual(['o-3']);
      expect(await ids(listOrders(deps, { channel: 'WEB' }, page, { caller: partner }))).toEqual([]);
      // A store it does not operate only narrows its own orders.
      expect(await ids(listOrders(deps, { storeId: 'store-3' }, page, { caller: partner }))).toEqual([]);
      const operator = { ...partner, storeIds: ['store-3'] };
      expect(await ids(listOrders(deps, { storeId: 'store-3' }, page, { caller: operator }))).toEqual(['o-2']);
      expect(await refusalOf(listOrders(deps, { partnerId: 'jd' }, page, { caller: partner }))).toMatchObject({
        kind: 'permission-denied',
        fields: ['partner_id'],
      });
    });

    it('an admin, and an internal call, list with any filter, partner_id included', async () => {
      const { deps } = await threeOrders();
      expect(await ids(listOrders(deps, { partnerId: 'tmall' }, page, { caller: admin }))).toEqual(['o-3']);
      expect(await ids(listOrders(deps, { partnerId: 'tmall' }, page))).toEqual(['o-3']);
      expect(await ids(listOrders(deps, { statuses: ['CONFIRMED'] }, page, { caller: admin }))).toEqual([
        'o-3',
        'o-2',
        'o-1',
      ]);
      expect(await kindOf(listOrders(deps, {}, page, { caller: admin }))).toBe('invalid-argument');
    });
  });
});
