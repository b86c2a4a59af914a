// The gateway as SREs run it: a Prometheus scrape shows every REST answer by operation and status (refusals included,
// probes not), and SIGTERM drains: /readyz turns 503 while requests are still answered, an open tracking stream is
// told to reconnect, and the process exits 0 on its own.
import { randomUUID } from 'node:crypto';
import { freePort, uniqueName, waitFor } from '@o2o/kit-testing';
import { LOCATIONS, type SkuSpec } from '../../orders/test/system';
import { ADMIN_KEY, type GatewaySystem, restOrder, seedStock, startGatewaySystem } from './gateway-system';

let gw: GatewaySystem;
let metricsPort: number;
const TEA: SkuSpec = { code: `PROC-${randomUUID().slice(0, 8)}`, online: 1500, store: 1400 };

beforeAll(async () => {
  metricsPort = await freePort();
  gw = await startGatewaySystem({
    gatewayEnv: {
      OTEL_METRICS_EXPORTER: 'prometheus',
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      SHUTDOWN_DRAIN_DELAY_MS: '2000',
      SHUTDOWN_GRACE_MS: '5000',
    },
  });
  await seedStock(gw, TEA, { name: `Process tea ${TEA.code}`, locationId: LOCATIONS.warehouse, quantity: 5 });
}, 240_000);

afterAll(async () => {
  await gw?.stop();
}, 60_000);

it('Prometheus shows every answer by operation and status; SIGTERM drains, tells streams to reconnect, exits 0', async () => {
  const shopper = await gw.issueKey({ role: 'shopper', subject: uniqueName('cust') });
  expect((await gw.call('GET', '/v1/products', { key: shopper })).status).toBe(200);
  expect((await gw.call('GET', `/v1/orders/nope-${randomUUID()}`, { key: shopper })).status).toBe(404);
  expect((await gw.call('GET', '/v1/products')).status).toBe(401);
  expect((await gw.call('GET', '/readyz')).status).toBe(200);
  const scrape = await waitFor(
    async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return text.includes('operation="getOrder"') ? text : undefined;
    },
    { what: 'the gateway metrics', timeoutMs: 10_000 },
  );
  const count = (operation: string, status: number) =>
    new RegExp(
      `o2o_gateway_request_duration_count\\{[^}]*operation="${operation}"[^}]*status="${status}"[^}]*\\} [1-9]`,
    ).test(scrape) ||
    new RegExp(
      `o2o_gateway_request_duration_count\\{[^}]*status="${status}"[^}]*operation="${operation}"[^}]*\\} [1-9]`,
    ).test(scrape);
  expect(count('listProducts', 200)).toBe(true);
  expect(count('getOrder', 404)).toBe(true);
  expect(count('listProducts', 401)).toBe(true);
  expect(scrape).not.toMatch(/o2o_gateway_request_duration_count\{[^}]*operation="none"[^}]*status="200"/);

  // A delivery under way, watched by the shopper.
  const placed = await gw.call<{ order: { id: string; groups: { id: string; locationId: string }[] } }>(
    'POST',
    '/v1/orders',
    {
      key: shopper,
      headers: { 'idempotency-key': randomUUID() },
      body: restOrder([{ skuCode: TEA.code, quantity: 1 }]),
    },
  );
  const order = placed.body.order;
  const group = order.groups[0]!;
  const task = await waitFor(async () => {
    const page = await gw.call<{ fulfilments: { id: string; orderId: string }[] }>(
      'GET',
      `/v1/locations/${group.locationId}/fulfilments`,
      { key: ADMIN_KEY },
    );
    return page.body.fulfilments?.find((f) => f.orderId === order.id);
  });
  await gw.call('POST', `/v1/locations/${group.locationId}/fulfilments/${task.id}/accept`, {
    key: ADMIN_KEY,
    body: {},
  });
  const stream = await fetch(`${gw.url}/v1/orders/${order.id}/groups/${group.id}/tracking`, {
    headers: { 'x-api-key': shopper },
  });
  expect(stream.status).toBe(200);
  let text = '';
  const reading = (async () => {
    for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>)
      text += Buffer.from(chunk).toString('utf8');
  })();
  await waitFor(() => text.includes('event: update'), { what: 'the first tracking update' });
  await waitFor(
    async () =>
      /o2o_gateway_tracking_streams(\{[^}]*\})? 1\b/.test(
        await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
      ),
    { what: 'one open tracking stream in the scrape', timeoutMs: 10_000 },
  );

  const began = Date.now();
  const exited = gw.terminate();
  await waitFor(async () => (await gw.call('GET', '/readyz')).status === 503, {
    what: '/readyz 503',
    timeoutMs: 1_500,
  });
  // Still answering during the drain delay, so requests in flight through the load balancer finish.
  expect((await gw.call('GET', '/v1/products', { key: shopper })).status).toBe(200);
  await reading;
  expect(text).toMatch(/event: error\ndata: \{"grpcStatus":\d+,"reconnect":true\}/);
  expect(await exited).toBe(0);
  expect(Date.now() - began).toBeGreaterThanOrEqual(2_000);
  // On its own, well inside the Deployment's 40 s grace: drain, streams, webhook consumer and Kafka closed.
  expect(Date.now() - began).toBeLessThan(20_000);
}, 120_000);
