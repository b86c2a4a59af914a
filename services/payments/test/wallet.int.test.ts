// Wallet QR payments end to end: the in-process provider simulator "pays" and POSTs signed callbacks to the real
// callback endpoint; lost callbacks are reconciled by query; unpaid intents expire and are announced.
import { status } from '@grpc/grpc-js';
import { PaymentExpired } from '@o2o/contracts/gen/o2o/payments/v1/events';
import { PaymentStatus, WalletChannel } from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { waitFor } from '@o2o/kit-testing';
import { SIGNATURE_HEADER, signedHeaders, TIMESTAMP_HEADER } from '../src/adapters/wallet-signature';
import { cny, collectTopic, type Harness, ledgerSums, refusal, startHarness, walletRequest } from './harness';

let h: Harness;
let c: Harness['client'];
let topic: Awaited<ReturnType<typeof collectTopic>>;

beforeAll(async () => {
  h = await startHarness();
  c = h.client;
  topic = await collectTopic(h.service.topic);
});

afterAll(async () => {
  await topic?.stop();
  await h?.close();
});

const wallet = () => h.service.simulators.wallet;

async function post(body: string, headers: Record<string, string>): Promise<{ status: number; json: unknown }> {
  const response = await fetch(h.service.walletCallbackUrl, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, json: await response.json() };
}

async function pendingPayment(overrides: Parameters<typeof walletRequest>[0] = {}) {
  const { payment } = await c.authorizePayment(walletRequest(overrides));
  expect(payment).toMatchObject({ status: PaymentStatus.PAYMENT_STATUS_PENDING, ledger: [] });
  const qr = wallet().find(payment!.id)!;
  return { id: payment!.id, reference: qr.reference, payment: payment! };
}

