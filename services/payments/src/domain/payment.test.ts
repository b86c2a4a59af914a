import { deadlineProblems, isCardNumber, validateAuthorizeInput } from './authorize-input';
import { PaymentError } from './errors';
import { ledgerProblems, sumLedger } from './ledger';
import { deriveStatus, MAX_OPERATIONS, Payment, type PaymentInit, type PaymentState } from './payment';

const now = new Date('2026-11-22T12:00:00.000Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const cny = (amountMinor: number) => ({ currency: 'CNY', amountMinor });
const op = (key: string, hash = `h-${key}`) => ({ key, hash });

function init(overrides: Partial<PaymentInit> = {}): PaymentInit {
  return {
    id: 'pay_000000000000000000000001',
    orderId: 'order-1',
    method: 'CARD',
    currency: 'CNY',
    amountMinor: 1000,
    authorizeKey: 'auth-1',
    providerRef: 'ref-1',
    card: { last4: '4242' },
    ...overrides,
  };
}

function authorized(): Payment {
  return Payment.authorized(init(), now).payment;
}

/** The ledger adds up to the balances and obeys the money rules. */
function expectBalanced(state: PaymentState): void {
  expect(ledgerProblems(state.ledger, state.balances, state)).toEqual([]);
  expect(sumLedger(state.ledger)).toEqual(state.balances);
}

function kindOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof PaymentError) return error.kind;
    throw error;
  }
  throw new Error('expected a PaymentError');
}

