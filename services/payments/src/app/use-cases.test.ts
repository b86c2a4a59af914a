// Use-case tests with in-memory fakes of the ports: crash safety, provider races, and sweepers on two replicas.
import { CardSimulator, storeTill, TEST_CARDS } from '../adapters/card-simulator';
import { WalletSimulator } from '../adapters/wallet-simulator';
import { PaymentError } from '../domain/errors';
import type { PaymentEvent } from '../domain/events';
import { Payment, type PaymentState } from '../domain/payment';
import type { Principal } from '@o2o/kit-grpc';
import { authorizePayment } from './authorize-payment';
import { capturePayment, refundPayment, voidPayment } from './change-payment';
import { getPayment, listPayments } from './queries';
import type { Deps, PaymentRepository } from './ports';
import { expireDue, reconcilePayment, reconcilePending } from './wallet-outcome';

/** An in-memory repository with the same contract as the Mongo one: version-checked writes, events beside state. */
function memoryRepository() {
  const rows = new Map<string, { state: PaymentState; hash: string }>();
  const published: PaymentEvent[] = [];
  let failNextInsert = false;
  const repo: PaymentRepository = {
    async insert(payment, events, hash) {
      if (failNextInsert) {
        failNextInsert = false;
        throw new Error('crash before the write');
      }
      const state = payment.snapshot();
      if (rows.has(state.id)) return 'exists';
      rows.set(state.id, { state, hash });
      published.push(...events);
      return 'inserted';
    },
    async find(id) {
      const row = rows.get(id);
      return row && { payment: Payment.fromState(row.state), authorizeHash: row.hash };
    },
    async update(id, change) {
      for (;;) {
        const row = rows.get(id);
        if (!row) throw new PaymentError('not-found', 'no such payment');
        const version = row.state.version;
        const payment = Payment.fromState(row.state);
        await Promise.resolve(); // let a concurrent writer interleave between read and write
        const result = change(payment);
        const state = payment.snapshot();
        if (result.events.length === 0) return { ...result, state };
        if (rows.get(id)!.state.version !== version) continue;
        rows.set(id, { state, hash: row.hash });
        published.push(...result.events);
        return { ...result, state };
      }
    },
    async listByOrder(orderId) {
      return { items: [...rows.values()].map((r) => r.state).filter((s) => s.orderId === orderId) };
    },
    async pendingWallet({ limit }) {
      return [...rows.values()]
        .map((r) => r.state)
        .filter((s) => s.status === 'PENDING')
        .slice(0, limit);
    },
  };
  return { repo, published, crashNextInsert: () => (failNextInsert = true) };
}

function setup(now = () => new Date()) {
  const memory = memoryRepository();
  const card = new CardSimulator();
  const wallet = new WalletSimulator('secret-secret-secret');
  const deps: Deps = {
    payments: memory.repo,
    providers: { card, wallet, store: storeTill },
    attempts: { record: async () => undefined },
    clock: { now },
    walletTtlMs: 60_000,
  };
  return { deps, memory, card, wallet };
}

const cardAuth = (key: string, number: string = TEST_CARDS.approve) => ({
  idempotencyKey: key,
  orderId: 'o-1',
  amount: { currency: 'CNY', amountMinor: 5000 },
  method: 'CARD' as const,
  card: { number },
});

describe('authorizePayment', () => {
  it('a crash between the provider approval and the write: the retry gets the same authorisation, stored once', async () => {
    const { deps, memory, card } = setup();
    memory.crashNextInsert();
    await expect(authorizePayment(deps, cardAuth('k1'))).rejects.toThrow('crash');
    const retried = await authorizePayment(deps, cardAuth('k1'));
    expect(card.authorizeCalls).toBe(2);
    expect(retried.status).toBe('AUTHORIZED');
    expect(memory.published.map((e) => e.type)).toEqual(['PaymentAuthorized']);
    // The provider answered the repeated key as the first time: one reference, one hold.
    expect((await deps.payments.find(retried.id))!.payment.snapshot().providerRef).toBe(retried.providerRef);
  });

  it('concurrent duplicates converge on one payment', async () => {
    const { deps, memory } = setup();
    const all = await Promise.all(Array.from({ length: 10 }, () => authorizePayment(deps, cardAuth('k2'))));
    expect(new Set(all.map((p) => JSON.stringify(p))).size).toBe(1);
    expect(memory.published).toHaveLength(1);
  });
});

