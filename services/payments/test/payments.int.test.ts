import { status } from '@grpc/grpc-js';
import { PaymentAuthorized, PaymentCaptured, PaymentDeclined } from '@o2o/contracts/gen/o2o/payments/v1/events';
import {
  DeclineReason,
  LedgerEntryKind,
  PaymentMethod,
  PaymentStatus,
} from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { decodeFieldViolations } from '@o2o/kit-grpc';
import { uniqueName, waitFor } from '@o2o/kit-testing';
import { cardRequest, cny, collectTopic, type Harness, ledgerSums, refusal, startHarness, TEST_CARDS } from './harness';

let h: Harness;
let topic: Awaited<ReturnType<typeof collectTopic>>;
let c: Harness['client'];

beforeAll(async () => {
  h = await startHarness();
  c = h.client;
  topic = await collectTopic(h.service.topic);
});

afterAll(async () => {
  await topic?.stop();
  await h?.close();
});

/** The stored document's ledger adds up to its balances. */
async function expectBalanced(id: string) {
  const doc = (await h.stored(id))!;
  expect(ledgerSums(doc)).toEqual(doc.balances);
  return doc;
}

describe('card payments over gRPC, events on Kafka', () => {
  it('authorises, captures in parts, refunds; every change is a CloudEvent keyed by order id', async () => {
    const request = cardRequest();
    const { payment } = await c.authorizePayment(request);
    expect(payment).toMatchObject({
      orderId: request.orderId,
      method: PaymentMethod.PAYMENT_METHOD_CARD,
      status: PaymentStatus.PAYMENT_STATUS_AUTHORIZED,
      authorizedAmount: cny(10000),
      capturableAmount: cny(10000),
      card: { last4: '4242' },
      version: '1',
    });
    const id = payment!.id;
    expect(id).toMatch(/^pay_[0-9a-f]{24}$/);

    const first = await c.capturePayment({ idempotencyKey: 'cap-1', paymentId: id, amount: cny(4000) });
    expect(first.payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_PARTIALLY_CAPTURED);
    expect(first.entry).toMatchObject({
      sequence: '2',
      kind: LedgerEntryKind.LEDGER_ENTRY_KIND_CAPTURE,
      amount: cny(4000),
    });
    const second = await c.capturePayment({ idempotencyKey: 'cap-2', paymentId: id, amount: cny(6000) });
    expect(second.payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_CAPTURED);
    const refund = await c.refundPayment({
      idempotencyKey: 'ref-1',
      paymentId: id,
      amount: cny(2500),
      reason: 'return',
    });
    expect(refund.payment).toMatchObject({
      status: PaymentStatus.PAYMENT_STATUS_PARTIALLY_REFUNDED,
      refundedAmount: cny(2500),
      refundableAmount: cny(7500),
    });
    expect(refund.payment?.ledger.map((e) => e.kind)).toEqual([
      LedgerEntryKind.LEDGER_ENTRY_KIND_AUTHORIZATION,
      LedgerEntryKind.LEDGER_ENTRY_KIND_CAPTURE,
      LedgerEntryKind.LEDGER_ENTRY_KIND_CAPTURE,
      LedgerEntryKind.LEDGER_ENTRY_KIND_REFUND,
    ]);
    const doc = await expectBalanced(id);
    expect(doc.balances).toEqual({ authorized: 10000, captured: 10000, voided: 0, refunded: 2500 });

    const types = await waitFor(
      () => {
        const t = topic.typesOf(id);
        return t.length >= 4 ? t : undefined;
      },
      { what: 'four events' },
    );
    expect(types).toEqual(['PaymentAuthorized', 'PaymentCaptured', 'PaymentCaptured', 'PaymentRefunded']);
    const messages = topic.messages.filter((m) => m.headers.ce_subject === id);
    expect(messages[0]!.key).toBe(request.orderId);
    expect(messages[0]!.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_type: 'o2o.payments.v1.PaymentAuthorized',
      ce_source: '/o2o/payments',
      ce_subject: id,
      'content-type': 'application/protobuf',
    });
    expect(messages[0]!.headers.ce_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(PaymentAuthorized.decode(messages[0]!.value).payment?.authorizedAmount).toEqual(cny(10000));
    expect(PaymentCaptured.decode(messages[2]!.value)).toMatchObject({
      amount: cny(6000),
      payment: { capturedAmount: cny(10000) },
    });
    await waitFor(async () => (await h.pendingOutbox()) === 0, { what: 'outbox drained' });
  });

  it('answers a repeated Authorize with the same payment; the same key with another amount is refused', async () => {
    const request = cardRequest();
    const first = await c.authorizePayment(request);
    const again = await c.authorizePayment(request);
    expect(again.payment).toEqual(first.payment);
    const changed = await refusal(c.authorizePayment({ ...request, amount: cny(10001) }));
    expect(changed.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeFieldViolations(changed.metadata).map((v) => v.field)).toEqual(['idempotency_key']);
    expect((await h.stored(first.payment!.id))!.ledger).toHaveLength(1);
  });

  it('20 concurrent identical Authorize calls make one payment with one ledger entry and one event', async () => {
    const request = cardRequest();
    const answers = await Promise.all(Array.from({ length: 20 }, () => c.authorizePayment(request)));
    const ids = new Set(answers.map((a) => a.payment!.id));
    expect(ids.size).toBe(1);
    const id = [...ids][0]!;
    for (const a of answers) expect(a.payment).toEqual(answers[0]!.payment);
    const doc = await expectBalanced(id);
    expect(doc.ledger).toHaveLength(1);
    expect((await c.listPayments({ orderId: request.orderId, page: undefined })).payments).toHaveLength(1);
    await waitFor(() => topic.typesOf(id).length >= 1, { what: 'PaymentAuthorized' });
    await waitFor(async () => (await h.pendingOutbox()) === 0, { what: 'outbox drained' });
    await new Promise((r) => setTimeout(r, 300));
    expect(topic.typesOf(id)).toEqual(['PaymentAuthorized']);
  });

  it('concurrent identical Capture and Refund calls move money once and answer the same entry', async () => {
    const { payment } = await c.authorizePayment(cardRequest());
    const id = payment!.id;
    const captures = await Promise.all(
      Array.from({ length: 10 }, () => c.capturePayment({ idempotencyKey: 'cap', paymentId: id, amount: cny(3000) })),
    );
    expect(new Set(captures.map((r) => JSON.stringify(r.entry))).size).toBe(1);
    const refunds = await Promise.all(
      Array.from({ length: 10 }, () =>
        c.refundPayment({ idempotencyKey: 'ref', paymentId: id, amount: cny(1000), reason: '' }),
      ),
    );
    expect(new Set(refunds.map((r) => JSON.stringify(r.entry))).size).toBe(1);
    const doc = await expectBalanced(id);
    expect(doc.balances).toEqual({ authorized: 10000, captured: 3000, voided: 0, refunded: 1000 });
    expect(doc.ledger).toHaveLength(3);
    const sameKeyOtherAmount = await refusal(
      c.capturePayment({ idempotencyKey: 'cap', paymentId: id, amount: cny(3001) }),
    );
    expect(sameKeyOtherAmount.code).toBe(status.INVALID_ARGUMENT);
    const refundOtherAmount = await refusal(
      c.refundPayment({ idempotencyKey: 'ref', paymentId: id, amount: cny(1001), reason: '' }),
    );
    expect(refundOtherAmount.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeFieldViolations(refundOtherAmount.metadata).map((v) => v.field)).toEqual(['idempotency_key']);
    expect((await h.stored(id))!.ledger).toHaveLength(3);
  });

  it('concurrent different captures never capture more than authorised', async () => {
    const { payment } = await c.authorizePayment(cardRequest());
    const id = payment!.id;
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        c.capturePayment({ idempotencyKey: `cap-${i}`, paymentId: id, amount: cny(3000) }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    expect(ok).toBe(3);
    for (const r of results) {
      if (r.status === 'rejected') {
        expect([status.FAILED_PRECONDITION, status.ABORTED]).toContain((r.reason as { code: number }).code);
      }
    }
    const doc = await expectBalanced(id);
    expect(doc.balances.captured).toBe(9000);
  });

  it('declines are answers, not errors: DECLINED with a reason, and PaymentDeclined', async () => {
    for (const [number, reason] of [
      [TEST_CARDS.insufficientFunds, DeclineReason.DECLINE_REASON_INSUFFICIENT_FUNDS],
      [TEST_CARDS.stolen, DeclineReason.DECLINE_REASON_STOLEN_CARD],
    ] as const) {
      const { payment } = await c.authorizePayment(cardRequest({ card: { number } }));
      expect(payment).toMatchObject({ status: PaymentStatus.PAYMENT_STATUS_DECLINED, declineReason: reason });
      expect(payment?.ledger).toEqual([]);
      const message = await waitFor(() => topic.messages.find((m) => m.headers.ce_subject === payment!.id), {
        what: 'PaymentDeclined',
      });
      expect(message.headers.ce_type).toBe('o2o.payments.v1.PaymentDeclined');
      expect(PaymentDeclined.decode(message.value).reason).toBe(reason);
      const capture = await refusal(c.capturePayment({ idempotencyKey: 'c', paymentId: payment!.id, amount: cny(1) }));
      expect(capture.code).toBe(status.FAILED_PRECONDITION);
    }
  });

  it('provider unavailable: UNAVAILABLE, nothing stored, the attempt recorded; a retry with the same key works', async () => {
    const down = cardRequest({ card: { number: TEST_CARDS.unavailable } });
    expect((await refusal(c.authorizePayment(down))).code).toBe(status.UNAVAILABLE);

    const flaky = cardRequest({ card: { number: TEST_CARDS.unavailableOnce } });
    const before = await h.countPayments();
    expect((await refusal(c.authorizePayment(flaky))).code).toBe(status.UNAVAILABLE);
    expect(await h.countPayments()).toBe(before);
    const retried = await c.authorizePayment(flaky);
    expect(retried.payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_AUTHORIZED);
    expect(await h.providerAttempts(retried.payment!.id)).toEqual([{ operation: 'authorize', attempts: 1 }]);

    h.service.simulators.card.faults.failNext('capture');
    const id = retried.payment!.id;
    const capture = { idempotencyKey: 'cap-flaky', paymentId: id, amount: cny(500) };
    expect((await refusal(c.capturePayment(capture))).code).toBe(status.UNAVAILABLE);
    expect((await h.stored(id))!.ledger).toHaveLength(1);
    expect((await c.capturePayment(capture)).payment?.capturedAmount).toEqual(cny(500));
    await expectBalanced(id);
  });

  it('voids the uncaptured rest, once', async () => {
    const { payment } = await c.authorizePayment(cardRequest());
    const id = payment!.id;
    await c.capturePayment({ idempotencyKey: 'cap', paymentId: id, amount: cny(2500) });
    const voided = await c.voidPayment({ idempotencyKey: 'void', paymentId: id, reason: 'short shipment' });
    expect(voided.payment).toMatchObject({ status: PaymentStatus.PAYMENT_STATUS_CAPTURED, voidedAmount: cny(7500) });
    const again = await c.voidPayment({ idempotencyKey: 'void', paymentId: id, reason: 'short shipment' });
    expect(again.entry).toEqual(voided.entry);
    await expectBalanced(id);
    await waitFor(() => topic.typesOf(id).includes('PaymentVoided'), { what: 'PaymentVoided' });
  });

  it('store sales (cash, terminal) are captured at once and can be refunded at the till', async () => {
    const cash = await c.authorizePayment(
      cardRequest({
        method: PaymentMethod.PAYMENT_METHOD_CASH,
        card: undefined,
        store: { storeId: 'sh-001', terminalId: 'till-3' },
      }),
    );
    expect(cash.payment).toMatchObject({
      status: PaymentStatus.PAYMENT_STATUS_CAPTURED,
      capturedAmount: cny(10000),
      store: { storeId: 'sh-001', terminalId: 'till-3' },
    });
    const terminal = await c.authorizePayment(
      cardRequest({
        method: PaymentMethod.PAYMENT_METHOD_STORE_TERMINAL,
        card: undefined,
        store: { storeId: 'sh-001', terminalId: '' },
      }),
    );
    const refunded = await c.refundPayment({
      idempotencyKey: 'r',
      paymentId: terminal.payment!.id,
      amount: cny(10000),
      reason: 'returned',
    });
    expect(refunded.payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_REFUNDED);
    await expectBalanced(terminal.payment!.id);
    const types = await waitFor(
      () => {
        const t = topic.typesOf(cash.payment!.id);
        return t.length >= 2 ? t : undefined;
      },
      { what: 'store sale events' },
    );
    expect(types).toEqual(['PaymentAuthorized', 'PaymentCaptured']);
  });

  it("lists an order's payments oldest first, with pages; Get answers NOT_FOUND for an unknown id", async () => {
    const orderId = uniqueName('order');
    const made: string[] = [];
    for (const number of [TEST_CARDS.stolen, TEST_CARDS.approve, TEST_CARDS.approve]) {
      const { payment } = await c.authorizePayment(cardRequest({ orderId, card: { number } }));
      made.push(payment!.id);
    }
    const page1 = await c.listPayments({ orderId, page: { pageSize: 2, pageToken: '' } });
    expect(page1.payments.map((p) => p.id)).toEqual(made.slice(0, 2));
    const page2 = await c.listPayments({ orderId, page: { pageSize: 2, pageToken: page1.page!.nextPageToken } });
    expect(page2.payments.map((p) => p.id)).toEqual(made.slice(2));
    expect(page2.page?.nextPageToken).toBe('');
    expect((await c.getPayment({ paymentId: made[1]! })).payment?.id).toBe(made[1]);
    expect((await refusal(c.getPayment({ paymentId: 'pay_000000000000000000000000' }))).code).toBe(status.NOT_FOUND);
    expect((await refusal(c.getPayment({ paymentId: 'nope' }))).code).toBe(status.INVALID_ARGUMENT);
  });
});
