// Every refused request changes nothing: each case asserts the status and that the stored document (balances,
// ledger, version, outbox) is exactly what it was before.
import { status } from '@grpc/grpc-js';
import { PaymentMethod } from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { decodeFieldViolations } from '@o2o/kit-grpc';
import { cardRequest, cny, type Harness, ledgerSums, refusal, startHarness, walletRequest } from './harness';

let h: Harness;
let c: Harness['client'];

beforeAll(async () => {
  h = await startHarness();
  c = h.client;
});

afterAll(async () => {
  await h?.close();
});

/** A payment authorised for 100.00 CNY with `captured` of it captured. */
async function paymentWith(captured: number): Promise<string> {
  const { payment } = await c.authorizePayment(cardRequest());
  if (captured > 0) {
    await c.capturePayment({ idempotencyKey: 'setup-capture', paymentId: payment!.id, amount: cny(captured) });
  }
  return payment!.id;
}

/** Runs the call, expects it refused with `code`, and the stored payment unchanged; returns the violations. */
async function refusedUnchanged(id: string, call: () => Promise<unknown>, code: status) {
  const before = await h.stored(id);
  const outcome = await refusal(call());
  expect({ code: outcome.code, details: outcome.details }).toMatchObject({ code });
  const after = await h.stored(id);
  const strip = (d: typeof before) => d && { ...d, outbox: undefined };
  expect(strip(after)).toEqual(strip(before));
  expect(ledgerSums(after!)).toEqual(after!.balances);
  return decodeFieldViolations(outcome.metadata).map((v) => v.field);
}