describe('wallet QR payments', () => {
  it('pending → signed callback → authorised; duplicates are answered 200 and ignored', async () => {
    const { id, reference, payment } = await pendingPayment();
    expect(payment.wallet).toMatchObject({ channel: WalletChannel.WALLET_CHANNEL_ALIPAY });
    expect(payment.wallet?.qrPayload).toContain(reference);
    expect(payment.expireTime!.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);

    expect(await wallet().pay(reference)).toBe(200);
    const paid = await c.getPayment({ paymentId: id });
    expect(paid.payment).toMatchObject({
      status: PaymentStatus.PAYMENT_STATUS_AUTHORIZED,
      authorizedAmount: cny(8800),
      wallet: { providerTransactionId: wallet().find(reference)!.transactionId },
    });

    expect(await wallet().deliver(reference)).toBe(200);
    const again = wallet().signedCallback(reference);
    expect(await post(again.body, again.headers)).toEqual({ status: 200, json: { result: 'duplicate' } });
    const doc = (await h.stored(id))!;
    expect(doc.ledger).toHaveLength(1);
    expect(ledgerSums(doc)).toEqual(doc.balances);

    // From here on it is money like any other: capture at dispatch.
    const captured = await c.capturePayment({ idempotencyKey: 'cap', paymentId: id, amount: cny(8800) });
    expect(captured.payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_CAPTURED);
    const types = await waitFor(
      () => {
        const t = topic.typesOf(id);
        return t.length >= 2 ? t : undefined;
      },
      { what: 'events' },
    );
    expect(types).toEqual(['PaymentAuthorized', 'PaymentCaptured']);
  });

  it('refuses forged, tampered, unsigned and stale callbacks with 401 and changes nothing', async () => {
    const { id, reference } = await pendingPayment();
    await wallet().pay(reference, { loseCallback: true });
    const genuine = wallet().signedCallback(reference);

    const forged = signedHeaders('not-the-shared-secret', genuine.body, new Date());
    expect((await post(genuine.body, forged)).status).toBe(401);
    const tampered = genuine.body.replace('"8800"', '"1"');
    expect((await post(tampered, genuine.headers)).status).toBe(401);
    expect((await post(genuine.body, {})).status).toBe(401);
    const stale = wallet().signedCallback(reference, new Date(Date.now() - 10 * 60_000));
    expect((await post(stale.body, stale.headers)).status).toBe(401);
    const badStamp = { [TIMESTAMP_HEADER]: 'yesterday', [SIGNATURE_HEADER]: genuine.headers[SIGNATURE_HEADER]! };
    expect((await post(genuine.body, badStamp)).status).toBe(401);

    expect((await c.getPayment({ paymentId: id })).payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_PENDING);
    expect((await h.stored(id))!.ledger).toEqual([]);
    expect((await post(genuine.body, genuine.headers)).json).toEqual({ result: 'applied' });
  });

  it('answers malformed callbacks 400 and unknown payments 404', async () => {
    const body = JSON.stringify({ payment_id: 'pay_000000000000000000000000', state: 'CLOSED' });
    const headers = signedHeaders(h.config.WALLET_CALLBACK_SECRET, body, new Date());
    expect((await post(body, headers)).status).toBe(404);
    const junk = '{"state":"MAYBE"}';
    expect((await post(junk, signedHeaders(h.config.WALLET_CALLBACK_SECRET, junk, new Date()))).status).toBe(400);
  });

  it('a lost callback is reconciled by ReconcilePayment, and by the reconciler sweep', async () => {
    const first = await pendingPayment();
    expect(await wallet().pay(first.reference, { loseCallback: true })).toBeUndefined();
    expect((await c.getPayment({ paymentId: first.id })).payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_PENDING);
    const reconciled = await c.reconcilePayment({ paymentId: first.id });
    expect(reconciled.payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_AUTHORIZED);

    const second = await pendingPayment();
    await wallet().pay(second.reference, { loseCallback: true });
    await h.service.sweeps.reconcile(); // WALLET_RECONCILE_AFTER_MS is 60 s: too young to be queried yet
    expect((await c.getPayment({ paymentId: second.id })).payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_PENDING);
    await waitFor(() => topic.typesOf(first.id).includes('PaymentAuthorized'), { what: 'reconciled event' });
  });

  it('void of a pending payment closes its QR: it can no longer be paid', async () => {
    const { id, reference } = await pendingPayment();
    const voided = await c.voidPayment({ idempotencyKey: 'cancel', paymentId: id, reason: 'order cancelled' });
    expect(voided.payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_VOIDED);
    expect(voided.entry).toBeUndefined();
    await expect(wallet().pay(reference)).rejects.toThrow(/closed/);
  });

  it('the customer cancelling at the provider declines the payment', async () => {
    const { id, reference } = await pendingPayment();
    expect(await wallet().cancelByCustomer(reference)).toBe(200);
    expect((await c.getPayment({ paymentId: id })).payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_DECLINED);
  });

  it('capture before payment is refused; refund of a pending payment too', async () => {
    const { id } = await pendingPayment();
    expect((await refusal(c.capturePayment({ idempotencyKey: 'c', paymentId: id, amount: cny(1) }))).code).toBe(
      status.FAILED_PRECONDITION,
    );
    expect(
      (await refusal(c.refundPayment({ idempotencyKey: 'r', paymentId: id, amount: cny(1), reason: '' }))).code,
    ).toBe(status.FAILED_PRECONDITION);
  });
});