describe('authorizePayment with a wallet deadline', () => {
  it('answers a repeat sent after the deadline with the first payment, not a deadline error', async () => {
    let clock = new Date('2026-11-22T12:00:00Z');
    const { deps } = setup(() => clock);
    const request = {
      idempotencyKey: 'w-late-repeat',
      orderId: 'o-5',
      amount: { currency: 'CNY', amountMinor: 100 },
      method: 'WALLET_QR' as const,
      wallet: { channel: 'ALIPAY' as const },
      expiresAt: new Date('2026-11-22T12:05:00Z'),
    };
    const first = await authorizePayment(deps, request);
    clock = new Date('2026-11-22T12:10:00Z');
    expect(await authorizePayment(deps, request)).toEqual(first);
    await expect(authorizePayment(deps, { ...request, idempotencyKey: 'new-key' })).rejects.toMatchObject({
      kind: 'invalid-argument',
      violations: [{ field: 'expire_time' }],
    });
  });
});

describe('money operations', () => {
  it('two different captures racing for the last money: the provider refuses one, the ledger never overdraws', async () => {
    const { deps } = setup();
    const p = await authorizePayment(deps, cardAuth('k3'));
    const results = await Promise.allSettled(
      ['a', 'b'].map((key) =>
        capturePayment(deps, { idempotencyKey: key, paymentId: p.id, amount: { currency: 'CNY', amountMinor: 3000 } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const state = (await deps.payments.find(p.id))!.payment.snapshot();
    expect(state.balances.captured).toBe(3000);
  });

  it('voiding a pending wallet payment the customer paid meanwhile records that money and releases it', async () => {
    const { deps, wallet, memory } = setup();
    const p = await authorizePayment(deps, {
      idempotencyKey: 'w1',
      orderId: 'o-2',
      amount: { currency: 'CNY', amountMinor: 700 },
      method: 'WALLET_QR',
      wallet: { channel: 'WECHAT_PAY' },
    });
    await wallet.pay(p.providerRef, { loseCallback: true });
    const result = await voidPayment(deps, { idempotencyKey: 'v', paymentId: p.id, reason: 'cancelled' });
    expect(result.payment.status).toBe('VOIDED');
    expect(result.payment.ledger.map((e) => `${e.kind}:${e.amountMinor}`)).toEqual(['AUTHORIZATION:700', 'VOID:700']);
    expect(memory.published.map((e) => e.type)).toEqual(['PaymentVoided', 'PaymentVoided']);
    // The provider gave the money back: nothing is left to release there.
    await expect(
      wallet.release({ key: 'another', reference: p.providerRef, amount: { currency: 'CNY', amountMinor: 1 } }),
    ).rejects.toThrow(/only 0 is open/);
  });
});

describe('expireDue', () => {
  it('two replicas sweeping at once expire a payment once', async () => {
    let clock = new Date('2026-11-22T12:00:00Z');
    const { deps, memory } = setup(() => clock);
    const p = await authorizePayment(deps, {
      idempotencyKey: 'w2',
      orderId: 'o-3',
      amount: { currency: 'CNY', amountMinor: 700 },
      method: 'WALLET_QR',
      wallet: { channel: 'ALIPAY' },
    });
    clock = new Date(clock.getTime() + 60_000);
    const counts = await Promise.all([expireDue(deps, { limit: 10 }), expireDue(deps, { limit: 10 })]);
    expect(counts.reduce((a, b) => a + b)).toBe(1);
    expect(memory.published.map((e) => e.type)).toEqual(['PaymentExpired']);
    expect((await deps.payments.find(p.id))!.payment.status).toBe('EXPIRED');
  });
});

describe('reconcilePending', () => {
  it('goes on past a payment it cannot handle and reports it', async () => {
    const { deps, wallet } = setup();
    const ids: string[] = [];
    for (const key of ['q1', 'q2']) {
      const p = await authorizePayment(deps, {
        idempotencyKey: key,
        orderId: 'o-4',
        amount: { currency: 'CNY', amountMinor: 100 },
        method: 'WALLET_QR',
        wallet: { channel: 'ALIPAY' },
      });
      await wallet.pay(p.providerRef, { loseCallback: true });
      ids.push(p.id);
    }
    wallet.faults.failNext('query');
    const failed: string[] = [];
    const options = { olderThanMs: 0, limit: 10, onFailure: (id: string) => failed.push(id) };
    expect(await reconcilePending(deps, options)).toBe(1);
    expect(failed).toHaveLength(1);
    expect(await reconcilePending(deps, options)).toBe(1);
    for (const id of ids) expect((await deps.payments.find(id))!.payment.status).toBe('AUTHORIZED');
  });
});

describe('caller identity: what a principal may do (calls without one are the orders saga’s, as above)', () => {
  const shopper: Principal = { role: 'shopper', subject: 'cust-1', storeIds: [], scopes: [] };
  const staffAt = (...storeIds: string[]): Principal => ({ role: 'staff', subject: 'emp-1', storeIds, scopes: [] });
  const partner: Principal = { role: 'partner', subject: 'tmall', storeIds: [], scopes: [] };
  const admin: Principal = { role: 'admin', subject: 'ops-1', storeIds: [], scopes: [] };
  const attribution = { customerId: 'cust-1', storeId: 'store-3', partnerId: '', locationIds: ['wh-1'] };

  async function kindOf(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof PaymentError) return error.kind;
      throw error;
    }
    return 'ok';
  }

  it('money moves only on internal calls or an admin’s: every other principal is refused, nothing changes', async () => {
    const { deps, memory, card } = setup();
    const p = await authorizePayment(deps, { ...cardAuth('k-own'), attribution });
    const published = memory.published.length;
    const calls = card.authorizeCalls;
    for (const caller of [shopper, staffAt('store-3'), partner]) {
      expect(await kindOf(authorizePayment(deps, cardAuth(`k-${caller.role}`), { caller }))).toBe('permission-denied');
      const money = { currency: 'CNY', amountMinor: 100 };
      const capture = { idempotencyKey: `c-${caller.role}`, paymentId: p.id, amount: money };
      expect(await kindOf(capturePayment(deps, capture, { caller }))).toBe('permission-denied');
      const refund = { idempotencyKey: `r-${caller.role}`, paymentId: p.id, amount: money, reason: 'x' };
      expect(await kindOf(refundPayment(deps, refund, { caller }))).toBe('permission-denied');
      const voiding = { idempotencyKey: `v-${caller.role}`, paymentId: p.id, reason: 'x' };
      expect(await kindOf(voidPayment(deps, voiding, { caller }))).toBe('permission-denied');
      expect(await kindOf(reconcilePayment(deps, p.id, { caller }))).toBe('permission-denied');
    }
    expect(memory.published).toHaveLength(published);
    expect(card.authorizeCalls).toBe(calls);
    expect(await getPayment(deps, p.id)).toEqual(p);
    // An admin may.
    const captured = await capturePayment(
      deps,
      { idempotencyKey: 'c-admin', paymentId: p.id, amount: { currency: 'CNY', amountMinor: 100 } },
      { caller: admin },
    );
    expect(captured.payment.status).toBe('PARTIALLY_CAPTURED');
  });

  it('stores the attribution, outside the idempotency check: a repeat with another one is the same request', async () => {
    const { deps } = setup();
    const first = await authorizePayment(deps, { ...cardAuth('k-attr'), attribution });
    expect(first.attribution).toEqual(attribution);
    const again = await authorizePayment(deps, {
      ...cardAuth('k-attr'),
      attribution: { ...attribution, customerId: 'x' },
    });
    expect(again).toEqual(first);
    expect(await authorizePayment(deps, cardAuth('k-attr'))).toEqual(first);
    expect(
      await kindOf(
        authorizePayment(deps, { ...cardAuth('k-bad'), attribution: { ...attribution, locationIds: [''] } }),
      ),
    ).toBe('invalid-argument');
  });

  it('GetPayment and ListPayments show a payment to whoever may see its order; others get NOT_FOUND / nothing', async () => {
    const { deps } = setup();
    const p = await authorizePayment(deps, { ...cardAuth('k-see'), attribution });
    const old = await authorizePayment(deps, { ...cardAuth('k-old'), orderId: 'o-old' });
    const page = { size: 10 };
    for (const caller of [shopper, staffAt('store-3'), staffAt('wh-1'), admin]) {
      expect((await getPayment(deps, p.id, { caller })).id).toBe(p.id);
      expect((await listPayments(deps, 'o-1', page, { caller })).items.map((x) => x.id)).toEqual([p.id]);
    }
    for (const caller of [{ ...shopper, subject: 'cust-2' }, staffAt('store-4'), partner]) {
      await expect(getPayment(deps, p.id, { caller })).rejects.toMatchObject({
        kind: 'not-found',
        message: `Payment "${p.id}" does not exist`,
      });
      expect((await listPayments(deps, 'o-1', page, { caller })).items).toEqual([]);
    }
    // Made before orders said whose it is: admins (and internal calls) only.
    expect(await kindOf(getPayment(deps, old.id, { caller: shopper }))).toBe('not-found');
    expect(await kindOf(getPayment(deps, old.id, { caller: staffAt('wh-1') }))).toBe('not-found');
    expect((await getPayment(deps, old.id, { caller: admin })).id).toBe(old.id);
    expect((await getPayment(deps, old.id)).id).toBe(old.id);
    expect((await listPayments(deps, 'o-old', page)).items).toHaveLength(1);
  });
});