describe('Payment state machine and ledger', () => {
  it('authorises: one AUTHORIZATION entry, PaymentAuthorized', () => {
    const { payment, events } = Payment.authorized(init(), now);
    const state = payment.snapshot();
    expect(state.status).toBe('AUTHORIZED');
    expect(state.ledger).toEqual([
      { sequence: 1, kind: 'AUTHORIZATION', amountMinor: 1000, currency: 'CNY', key: 'auth-1', at: now },
    ]);
    expect(events.map((e) => e.type)).toEqual(['PaymentAuthorized']);
    expectBalanced(state);
  });

  it('captures partially and repeatedly up to the authorised amount, then refuses over-capture', () => {
    const p = authorized();
    expect(p.capture(op('c1'), cny(300), later(1)).events[0]?.type).toBe('PaymentCaptured');
    expect(p.status).toBe('PARTIALLY_CAPTURED');
    p.capture(op('c2'), cny(700), later(2));
    expect(p.status).toBe('CAPTURED');
    expect(kindOf(() => p.capture(op('c3'), cny(1), later(3)))).toBe('failed-precondition');
    const state = p.snapshot();
    expect(state.balances).toEqual({ authorized: 1000, captured: 1000, voided: 0, refunded: 0 });
    expect(state.version).toBe(3);
    expectBalanced(state);
  });

  it('refuses a capture above what is capturable and leaves the ledger alone', () => {
    const p = authorized();
    p.capture(op('c1'), cny(600), now);
    const before = p.snapshot();
    expect(kindOf(() => p.capture(op('c2'), cny(401), now))).toBe('failed-precondition');
    expect(p.snapshot()).toEqual(before);
  });

  it('answers a repeated operation key with the first entry and no events; other content is refused', () => {
    const p = authorized();
    const first = p.capture(op('c1'), cny(300), now);
    const again = p.capture(op('c1'), cny(300), later(5));
    expect(again).toEqual({ events: [], entry: first.entry, replay: true });
    expect(p.snapshot().balances.captured).toBe(300);
    expect(kindOf(() => p.capture(op('c1', 'other-hash'), cny(400), now))).toBe('invalid-argument');
    expect(kindOf(() => p.refund(op('c1'), cny(10), '', now))).toBe('invalid-argument');
  });

  it('voids only the uncaptured rest; void after full capture is refused', () => {
    const p = authorized();
    p.capture(op('c1'), cny(400), now);
    const voided = p.void(op('v1'), 'order shipped short', now);
    expect(voided.entry).toMatchObject({ kind: 'VOID', amountMinor: 600 });
    expect(p.status).toBe('CAPTURED');
    expect(kindOf(() => p.void(op('v2'), '', now))).toBe('failed-precondition');

    const full = authorized();
    full.capture(op('c1'), cny(1000), now);
    expect(kindOf(() => full.void(op('v1'), '', now))).toBe('failed-precondition');
    expectBalanced(p.snapshot());
  });

  it('a voided payment can be neither captured nor refunded', () => {
    const p = authorized();
    p.void(op('v1'), 'cancelled', now);
    expect(p.status).toBe('VOIDED');
    expect(kindOf(() => p.capture(op('c1'), cny(1), now))).toBe('failed-precondition');
    expect(kindOf(() => p.refund(op('r1'), cny(1), '', now))).toBe('failed-precondition');
    expectBalanced(p.snapshot());
  });

  it('refunds partially and repeatedly, never more than captured', () => {
    const p = authorized();
    p.capture(op('c1'), cny(800), now);
    p.refund(op('r1'), cny(300), 'one item returned', now);
    expect(p.status).toBe('PARTIALLY_REFUNDED');
    expect(kindOf(() => p.refund(op('r2'), cny(501), '', now))).toBe('failed-precondition');
    p.refund(op('r2'), cny(500), '', now);
    expect(p.status).toBe('PARTIALLY_REFUNDED'); // 200 still capturable
    p.void(op('v1'), '', now);
    expect(p.status).toBe('REFUNDED');
    expect(p.snapshot().balances).toEqual({ authorized: 1000, captured: 800, voided: 200, refunded: 800 });
    expectBalanced(p.snapshot());
  });

  it('refuses a currency mismatch and bad amounts as invalid arguments', () => {
    const p = authorized();
    expect(kindOf(() => p.capture(op('c1'), { currency: 'USD', amountMinor: 100 }, now))).toBe('invalid-argument');
    expect(kindOf(() => p.capture(op('c2'), cny(0), now))).toBe('invalid-argument');
    expect(kindOf(() => p.capture(op('c3'), cny(-5), now))).toBe('invalid-argument');
    expect(kindOf(() => p.capture(op('c4'), cny(1.5), now))).toBe('invalid-argument');
    expect(kindOf(() => p.capture(op('c5'), { currency: 'XXX', amountMinor: 1 }, now))).toBe('invalid-argument');
    expect(p.snapshot().ledger).toHaveLength(1);
  });

  it('declines without moving money', () => {
    const { payment, events } = Payment.declined(init(), { reason: 'STOLEN_CARD', message: 'stolen' }, now);
    expect(payment.status).toBe('DECLINED');
    expect(events).toMatchObject([{ type: 'PaymentDeclined', reason: 'STOLEN_CARD' }]);
    expect(payment.snapshot().ledger).toEqual([]);
    expect(kindOf(() => payment.capture(op('c'), cny(1), now))).toBe('failed-precondition');
    expect(kindOf(() => payment.void(op('v'), '', now))).toBe('failed-precondition');
  });

  it('store sales are authorised and captured at once', () => {
    const { payment, events } = Payment.storeSale(init({ method: 'CASH', providerRef: '', card: undefined }), now);
    expect(payment.status).toBe('CAPTURED');
    expect(events.map((e) => e.type)).toEqual(['PaymentAuthorized', 'PaymentCaptured']);
    expect(payment.snapshot().ledger.map((e) => e.kind)).toEqual(['AUTHORIZATION', 'CAPTURE']);
    payment.refund(op('r1'), cny(1000), 'returned in store', now);
    expect(payment.status).toBe('REFUNDED');
    expectBalanced(payment.snapshot());
  });

  describe('wallet QR', () => {
    const wallet = () =>
      Payment.pending(
        init({
          method: 'WALLET_QR',
          card: undefined,
          wallet: { channel: 'ALIPAY', qrPayload: 'qr' },
          expiresAt: later(60_000),
        }),
        now,
      ).payment;

    it('pending → paid → authorised; the same transaction again changes nothing', () => {
      const p = wallet();
      expect(p.status).toBe('PENDING');
      expect(kindOf(() => p.capture(op('c'), cny(1), now))).toBe('failed-precondition');
      expect(p.walletPaid('tx1', cny(1000), later(10)).map((e) => e.type)).toEqual(['PaymentAuthorized']);
      expect(p.status).toBe('AUTHORIZED');
      expect(p.walletPaid('tx1', cny(1000), later(20))).toEqual([]);
      expect(kindOf(() => p.walletPaid('tx2', cny(1000), later(20)))).toBe('failed-precondition');
      expectBalanced(p.snapshot());
    });

    it('refuses a paid amount other than the payment amount', () => {
      expect(kindOf(() => wallet().walletPaid('tx1', cny(999), now))).toBe('failed-precondition');
    });

    it('expires at its deadline, not before; a paid one is left alone', () => {
      const p = wallet();
      expect(kindOf(() => p.expire(later(59_999)))).toBe('failed-precondition');
      expect(p.expire(later(60_000)).map((e) => e.type)).toEqual(['PaymentExpired']);
      expect(p.status).toBe('EXPIRED');
      expect(p.expire(later(70_000))).toEqual([]);

      const paid = wallet();
      paid.walletPaid('tx1', cny(1000), now);
      expect(paid.expire(later(60_000))).toEqual([]);
      expect(paid.status).toBe('AUTHORIZED');
    });

    it('a payment that arrives after the intent closed is recorded and released at once', () => {
      const p = wallet();
      p.expire(later(60_000));
      const events = p.walletPaid('tx-late', cny(1000), later(61_000));
      expect(events).toMatchObject([{ type: 'PaymentVoided', amount: cny(1000) }]);
      const state = p.snapshot();
      expect(state.ledger.map((e) => `${e.kind}:${e.amountMinor}`)).toEqual(['AUTHORIZATION:1000', 'VOID:1000']);
      expect(state.wallet).toMatchObject({ transactionId: 'tx-late', lateRelease: true });
      expect(p.status).toBe('VOIDED');
      expect(p.walletPaid('tx-late', cny(1000), later(62_000))).toEqual([]);
      expect(kindOf(() => p.walletPaid('tx-other', cny(1000), later(62_000)))).toBe('failed-precondition');
      expectBalanced(state);
    });

    it('closed by the provider: declined before the deadline, expired after it', () => {
      expect(
        wallet()
          .walletClosed(later(59_999))
          .map((e) => e.type),
      ).toEqual(['PaymentDeclined']);
      expect(
        wallet()
          .walletClosed(later(60_000))
          .map((e) => e.type),
      ).toEqual(['PaymentExpired']);
    });

    it('void of a pending payment closes it without money; a closed QR is declined', () => {
      const p = wallet();
      const outcome = p.void(op('v1'), 'order cancelled', now);
      expect(outcome.entry).toBeUndefined();
      expect(p.status).toBe('VOIDED');
      expect(p.void(op('v1'), 'order cancelled', now).replay).toBe(true);

      const closed = wallet();
      expect(closed.walletClosed(now)).toMatchObject([{ type: 'PaymentDeclined', reason: 'WALLET_CLOSED' }]);
      expect(closed.walletClosed(now)).toEqual([]);
    });
  });

  it('caps the number of operations per payment', () => {
    const p = Payment.authorized(init({ amountMinor: 1_000_000 }), now).payment;
    for (let i = 0; i < MAX_OPERATIONS; i++) p.capture(op(`c${i}`), cny(1), now);
    expect(kindOf(() => p.capture(op('one-more'), cny(1), now))).toBe('resource-exhausted');
    expectBalanced(p.snapshot());
  });

  it('derives the status from the balances', () => {
    const s = (authorized: number, captured: number, voided: number, refunded: number) =>
      deriveStatus({ status: 'AUTHORIZED', balances: { authorized, captured, voided, refunded } });
    expect(s(100, 0, 0, 0)).toBe('AUTHORIZED');
    expect(s(100, 40, 0, 0)).toBe('PARTIALLY_CAPTURED');
    expect(s(100, 40, 60, 0)).toBe('CAPTURED');
    expect(s(100, 0, 100, 0)).toBe('VOIDED');
    expect(s(100, 100, 0, 30)).toBe('PARTIALLY_REFUNDED');
    expect(s(100, 100, 0, 100)).toBe('REFUNDED');
    expect(deriveStatus({ status: 'EXPIRED', balances: { authorized: 0, captured: 0, voided: 0, refunded: 0 } })).toBe(
      'EXPIRED',
    );
  });

  it('detects a ledger that does not add up', () => {
    const state = authorized().snapshot();
    expect(ledgerProblems(state.ledger, { ...state.balances, captured: 5 }, state)).toEqual([
      'ledger captured sums to 0, balance is 5',
    ]);
    expect(ledgerProblems(state.ledger, { ...state.balances, refunded: 1 }, state)).toEqual([
      'ledger refunded sums to 0, balance is 1',
      'refunded more than was captured',
    ]);
  });
});

