// Payments' metrics through the real service: authorisation outcomes by method, money captured and refunded by
// currency, and the wallet gauges, read from an in-process metric reader installed before start().
import { startMetricCapture, type MetricCapture } from '@o2o/kit-telemetry';
import { AUTHORIZATIONS, CAPTURED, REFUNDED, WALLET_OVERDUE, WALLET_PENDING } from '../src/adapters/payments-metrics';
import { cardRequest, cny, type Harness, startHarness, TEST_CARDS, walletRequest } from './harness';

let capture: MetricCapture;
let h: Harness;

beforeAll(async () => {
  capture = startMetricCapture();
  h = await startHarness({ METRICS_QUERY_INTERVAL_MS: '0' });
});
afterAll(async () => {
  await h?.close();
  await capture?.stop();
});

async function points(name: string) {
  return (await capture.points(name)).map((p) => ({ ...p.attributes, value: p.value }));
}

async function gauge(name: string): Promise<number | undefined> {
  return (await capture.points(name))[0]?.value;
}

it('counts authorisations by method and outcome, and money by currency, once per stored change', async () => {
  const c = h.client;
  const request = cardRequest();
  const { payment } = await c.authorizePayment(request);
  await c.authorizePayment(request); // a repeat answers the stored payment: no new outcome
  await c.authorizePayment(cardRequest({ card: { number: TEST_CARDS.insufficientFunds } }));
  const id = payment!.id;
  await c.capturePayment({ idempotencyKey: 'cap-1', paymentId: id, amount: cny(6000) });
  await c.capturePayment({ idempotencyKey: 'cap-1', paymentId: id, amount: cny(6000) }); // repeat
  await c.refundPayment({ idempotencyKey: 'ref-1', paymentId: id, amount: cny(1500), reason: 'damaged' });

  expect(await points(AUTHORIZATIONS)).toEqual(
    expect.arrayContaining([
      { 'payment.method': 'CARD', outcome: 'authorized', value: 1 },
      { 'payment.method': 'CARD', outcome: 'declined', reason: 'INSUFFICIENT_FUNDS', value: 1 },
    ]),
  );
  expect(await points(CAPTURED)).toEqual([{ currency: 'CNY', 'payment.method': 'CARD', value: 6000 }]);
  expect(await points(REFUNDED)).toEqual([{ currency: 'CNY', 'payment.method': 'CARD', value: 1500 }]);
});

it('reports pending wallet payments, the overdue ones, and counts their expiry', async () => {
  const c = h.client;
  await c.authorizePayment(walletRequest()); // 15 minutes to pay
  const { payment } = await c.authorizePayment(walletRequest({ expireTime: new Date(Date.now() + 1500) }));
  expect(await points(AUTHORIZATIONS)).toEqual(
    expect.arrayContaining([{ 'payment.method': 'WALLET_QR', outcome: 'pending', value: 2 }]),
  );
  expect(await gauge(WALLET_PENDING)).toBe(2);

  await new Promise((r) => setTimeout(r, Math.max(0, payment!.expireTime!.getTime() - Date.now() + 100)));
  expect(await gauge(WALLET_OVERDUE)).toBe(1); // past its deadline, the sweeper has not run

  await h.service.sweeps.expire();
  expect(await gauge(WALLET_PENDING)).toBe(1);
  expect(await gauge(WALLET_OVERDUE)).toBe(0);
  expect(await points(AUTHORIZATIONS)).toEqual(
    expect.arrayContaining([{ 'payment.method': 'WALLET_QR', outcome: 'expired', value: 1 }]),
  );
});
