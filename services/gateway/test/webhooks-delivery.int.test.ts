// Webhook delivery end to end: real protobuf events on the real topics, the real dispatcher and worker, a real
// HTTP receiver on 127.0.0.1 that verifies every signature. Covers the CloudEvent body and headers, signatures
// through a secret rotation, retries with backoff, dead letters and replay, per-order order with two replicas and a
// flaky receiver, and that a partner only ever receives what the ownership rule lets it see.
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { uniqueName, waitFor } from '@o2o/kit-testing';
import { WEBHOOK_SCHEMAS } from '../src/webhooks';
import { verifyWebhookSignature } from '../src/webhooks/signing';
import {
  ADMIN,
  deliveredMessage,
  idOf,
  ORDER_FLOW,
  orderMessage,
  orderOf,
  partner,
  pause,
  paymentCapturedMessage,
  priceChangedMessage,
  publish,
  type Receiver,
  startHarness,
  startReceiver,
  type WebhooksHarness,
} from './webhooks-harness';

let h: WebhooksHarness;
const receivers: Receiver[] = [];
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  for (const r of receivers) await r.close();
  await h?.stop();
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

/** A subscription of a principal to types, delivering to a receiver that knows its secret. */
async function subscribe(
  principal: Parameters<typeof h.webhooks.useCases.createSubscription>[0],
  rx: Receiver,
  eventTypes: string[],
  filters?: { storeIds?: string[]; channels?: string[] },
) {
  const created = await h.webhooks.useCases.createSubscription(principal, {
    url: rx.url,
    eventTypes,
    ...(filters ? { filters } : {}),
  });
  rx.secrets = [created.secret];
  return created;
}

const ajv = addFormats(new Ajv2020({ allErrors: true }));
const validDelivery = ajv.compile(WEBHOOK_SCHEMAS.WebhookDelivery ?? {});