describe('AuthorizePayment input', () => {
  const base = { orderId: 'o-1', amount: cny(100), method: 'CARD' as const, card: { number: '4242424242424242' } };

  it('accepts a valid card request and checks the Luhn digit', () => {
    expect(validateAuthorizeInput(base)).toEqual([]);
    expect(isCardNumber('4242424242424241')).toBe(false);
    expect(validateAuthorizeInput({ ...base, card: { number: '4242424242424241' } })).toEqual([
      { field: 'card.number', description: 'must be 12..19 digits passing the Luhn check' },
    ]);
  });

  it('names every bad field', () => {
    const fields = validateAuthorizeInput({
      orderId: '',
      amount: { currency: 'cny', amountMinor: 0 },
      method: undefined,
    }).map((v) => v.field);
    expect(fields).toEqual(['order_id', 'amount.currency_code', 'amount.amount_minor', 'method']);
    expect(
      validateAuthorizeInput({ orderId: 'o', amount: cny(1), method: 'WALLET_QR', wallet: { channel: undefined } }),
    ).toMatchObject([{ field: 'wallet.channel' }]);
    const wallet = {
      orderId: 'o',
      amount: cny(1),
      method: 'WALLET_QR' as const,
      wallet: { channel: 'ALIPAY' as const },
    };
    expect(deadlineProblems({ ...wallet, expiresAt: later(500) }, now)).toMatchObject([{ field: 'expire_time' }]);
    expect(deadlineProblems({ ...wallet, expiresAt: later(25 * 3600_000) }, now)).toMatchObject([
      { field: 'expire_time' },
    ]);
    expect(deadlineProblems({ ...wallet, expiresAt: later(60_000) }, now)).toEqual([]);
    expect(validateAuthorizeInput({ ...base, method: 'STORE_TERMINAL' }).map((v) => v.field)).toEqual([
      'card',
      'store',
    ]);
  });
});
