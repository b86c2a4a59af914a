// Payments checks ownership too (defence in depth), over real gRPC with the real Kafka and database: money moves only
// on the orders saga's internal calls (or an admin's), and a payment is shown only to callers who may see its order,
// judged by the attribution orders sends with AuthorizePayment. Calls without a principal behave as before.
import { Metadata, status } from '@grpc/grpc-js';
import { PaymentStatus } from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { PRINCIPAL_METADATA_KEY, type Principal, principalMetadata } from '@o2o/kit-grpc';
import { uniqueName } from '@o2o/kit-testing';
import { cardRequest, cny, type Harness, refusal, startHarness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const alice: Principal = { role: 'shopper', subject: uniqueName('alice'), storeIds: [], scopes: [] };
const bob: Principal = { role: 'shopper', subject: uniqueName('bob'), storeIds: [], scopes: [] };
const staffA: Principal = { role: 'staff', subject: 'emp-a', storeIds: ['store-a'], scopes: [] };
const admin: Principal = { role: 'admin', subject: 'ops-1', storeIds: [], scopes: [] };
const as = (principal: Principal) => ({ metadata: principalMetadata(principal) });
const attributionOf = (customerId: string) => ({ customerId, storeId: '', partnerId: '', locationIds: ['store-a'] });

it('stores the attribution and shows the payment to whoever may see its order; others get NOT_FOUND', async () => {
  const { payment } = await h.client.authorizePayment(cardRequest({ attribution: attributionOf(alice.subject) }));
  const id = payment!.id;
  expect((await h.stored(id))!.attribution).toEqual(attributionOf(alice.subject));
  for (const caller of [alice, staffA, admin]) {
    expect((await h.client.getPayment({ paymentId: id }, as(caller))).payment!.id).toBe(id);
    const listed = await h.client.listPayments({ orderId: payment!.orderId, page: undefined }, as(caller));
    expect(listed.payments.map((p) => p.id)).toEqual([id]);
  }
  const hidden = await refusal(h.client.getPayment({ paymentId: id }, as(bob)));
  expect(hidden).toMatchObject({ code: status.NOT_FOUND, details: `Payment "${id}" does not exist` });
  expect((await h.client.listPayments({ orderId: payment!.orderId, page: undefined }, as(bob))).payments).toEqual([]);
});

it('a repeat with another attribution is the same request and keeps the first one', async () => {
  const request = cardRequest({ attribution: attributionOf(alice.subject) });
  const first = (await h.client.authorizePayment(request)).payment!;
  const again = (await h.client.authorizePayment({ ...request, attribution: attributionOf(bob.subject) })).payment!;
  expect(again).toEqual(first);
  expect((await h.stored(first.id))!.attribution!.customerId).toBe(alice.subject);
});

it('a payment authorised without an attribution is shown to admins only (and to internal calls)', async () => {
  const { payment } = await h.client.authorizePayment(cardRequest());
  expect((await refusal(h.client.getPayment({ paymentId: payment!.id }, as(staffA)))).code).toBe(status.NOT_FOUND);
  expect((await h.client.getPayment({ paymentId: payment!.id }, as(admin))).payment!.id).toBe(payment!.id);
  expect((await h.client.getPayment({ paymentId: payment!.id })).payment!.id).toBe(payment!.id);
});

it('money moves only on internal calls or an admin’s: PERMISSION_DENIED for others, nothing changes', async () => {
  const { payment } = await h.client.authorizePayment(cardRequest({ attribution: attributionOf(alice.subject) }));
  const id = payment!.id;
  const count = await h.countPayments();
  expect((await refusal(h.client.authorizePayment(cardRequest(), as(alice)))).code).toBe(status.PERMISSION_DENIED);
  const capture = { idempotencyKey: uniqueName('cap'), paymentId: id, amount: cny(100) };
  expect((await refusal(h.client.capturePayment(capture, as(alice)))).code).toBe(status.PERMISSION_DENIED);
  const voiding = { idempotencyKey: uniqueName('void'), paymentId: id, reason: 'mine' };
  expect((await refusal(h.client.voidPayment(voiding, as(staffA)))).code).toBe(status.PERMISSION_DENIED);
  const refund = { idempotencyKey: uniqueName('ref'), paymentId: id, amount: cny(100), reason: 'x' };
  expect((await refusal(h.client.refundPayment(refund, as(staffA)))).code).toBe(status.PERMISSION_DENIED);
  expect((await refusal(h.client.reconcilePayment({ paymentId: id }, as(alice)))).code).toBe(status.PERMISSION_DENIED);
  expect(await h.countPayments()).toBe(count);
  expect((await h.stored(id))!.status).toBe('AUTHORIZED');
  const captured = await h.client.capturePayment(capture, as(admin));
  expect(captured.payment!.status).toBe(PaymentStatus.PAYMENT_STATUS_PARTIALLY_CAPTURED);
});

it('a malformed principal is UNAUTHENTICATED and changes nothing', async () => {
  const metadata = new Metadata();
  // A valid admin principal with one character outside base64url: refused, not read leniently.
  metadata.set(PRINCIPAL_METADATA_KEY, `${String(principalMetadata(admin).get(PRINCIPAL_METADATA_KEY)[0])}%`);
  const count = await h.countPayments();
  expect((await refusal(h.client.authorizePayment(cardRequest(), { metadata }))).code).toBe(status.UNAUTHENTICATED);
  expect(await h.countPayments()).toBe(count);
});
