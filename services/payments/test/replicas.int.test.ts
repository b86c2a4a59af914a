// Two replicas of the service on one database and topic, sharing one wallet provider (as real replicas share the
// real provider), both running the expiry sweeper and the reconciler every 100 ms: each unpaid intent expires once,
// each paid one is authorised once, and each is announced once.
import { PaymentStatus } from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { uniqueName, waitFor } from '@o2o/kit-testing';
import { collectTopic, type Harness, startHarness, walletRequest } from './harness';

let a: Harness;
let b: Harness;

beforeAll(async () => {
  const shared = {
    MONGO_DB: uniqueName('pay'),
    KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
    WALLET_EXPIRY_INTERVAL_MS: '100',
    WALLET_RECONCILE_INTERVAL_MS: '100',
    WALLET_RECONCILE_AFTER_MS: '0',
  };
  a = await startHarness(shared);
  b = await startHarness(shared, { simulators: a.service.simulators });
});

afterAll(async () => {
  await b?.close({ keepDatabase: true });
  await a?.close();
});

it('expires and reconciles each wallet payment exactly once with two sweeping replicas', async () => {
  const topic = await collectTopic(a.service.topic);
  try {
    // Generous: all six must be created (and two paid) before it, even on a loaded machine.
    const deadline = new Date(Date.now() + 5000);
    const unpaid: string[] = [];
    const paid: string[] = [];
    for (let i = 0; i < 6; i++) {
      const client = i % 2 === 0 ? a.client : b.client;
      const { payment } = await client.authorizePayment(walletRequest({ expireTime: deadline }));
      (i < 4 ? unpaid : paid).push(payment!.id);
    }
    const wallet = a.service.simulators.wallet;
    for (const id of paid) await wallet.pay(wallet.find(id)!.reference, { loseCallback: true });

    await waitFor(
      async () => {
        for (const id of [...unpaid, ...paid]) {
          const status = (await a.client.getPayment({ paymentId: id })).payment?.status;
          if (status === PaymentStatus.PAYMENT_STATUS_PENDING) return false;
        }
        return true;
      },
      { what: 'no payment left pending', timeoutMs: 20_000 },
    );
    for (const id of unpaid) {
      expect((await b.client.getPayment({ paymentId: id })).payment?.status).toBe(PaymentStatus.PAYMENT_STATUS_EXPIRED);
    }
    for (const id of paid) {
      expect((await b.client.getPayment({ paymentId: id })).payment?.status).toBe(
        PaymentStatus.PAYMENT_STATUS_AUTHORIZED,
      );
    }
    await waitFor(() => [...unpaid, ...paid].every((id) => topic.typesOf(id).length === 1), {
      what: 'one event per payment',
    });
    await new Promise((r) => setTimeout(r, 1000));
    for (const id of unpaid) expect(topic.typesOf(id)).toEqual(['PaymentExpired']);
    for (const id of paid) expect(topic.typesOf(id)).toEqual(['PaymentAuthorized']);
  } finally {
    await topic.stop();
  }
});
