// Partner webhooks end to end through the running gateway: two partners subscribe over REST, place marketplace orders
// over REST, and the services' real events reach each partner's receiving server on loopback, signed, in order per
// order, exactly once per event, and never another partner's. The first partner's receiver fails its first three
// requests: that event is delivered after three retries, once.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { uniqueName, waitFor } from '@o2o/kit-testing';
import { LOCATIONS, type SkuSpec } from '../../orders/test/system';
import { verifyWebhookSignature } from '../src/webhooks';
import { ADMIN_KEY, type GatewaySystem, restOrder, seedStock, startGatewaySystem } from './gateway-system';

let gw: GatewaySystem;
const TEA: SkuSpec = { code: `HOOK-${randomUUID().slice(0, 8)}`, online: 2100, store: 2000 };

/** One request a receiver got: the CloudEvent, whether its signature verified, and what the receiver answered. */
interface Received {
  id: string;
  type: string;
  orderId: string;
  verified: boolean;
  answered: number;
}

/**
 * A partner's endpoint: verifies each request with the secret it is given, and answers 500 to the first `failFirst`
 * attempts of the first event it sees (other events, of other orders, may arrive in between).
 */
function receiver(failFirst: number) {
  const log: Received[] = [];
  let secret = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const header = req.headers['o2o-signature'];
      const verified = verifyWebhookSignature({
        secrets: [secret],
        header: typeof header === 'string' ? header : undefined,
        body,
      }).ok;
      const event = JSON.parse(body.toString('utf8')) as { id: string; type: string; data: { order?: { id: string } } };
      const firstId = log[0]?.id ?? event.id;
      const failedSoFar = log.filter((e) => e.id === firstId && e.answered === 500).length;
      const answered = event.id === firstId && failedSoFar < failFirst ? 500 : 204;
      log.push({ id: event.id, type: event.type, orderId: event.data.order?.id ?? '', verified, answered });
      res.writeHead(answered).end();
    });
  });
  return {
    log,
    server,
    setSecret: (s: string) => (secret = s),
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
  };
}

const r1 = receiver(3);
const r2 = receiver(0);

beforeAll(async () => {
  for (const r of [r1, r2]) await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  gw = await startGatewaySystem({
    gatewayEnv: {
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_POLL_INTERVAL_MS: '200',
    },
  });
  await seedStock(gw, TEA, { name: `Webhook tea ${TEA.code}`, locationId: LOCATIONS.warehouse, quantity: 20 });
}, 240_000);

afterAll(async () => {
  await gw?.stop();
  for (const r of [r1, r2]) {
    r.server.closeAllConnections();
    await new Promise((resolve) => r.server.close(resolve));
  }
}, 60_000);

it('each partner gets its own orders’ events, signed, in order per order, each once; retries until delivered', async () => {
  const p1 = uniqueName('tmall');
  const p2 = uniqueName('jd');
  const keys = {
    p1: await gw.issueKey({ role: 'partner', subject: p1 }),
    p2: await gw.issueKey({ role: 'partner', subject: p2 }),
  };
  const subscribe = async (key: string, r: ReturnType<typeof receiver>) => {
    const created = await gw.call<{ subscription: { id: string }; secret: string }>(
      'POST',
      '/v1/webhooks/subscriptions',
      {
        key,
        body: {
          url: r.url(),
          eventTypes: ['o2o.orders.v1.OrderPlaced', 'o2o.orders.v1.OrderConfirmed', 'o2o.orders.v1.OrderCancelled'],
        },
      },
    );
    expect(created.status).toBe(201);
    r.setSecret(created.body.secret);
    return created.body.subscription.id;
  };
  const sub1 = await subscribe(keys.p1, r1);
  await subscribe(keys.p2, r2);

  const order = async (key: string, external: string) => {
    const placed = await gw.call<{ order: { id: string; status: string } }>('POST', '/v1/orders', {
      key,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        ...restOrder([{ skuCode: TEA.code, quantity: 1 }]),
        channel: 'CHANNEL_MARKETPLACE',
        customerId: uniqueName('mp'),
        marketplace: { externalOrderId: external },
      },
    });
    expect(placed.body.order.status).toBe('ORDER_STATUS_CONFIRMED');
    return placed.body.order.id;
  };
  const a = await order(keys.p1, 'T-1');
  const b = await order(keys.p1, 'T-2');
  const c = await order(keys.p2, 'J-1');
  const cancelled = await gw.call('POST', `/v1/orders/${b}/cancel`, {
    key: keys.p1,
    headers: { 'idempotency-key': randomUUID() },
    body: { reason: 'customer changed their mind' },
  });
  expect(cancelled.status).toBe(200);

  const delivered = (r: ReturnType<typeof receiver>) => r.log.filter((e) => e.answered === 204);
  await waitFor(() => delivered(r1).length >= 5 && delivered(r2).length >= 2, {
    what: 'both partners’ events',
    timeoutMs: 45_000,
  });
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // anything extra would have arrived by now

  // Signed with the partner's secret; only its own orders.
  expect(r1.log.every((e) => e.verified)).toBe(true);
  expect(r2.log.every((e) => e.verified)).toBe(true);
  expect(new Set(r1.log.map((e) => e.orderId))).toEqual(new Set([a, b]));
  expect(new Set(r2.log.map((e) => e.orderId))).toEqual(new Set([c]));

  // Each event delivered successfully exactly once; in order per order.
  const ok1 = delivered(r1);
  expect(new Set(ok1.map((e) => e.id)).size).toBe(ok1.length);
  const typesOf = (orderId: string) => ok1.filter((e) => e.orderId === orderId).map((e) => e.type.split('.').pop());
  expect(typesOf(a)).toEqual(['OrderPlaced', 'OrderConfirmed']);
  expect(typesOf(b)).toEqual(['OrderPlaced', 'OrderConfirmed', 'OrderCancelled']);

  // The receiver failed the first event three times: it was retried, delivered on the fourth attempt, then never again.
  const first = r1.log[0]!;
  expect(r1.log.filter((e) => e.id === first.id).map((e) => e.answered)).toEqual([500, 500, 500, 204]);

  // The partner reads the same story in its delivery log.
  const log = await gw.call<{ deliveries: { eventId: string; status: string; attempts: { httpStatus?: number }[] }[] }>(
    'GET',
    `/v1/webhooks/subscriptions/${sub1}/deliveries?pageSize=20`,
    { key: keys.p1 },
  );
  expect(log.status).toBe(200);
  const firstLogged = log.body.deliveries.find((d) => d.eventId === first.id);
  expect(firstLogged).toMatchObject({ status: 'DELIVERED' });
  expect(firstLogged?.attempts.map((t) => t.httpStatus)).toEqual([500, 500, 500, 204]);
  // Another partner cannot read it.
  expect((await gw.call('GET', `/v1/webhooks/subscriptions/${sub1}/deliveries`, { key: keys.p2 })).status).toBe(404);
  expect((await gw.call('GET', `/v1/webhooks/subscriptions/${sub1}`, { key: ADMIN_KEY })).status).toBe(200);
}, 90_000);