describe('the wallet simulator HTTP API for local runs', () => {
  let l: Harness;
  beforeAll(async () => {
    l = await startHarness({ WALLET_SIMULATOR_PORT: '0' });
  });
  afterAll(async () => {
    await l?.close();
  });

  it('shows, pays (callback lost or delivered) and cancels QR payments by payment id', async () => {
    const base = l.service.walletSimulatorUrl!;
    const first = (await l.client.authorizePayment(walletRequest())).payment!;
    const shown = await fetch(`${base}/qr/${first.id}`);
    expect(await shown.json()).toMatchObject({ paymentId: first.id, state: 'pending' });
    const lost = await fetch(`${base}/qr/${first.id}/pay?lose=1`, { method: 'POST' });
    expect(await lost.json()).toMatchObject({ state: 'paid', callbackStatus: 'lost' });
    expect((await l.client.reconcilePayment({ paymentId: first.id })).payment?.status).toBe(
      PaymentStatus.PAYMENT_STATUS_AUTHORIZED,
    );
    const second = (await l.client.authorizePayment(walletRequest())).payment!;
    const paid = await fetch(`${base}/qr/${second.id}/pay`, { method: 'POST' });
    expect(await paid.json()).toMatchObject({ state: 'paid', callbackStatus: 200 });
    const third = (await l.client.authorizePayment(walletRequest())).payment!;
    await fetch(`${base}/qr/${third.id}/cancel`, { method: 'POST' });
    expect((await l.client.getPayment({ paymentId: third.id })).payment?.status).toBe(
      PaymentStatus.PAYMENT_STATUS_DECLINED,
    );
    expect((await fetch(`${base}/qr/nope`)).status).toBe(404);
  });
});

describe('wallet expiry (sweeper on, reconciler after 0 ms)', () => {
  let e: Harness;
  beforeAll(async () => {
    e = await startHarness({ WALLET_EXPIRY_INTERVAL_MS: '200', WALLET_RECONCILE_AFTER_MS: '0' });
  });
  afterAll(async () => {
    await e?.close();
  });

  it('an unpaid intent expires at its deadline, is announced, and can no longer be paid', async () => {
    const expiring = await collectTopic(e.service.topic);
    try {
      const { payment } = await e.client.authorizePayment(walletRequest({ expireTime: new Date(Date.now() + 2500) }));
      const id = payment!.id;
      const reference = e.service.simulators.wallet.find(id)!.reference;
      expect((await e.client.getPayment({ paymentId: id })).payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_PENDING);
      const expired = await waitFor(
        async () => {
          const p = (await e.client.getPayment({ paymentId: id })).payment!;
          return p.status === PaymentStatus.PAYMENT_STATUS_EXPIRED ? p : undefined;
        },
        { what: 'EXPIRED', timeoutMs: 10_000 },
      );
      expect(expired.updateTime!.getTime()).toBeGreaterThanOrEqual(payment!.expireTime!.getTime());
      const message = await waitFor(() => expiring.messages.find((m) => m.headers.ce_subject === id), {
        what: 'PaymentExpired',
      });
      expect(message.headers.ce_type).toBe('o2o.payments.v1.PaymentExpired');
      expect(PaymentExpired.decode(message.value).payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_EXPIRED);
      await expect(e.service.simulators.wallet.pay(reference)).rejects.toThrow(/closed|expired/);
    } finally {
      await expiring.stop();
    }
  });

  it('a payment made just before the deadline whose callback was lost is authorised, not expired', async () => {
    // Generous deadline: the pay must happen before it even on a loaded machine.
    const { payment } = await e.client.authorizePayment(walletRequest({ expireTime: new Date(Date.now() + 3000) }));
    const id = payment!.id;
    await e.service.simulators.wallet.pay(e.service.simulators.wallet.find(id)!.reference, { loseCallback: true });
    await new Promise((r) => setTimeout(r, Math.max(0, payment!.expireTime!.getTime() - Date.now() + 100)));
    await e.service.sweeps.expire();
    expect((await e.client.getPayment({ paymentId: id })).payment?.status).toBe(
      PaymentStatus.PAYMENT_STATUS_AUTHORIZED,
    );
  });

  it('the reconciler sweep finds a lost callback by itself', async () => {
    const { payment } = await e.client.authorizePayment(walletRequest());
    const id = payment!.id;
    await e.service.simulators.wallet.pay(e.service.simulators.wallet.find(id)!.reference, { loseCallback: true });
    await e.service.sweeps.reconcile();
    expect((await e.client.getPayment({ paymentId: id })).payment?.status).toBe(
      PaymentStatus.PAYMENT_STATUS_AUTHORIZED,
    );
  });
});