describe('a delivery', () => {
  it('is a signed JSON CloudEvent whose signature holds with both secrets during a rotation, and the old one stops', async () => {
    const rx = await receiver();
    const p = partner(uniqueName('p-sig'));
    const { subscription, secret } = await subscribe(p, rx, ['o2o.orders.v1.OrderConfirmed']);
    const order = orderOf(uniqueName('o'), { partnerId: p.subject });
    const sent = orderMessage('OrderConfirmed', order);
    await publish(h, 'orders', [sent]);
    const got = await waitFor(() => rx.delivered()[0], { what: 'the first delivery' });

    expect(got.verified).toMatchObject({ ok: true });
    expect(got.headers['content-type']).toBe('application/cloudevents+json');
    expect(got.headers['webhook-id']).toBe(idOf(sent));
    const header = String(got.headers['o2o-signature']);
    expect(header).toMatch(new RegExp(`^t=${String(got.headers['webhook-timestamp'])},v1=[0-9a-f]{64}$`));
    expect(JSON.parse(got.body)).toEqual({
      specversion: '1.0',
      id: idOf(sent),
      type: 'o2o.orders.v1.OrderConfirmed',
      source: '/o2o/orders',
      subject: order.id,
      time: sent.headers.ce_time,
      datacontenttype: 'application/json',
      data: {
        order: expect.objectContaining({
          id: order.id,
          channel: 'CHANNEL_MARKETPLACE',
          customerId: 'cust-1',
          marketplace: { partnerId: p.subject, externalOrderId: `ext-${order.id}` },
          groups: [{ id: 'g1', locationId: 'wh-1' }],
          version: '1',
        }),
      },
    });

    // What a receiver must refuse: a tampered body, a stale timestamp, another secret.
    const body = got.body;
    expect(verifyWebhookSignature({ secrets: [secret], header, body: body.replace(order.id, 'o-evil') })).toEqual({
      ok: false,
      reason: 'no-matching-signature',
    });
    expect(verifyWebhookSignature({ secrets: [secret], header, body, now: Date.now() + 600_000 })).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
    const other = await h.webhooks.useCases.rotateSecret(partner(p.subject), subscription.id, { overlapSeconds: 2 });
    expect(verifyWebhookSignature({ secrets: [other.secret], header, body }).ok).toBe(false);

    // During the overlap, each delivery carries a signature by each secret.
    rx.secrets = [secret, other.secret];
    const second = orderMessage('OrderConfirmed', orderOf(uniqueName('o'), { partnerId: p.subject }));
    await publish(h, 'orders', [second]);
    const during = await waitFor(() => rx.delivered().find((r) => r.event.id === idOf(second)));
    const duringHeader = String(during.headers['o2o-signature']);
    expect(duringHeader.match(/v1=/g)).toHaveLength(2);
    expect(verifyWebhookSignature({ secrets: [secret], header: duringHeader, body: during.body }).ok).toBe(true);
    expect(verifyWebhookSignature({ secrets: [other.secret], header: duringHeader, body: during.body }).ok).toBe(true);

    // After it, only the new secret signs.
    await pause(Math.max(0, Date.parse(other.previousSecretExpireTime ?? '') - Date.now()) + 100);
    const third = orderMessage('OrderConfirmed', orderOf(uniqueName('o'), { partnerId: p.subject }));
    await publish(h, 'orders', [third]);
    const after = await waitFor(() => rx.delivered().find((r) => r.event.id === idOf(third)));
    const afterHeader = String(after.headers['o2o-signature']);
    expect(afterHeader.match(/v1=/g)).toHaveLength(1);
    expect(verifyWebhookSignature({ secrets: [secret], header: afterHeader, body: after.body }).ok).toBe(false);
    expect(verifyWebhookSignature({ secrets: [other.secret], header: afterHeader, body: after.body }).ok).toBe(true);
    expect(rx.requests.every((r) => r.verified.ok)).toBe(true);
  });

  it('to a receiver that fails 3 times succeeds on the 4th attempt, exactly once, and the log shows the 4', async () => {
    const rx = await receiver();
    rx.respond = (r, all) => (all.filter((x) => x.event.id === r.event.id).length <= 3 ? 500 : 200);
    const p = partner(uniqueName('p-retry'));
    const { subscription } = await subscribe(p, rx, ['o2o.orders.v1.*']);
    const sent = orderMessage('OrderConfirmed', orderOf(uniqueName('o'), { partnerId: p.subject }));
    await publish(h, 'orders', [sent]);
    await waitFor(() => rx.delivered().length === 1, { what: 'the successful attempt' });
    await pause(1_000);
    expect(rx.requests.map((r) => [r.event.id, r.status])).toEqual([
      [idOf(sent), 500],
      [idOf(sent), 500],
      [idOf(sent), 500],
      [idOf(sent), 200],
    ]);
    // Backoff: about 100, 200, 400 ms apart (less at most a tenth of jitter).
    const gaps = rx.requests.slice(1).map((r, i) => r.at - (rx.requests[i]?.at ?? 0));
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(90 * 2 ** i - 15));

    const log = await h.webhooks.useCases.listDeliveries(p, subscription.id, {});
    expect(log.deliveries).toHaveLength(1);
    const delivery = log.deliveries[0]!;
    expect(validDelivery(delivery)).toBe(true);
    expect(delivery).toMatchObject({
      eventId: idOf(sent),
      status: 'DELIVERED',
      eventType: 'o2o.orders.v1.OrderConfirmed',
    });
    expect(delivery.attempts.map((a) => a.httpStatus)).toEqual([500, 500, 500, 200]);
    expect(delivery.nextAttemptTime).toBeUndefined();
    expect(await h.webhooks.useCases.getDelivery(p, subscription.id, delivery.id)).toEqual(delivery);
    expect((await h.webhooks.useCases.listDeliveries(p, subscription.id, { status: 'DEAD' })).deliveries).toEqual([]);
  });

  it('to a receiver that stays down ends DEAD; once it is back, a replay re-sends in order and they are DELIVERED', async () => {
    const rx = await receiver();
    const p = partner(uniqueName('p-dead'));
    const { subscription } = await subscribe(p, rx, ['o2o.orders.v1.*']);
    await rx.down();
    const from = new Date(Date.now() - 1_000);
    const order = orderOf(uniqueName('o'), { partnerId: p.subject });
    const sent = ORDER_FLOW.slice(0, 3).map((type) => orderMessage(type, order));
    await publish(h, 'orders', sent);
    const dead = await waitFor(
      async () => {
        const page = await h.webhooks.useCases.listDeliveries(p, subscription.id, { status: 'DEAD' });
        return page.deliveries.length === 3 && page.deliveries;
      },
      { timeoutMs: 20_000, what: 'three dead deliveries' },
    );
    for (const d of dead) {
      expect(d.attempts).toHaveLength(4);
      expect(d.attempts.every((a) => a.error === 'connection failed: ECONNREFUSED')).toBe(true);
    }
    // Newest first in the log.
    expect(dead.map((d) => d.eventId)).toEqual(sent.map(idOf).reverse());

    await rx.up();
    const replayed = await h.webhooks.useCases.replay(p, subscription.id, { from: from.toISOString() });
    expect(replayed).toEqual({ queued: 3 });
    await waitFor(() => rx.delivered().length === 3, { what: 'the replayed deliveries' });
    expect(rx.delivered().map((r) => r.event.id)).toEqual(sent.map(idOf));
    expect(rx.delivered().map((r) => r.headers['webhook-id'])).toEqual(sent.map(idOf));
    const copies = await waitFor(async () => {
      const page = await h.webhooks.useCases.listDeliveries(p, subscription.id, { status: 'DELIVERED' });
      return page.deliveries.length === 3 && page.deliveries;
    });
    expect(copies.every((c) => dead.some((d) => d.id === c.replayOf && d.eventId === c.eventId))).toBe(true);
    // The dead letters stay in the log; their events are now delivered, so a replay of dead ones finds none.
    expect((await h.webhooks.useCases.listDeliveries(p, subscription.id, { status: 'DEAD' })).deliveries).toHaveLength(
      3,
    );
    expect(await h.webhooks.useCases.replay(p, subscription.id, { from: from.toISOString(), onlyDead: true })).toEqual({
      queued: 0,
    });
  });
});