describe('refused operations change nothing', () => {
  it('over-capture → FAILED_PRECONDITION', async () => {
    const id = await paymentWith(6000);
    await refusedUnchanged(
      id,
      () => c.capturePayment({ idempotencyKey: 'k', paymentId: id, amount: cny(4001) }),
      status.FAILED_PRECONDITION,
    );
  });

  it('over-refund → FAILED_PRECONDITION', async () => {
    const id = await paymentWith(3000);
    await c.refundPayment({ idempotencyKey: 'r1', paymentId: id, amount: cny(2000), reason: '' });
    await refusedUnchanged(
      id,
      () => c.refundPayment({ idempotencyKey: 'r2', paymentId: id, amount: cny(1001), reason: '' }),
      status.FAILED_PRECONDITION,
    );
  });

  it('void after full capture → FAILED_PRECONDITION', async () => {
    const id = await paymentWith(10000);
    await refusedUnchanged(
      id,
      () => c.voidPayment({ idempotencyKey: 'v', paymentId: id, reason: '' }),
      status.FAILED_PRECONDITION,
    );
  });

  it('refund of a voided payment → FAILED_PRECONDITION', async () => {
    const id = await paymentWith(0);
    await c.voidPayment({ idempotencyKey: 'v', paymentId: id, reason: 'cancelled' });
    await refusedUnchanged(
      id,
      () => c.refundPayment({ idempotencyKey: 'r', paymentId: id, amount: cny(1), reason: '' }),
      status.FAILED_PRECONDITION,
    );
  });

  it('capture of a PENDING wallet payment → FAILED_PRECONDITION', async () => {
    const { payment } = await c.authorizePayment(walletRequest());
    const id = payment!.id;
    await refusedUnchanged(
      id,
      () => c.capturePayment({ idempotencyKey: 'c', paymentId: id, amount: cny(1) }),
      status.FAILED_PRECONDITION,
    );
  });

  it('currency mismatch → INVALID_ARGUMENT on amount.currency_code', async () => {
    const id = await paymentWith(5000);
    const usd = { currencyCode: 'USD', amountMinor: '100' };
    expect(
      await refusedUnchanged(
        id,
        () => c.capturePayment({ idempotencyKey: 'c', paymentId: id, amount: usd }),
        status.INVALID_ARGUMENT,
      ),
    ).toEqual(['amount.currency_code']);
    expect(
      await refusedUnchanged(
        id,
        () => c.refundPayment({ idempotencyKey: 'r', paymentId: id, amount: usd, reason: '' }),
        status.INVALID_ARGUMENT,
      ),
    ).toEqual(['amount.currency_code']);
  });

  it('bad capture input → INVALID_ARGUMENT naming the field', async () => {
    const id = await paymentWith(0);
    const cases: [Parameters<typeof c.capturePayment>[0], string[]][] = [
      [{ idempotencyKey: 'k', paymentId: id, amount: cny(0) }, ['amount.amount_minor']],
      [{ idempotencyKey: 'k', paymentId: id, amount: cny(-100) }, ['amount.amount_minor']],
      [
        { idempotencyKey: 'k', paymentId: id, amount: { currencyCode: 'cny', amountMinor: '1' } },
        ['amount.currency_code'],
      ],
      [{ idempotencyKey: 'k', paymentId: id, amount: undefined }, ['amount']],
      [{ idempotencyKey: '', paymentId: id, amount: cny(1) }, ['idempotency_key']],
      [{ idempotencyKey: 'x'.repeat(129), paymentId: id, amount: cny(1) }, ['idempotency_key']],
    ];
    for (const [request, fields] of cases) {
      expect(await refusedUnchanged(id, () => c.capturePayment(request), status.INVALID_ARGUMENT)).toEqual(fields);
    }
  });

  it('bad void and refund input → INVALID_ARGUMENT naming the field', async () => {
    const id = await paymentWith(5000);
    const long = 'x'.repeat(501);
    expect(
      await refusedUnchanged(
        id,
        () => c.voidPayment({ idempotencyKey: 'v', paymentId: id, reason: long }),
        status.INVALID_ARGUMENT,
      ),
    ).toEqual(['reason']);
    expect(
      await refusedUnchanged(
        id,
        () => c.voidPayment({ idempotencyKey: '', paymentId: id, reason: '' }),
        status.INVALID_ARGUMENT,
      ),
    ).toEqual(['idempotency_key']);
    expect(
      await refusedUnchanged(
        id,
        () => c.refundPayment({ idempotencyKey: 'r', paymentId: id, amount: cny(100), reason: long }),
        status.INVALID_ARGUMENT,
      ),
    ).toEqual(['reason']);
    expect(
      await refusedUnchanged(
        id,
        () => c.refundPayment({ idempotencyKey: 'r', paymentId: id, amount: cny(0), reason: '' }),
        status.INVALID_ARGUMENT,
      ),
    ).toEqual(['amount.amount_minor']);
    const badId = await refusal(c.voidPayment({ idempotencyKey: 'v', paymentId: 'order-1', reason: '' }));
    expect(decodeFieldViolations(badId.metadata).map((v) => v.field)).toEqual(['payment_id']);
  });

  it('bad ListPayments input → INVALID_ARGUMENT', async () => {
    const list = (orderId: string, pageSize: number, pageToken = '') =>
      refusal(c.listPayments({ orderId, page: { pageSize, pageToken } }));
    expect(decodeFieldViolations((await list('', 0)).metadata).map((v) => v.field)).toEqual(['order_id']);
    expect(decodeFieldViolations((await list('o-1', 201)).metadata).map((v) => v.field)).toEqual(['page.page_size']);
    expect(decodeFieldViolations((await list('o-1', 0, 'garbage')).metadata).map((v) => v.field)).toEqual([
      'page.page_token',
    ]);
  });

  it('bad Authorize input → INVALID_ARGUMENT with field violations, nothing stored', async () => {
    const before = await h.countPayments();
    const cases: [ReturnType<typeof cardRequest>, string[]][] = [
      [cardRequest({ amount: cny(0) }), ['amount.amount_minor']],
      [cardRequest({ amount: cny(-1) }), ['amount.amount_minor']],
      [cardRequest({ amount: { currencyCode: 'ABC', amountMinor: '100' } }), ['amount.currency_code']],
      [cardRequest({ idempotencyKey: '' }), ['idempotency_key']],
      [cardRequest({ orderId: '' }), ['order_id']],
      [cardRequest({ method: PaymentMethod.PAYMENT_METHOD_UNSPECIFIED }), ['method']],
      [cardRequest({ method: 99 as PaymentMethod }), ['method']],
      [cardRequest({ card: { number: '4242424242424241' } }), ['card.number']],
      [cardRequest({ card: undefined }), ['card']],
      [walletRequest({ wallet: { channel: 0 } }), ['wallet.channel']],
      [walletRequest({ expireTime: new Date(Date.now() - 1000) }), ['expire_time']],
    ];
    for (const [request, fields] of cases) {
      const outcome = await refusal(c.authorizePayment(request));
      expect([fields, outcome.code]).toEqual([fields, status.INVALID_ARGUMENT]);
      expect(decodeFieldViolations(outcome.metadata).map((v) => v.field)).toEqual(fields);
    }
    expect(await h.countPayments()).toBe(before);
  });

  it('unknown payment → NOT_FOUND for capture, void and refund', async () => {
    const paymentId = 'pay_ffffffffffffffffffffffff';
    expect((await refusal(c.capturePayment({ idempotencyKey: 'k', paymentId, amount: cny(1) }))).code).toBe(
      status.NOT_FOUND,
    );
    expect((await refusal(c.voidPayment({ idempotencyKey: 'k', paymentId, reason: '' }))).code).toBe(status.NOT_FOUND);
    expect((await refusal(c.refundPayment({ idempotencyKey: 'k', paymentId, amount: cny(1), reason: '' }))).code).toBe(
      status.NOT_FOUND,
    );
  });
});