describe('per-order order', () => {
  it('holds for each order with two replicas and a receiver that fails at random', async () => {
    await h.replica();
    const rx = await receiver();
    const p = partner(uniqueName('p-order'));
    await subscribe(p, rx, ['o2o.orders.v1.*']);
    // The other replica's cache learns of the subscription within its refresh interval.
    await pause(400);
    // Deterministic "random": a small LCG; at most two failures per event so none dies (4 attempts).
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    rx.respond = (r, all) => {
      const tries = all.filter((x) => x.event.id === r.event.id).length;
      return tries <= 2 && (tries === 1 ? random() < 0.5 : random() < 0.3) ? 500 : 204;
    };
    const orders = [1, 2, 3].map(() => orderOf(uniqueName('o'), { partnerId: p.subject }));
    const byOrder = new Map(orders.map((o) => [o.id, ORDER_FLOW.map((type) => orderMessage(type, o))]));
    // Interleaved, in one quick batch: o1e1, o2e1, o3e1, o1e2, ...
    const batch = ORDER_FLOW.flatMap((_, i) => orders.map((o) => byOrder.get(o.id)![i]!));
    await publish(h, 'orders', batch);

    await waitFor(() => rx.delivered().length === batch.length, { timeoutMs: 30_000, what: 'every event delivered' });
    await pause(500);
    expect(rx.requests.some((r) => r.status === 500)).toBe(true);
    for (const [orderId, sent] of byOrder) {
      const ids = sent.map(idOf);
      expect(
        rx
          .delivered()
          .filter((r) => r.event.subject === orderId)
          .map((r) => r.event.id),
      ).toEqual(ids);
      // Stronger: no attempt of an event before every earlier event of its order had succeeded.
      const attempts = rx.requests.filter((r) => r.event.subject === orderId);
      attempts.forEach((r) => {
        const index = ids.indexOf(r.event.id);
        const earlier = ids.slice(0, index);
        const succeededBefore = rx.requests.filter((x) => x.at <= r.at && x.status < 300).map((x) => x.event.id);
        expect(earlier.every((id) => succeededBefore.includes(id))).toBe(true);
      });
    }
    expect(new Set(rx.delivered().map((r) => r.event.id)).size).toBe(batch.length);
    // A delivery held behind an earlier one is woken when that one ends, not at its parking deadline (the earlier
    // one's lease: 7 s here): each event's first attempt follows its predecessor's success closely.
    for (const sent of byOrder.values()) {
      const ids = sent.map(idOf);
      ids.slice(1).forEach((id, i) => {
        const previousSuccess = rx.delivered().find((r) => r.event.id === ids[i])!.at;
        const firstAttempt = rx.requests.find((r) => r.event.id === id)!.at;
        expect(firstAttempt - previousSuccess).toBeLessThan(3_000);
      });
    }
  });
});

describe('who receives what', () => {
  it("a partner receives only its own orders' events, a store filter only its store's, a redelivery nothing new", async () => {
    const tag = uniqueName('iso');
    const a = partner(`pA-${tag}`, [`sA1-${tag}`, `sA2-${tag}`]);
    const b = partner(`pB-${tag}`, [`sB1-${tag}`]);
    const every = ['o2o.orders.v1.*', 'o2o.delivery.v1.*', 'o2o.payments.v1.*', 'o2o.catalogue.v1.*'];
    const [rxA, rxAStore, rxB, rxAdmin] = [await receiver(), await receiver(), await receiver(), await receiver()];
    const subA = await subscribe(a, rxA, every);
    const subAStore = await subscribe(a, rxAStore, ['o2o.orders.v1.*'], { storeIds: [`sA1-${tag}`] });
    const subB = await subscribe(b, rxB, every);
    const subAdmin = await subscribe(ADMIN, rxAdmin, every);
    await pause(400);

    const oA1 = orderOf(`oA1-${tag}`, { partnerId: a.subject });
    const oA2 = orderOf(`oA2-${tag}`, { storeId: `sA1-${tag}`, locationIds: [`sA1-${tag}`] });
    const oA3 = orderOf(`oA3-${tag}`, { storeId: `sA2-${tag}`, locationIds: [`sA2-${tag}`] });
    const oB1 = orderOf(`oB1-${tag}`, { partnerId: b.subject });
    const oX = orderOf(`oX-${tag}`, { locationIds: ['wh-1'] });
    const confirmed = [oA1, oA2, oA3, oB1, oX].map((o) => orderMessage('OrderConfirmed', o));
    await publish(h, 'orders', confirmed);
    const adminHas = (ids: string[]) => () => ids.every((id) => rxAdmin.delivered().some((r) => r.event.id === id));
    await waitFor(adminHas(confirmed.map(idOf)), { what: 'admin has the orders events' });

    // The same event again (same ce_id), then a later one of that order as a marker that it was consumed.
    const redelivered = { ...confirmed[0]! };
    const marker = orderMessage('OrderShipped', oA1);
    await publish(h, 'orders', [redelivered, marker]);
    // Delivery events after the order's orders events (projection); payments of an order never seen (lookupOrder).
    const oB2 = `oB2-${tag}`;
    h.orders.set(oB2, {
      customerId: '',
      storeId: '',
      partnerId: b.subject,
      locationIds: [],
      channel: 'CHANNEL_MARKETPLACE',
    });
    const delivered = deliveredMessage(oA1.id);
    const paidB2 = paymentCapturedMessage(oB2);
    const paidUnknown = paymentCapturedMessage(`oU-${tag}`);
    const price = priceChangedMessage(`prod-${tag}`);
    await publish(h, 'delivery', [delivered]);
    await publish(h, 'payments', [paidB2, paidUnknown]);
    await publish(h, 'catalogue', [price]);
    const all = [...confirmed, marker, delivered, paidB2, paidUnknown, price];
    await waitFor(adminHas(all.map(idOf)), { timeoutMs: 20_000, what: 'admin has every event' });

    // Every delivery is written by the time the admin's arrived (one handler writes them all): the logs are complete.
    const logged = async (principal: typeof a, id: string) =>
      (await h.webhooks.useCases.listDeliveries(principal, id, { pageSize: 100 })).deliveries
        .map((d) => d.eventId)
        .sort();
    const expected = {
      a: [confirmed[0], confirmed[1], confirmed[2], marker, delivered, price].map((m) => idOf(m!)).sort(),
      aStore: [idOf(confirmed[1]!)],
      b: [confirmed[3], paidB2, price].map((m) => idOf(m!)).sort(),
      admin: all.map(idOf).sort(),
    };
    expect(await logged(a, subA.subscription.id)).toEqual(expected.a);
    expect(await logged(a, subAStore.subscription.id)).toEqual(expected.aStore);
    expect(await logged(b, subB.subscription.id)).toEqual(expected.b);
    expect(await logged(ADMIN, subAdmin.subscription.id)).toEqual(expected.admin);

    const ids = (rx: Receiver) =>
      rx
        .delivered()
        .map((r) => r.event.id)
        .sort();
    await waitFor(() => ids(rxA).length === expected.a.length && ids(rxB).length === expected.b.length);
    await waitFor(() => ids(rxAStore).length === 1);
    await pause(500);
    expect(ids(rxA)).toEqual(expected.a);
    expect(ids(rxAStore)).toEqual(expected.aStore);
    expect(ids(rxB)).toEqual(expected.b);
    expect(ids(rxAdmin)).toEqual(expected.admin);
    for (const rx of [rxA, rxAStore, rxB, rxAdmin]) expect(rx.requests.every((r) => r.verified.ok)).toBe(true);

    // The delivery event was attributed from the projection; the payments events by asking the orders service.
    expect(h.lookups).toEqual(expect.arrayContaining([oB2, `oU-${tag}`]));
    expect(h.lookups).not.toContain(oA1.id);
    // The redelivered message produced no second delivery anywhere.
    expect(await h.db.collection('webhook_deliveries').countDocuments({ eventId: idOf(confirmed[0]!) })).toBe(2);
  });

  it('a paused subscription receives nothing until it is active again', async () => {
    const rx = await receiver();
    const p = partner(uniqueName('p-pause'));
    const { subscription } = await subscribe(p, rx, ['o2o.orders.v1.*']);
    await h.webhooks.useCases.updateSubscription(p, subscription.id, { status: 'PAUSED' });
    await pause(400);
    const whilePaused = orderMessage('OrderConfirmed', orderOf(uniqueName('o'), { partnerId: p.subject }));
    await publish(h, 'orders', [whilePaused]);
    await pause(1_500);
    await h.webhooks.useCases.updateSubscription(p, subscription.id, { status: 'ACTIVE' });
    await pause(400);
    const afterwards = orderMessage('OrderConfirmed', orderOf(uniqueName('o'), { partnerId: p.subject }));
    await publish(h, 'orders', [afterwards]);
    await waitFor(() => rx.delivered().length === 1);
    await pause(300);
    expect(rx.delivered().map((r) => r.event.id)).toEqual([idOf(afterwards)]);
  });
});
