// Every route of the OpenAPI document the running gateway serves answers as documented: each operation is called
// once, in an order that builds what the next needs (a store, a product, stock, orders...), and answers its documented
// success status with a body valid against its documented schema. The set of operations called must be exactly the
// set the document lists, so a route added without a test here fails this test.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { uniqueName, waitFor } from '@o2o/kit-testing';
import { LOCATIONS } from '../../orders/test/system';
import { ADMIN_KEY, type Answer, type GatewaySystem, startGatewaySystem } from './gateway-system';

/** A JSON body as the tests read it (shape checked by the assertions). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let gw: GatewaySystem;
let doc: { paths: Record<string, Record<string, OperationDoc>> };
const DOC_ID = 'https://o2o.dev/openapi.json';
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);

interface OperationDoc {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema?: unknown; 'x-o2o-event-schema'?: unknown }> }>;
}

/** A partner's endpoint on loopback: answers 204 to every delivery and counts them. */
let receiver: Server;
let received = 0;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  gw = await startGatewaySystem({
    gatewayEnv: { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_RETRY_BASE_MS: '200', WEBHOOK_POLL_INTERVAL_MS: '200' },
  });
  await gw.sys.createLocations();
  const served = await fetch(`${gw.url}/openapi.json`);
  expect(served.status).toBe(200);
  doc = (await served.json()) as typeof doc;
  ajv.addSchema({ ...doc, $id: DOC_ID });
}, 240_000);

afterAll(async () => {
  await gw?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
}, 60_000);

const called = new Set<string>();

/** The documented operation for a concrete request path (path templates matched segment by segment). */
function operationFor(method: string, path: string): OperationDoc {
  const parts = path.split('?')[0]!.split('/');
  for (const [template, ops] of Object.entries(doc.paths)) {
    const t = template.split('/');
    if (t.length !== parts.length) continue;
    if (!t.every((s, i) => s.startsWith('{') || s === parts[i])) continue;
    const op = ops[method.toLowerCase()];
    // A literal segment wins over a parameter (`/v1/products/search`), as in the gateway's router.
    if (op && !(template.includes('{') && Object.keys(doc.paths).some((other) => other === parts.join('/')))) return op;
  }
  throw new Error(`no documented operation for ${method} ${path}`);
}

/** Calls the gateway and checks the answer against the document: documented success status, body valid. */
async function conform<T = Json>(
  method: string,
  path: string,
  options: Parameters<GatewaySystem['call']>[2] = {},
): Promise<Answer<T>> {
  const op = operationFor(method, path);
  const answer = await gw.call<T>(method, path, options);
  const [status, response] = Object.entries(op.responses)[0]!;
  expect({
    operation: op.operationId,
    status: answer.status,
    body: answer.status >= 400 ? answer.body : undefined,
  }).toEqual({
    operation: op.operationId,
    status: Number(status),
    body: undefined,
  });
  const schema = response.content?.['application/json']?.schema;
  if (schema) {
    const validate = ajv.compile(
      JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${DOC_ID}#/components/`)),
    );
    const valid = validate(answer.body);
    expect({ operation: op.operationId, errors: valid ? [] : validate.errors }).toEqual({
      operation: op.operationId,
      errors: [],
    });
  }
  called.add(op.operationId);
  return answer;
}

it('every documented operation answers its documented status with a body valid against its documented schema', async () => {
  const store = uniqueName('store');
  const sku = `CONF-${randomUUID().slice(0, 8)}`;
  const customer = uniqueName('cust');

  // Admin: keys, a store, a product with prices, stock.
  const shopperKey = (
    await conform<{ key: string }>('POST', '/v1/admin/api-keys', {
      key: ADMIN_KEY,
      body: { role: 'shopper', subject: customer },
    })
  ).body.key;
  const staffKey = (
    await conform<{ key: string }>('POST', '/v1/admin/api-keys', {
      key: ADMIN_KEY,
      body: { role: 'staff', subject: 'clerk-1', storeIds: [store], description: 'till 1' },
    })
  ).body.key;
  await conform('GET', '/v1/admin/api-keys?pageSize=2', { key: ADMIN_KEY });
  // A partner operating the new store subscribes to its orders' events.
  const startTime = new Date().toISOString();
  const partnerKey = (
    await gw.call<{ key: string }>('POST', '/v1/admin/api-keys', {
      key: ADMIN_KEY,
      body: { role: 'partner', subject: uniqueName('partner'), storeIds: [store] },
    })
  ).body.key;
  const subscription = (
    await conform<{ subscription: { id: string; version: number }; secret: string }>(
      'POST',
      '/v1/webhooks/subscriptions',
      {
        key: partnerKey,
        body: {
          url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/o2o`,
          eventTypes: ['o2o.orders.v1.*'],
          filters: { storeIds: [store] },
          description: 'store feed',
        },
      },
    )
  ).body;
  expect(subscription.secret).toMatch(/^whsec_/);
  const hook = `/v1/webhooks/subscriptions/${subscription.subscription.id}`;
  await conform('PUT', `/v1/locations/${store}`, {
    key: ADMIN_KEY,
    body: {
      location: {
        name: 'Jing’an store',
        kind: 'LOCATION_KIND_STORE',
        point: { latitude: 31.2243, longitude: 121.4468 },
        address: {
          lines: ['1 West Nanjing Road'],
          district: 'Jing’an',
          city: 'Shanghai',
          region: 'Shanghai',
          postalCode: '200040',
          countryCode: 'CN',
        },
        timeZone: 'Asia/Shanghai',
        openingHours: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, opens: '00:00', closes: '23:59' })),
        capabilities: { shipsParcels: true, storePickup: true, sameDayRadiusM: 10000, acceptsReturns: true },
        status: 'LOCATION_STATUS_OPEN',
      },
    },
  });
  await conform('GET', `/v1/locations/${store}`, { key: shopperKey });
  await conform('GET', '/v1/locations?kinds=LOCATION_KIND_STORE&pageSize=5', { key: shopperKey });
  const created = await conform<{ product: { id: string; version: string } }>('POST', '/v1/products', {
    key: ADMIN_KEY,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      product: {
        name: `Conformance tea ${sku}`,
        brand: 'Hill Garden',
        categories: ['food/tea'],
        skus: [
          {
            code: sku,
            name: '250 g tin',
            prices: [{ channel: 'PRICE_CHANNEL_ONLINE', price: { currencyCode: 'CNY', amountMinor: '3200' } }],
            sellableChannels: ['SALES_CHANNEL_ONLINE', 'SALES_CHANNEL_IN_STORE'],
          },
        ],
      },
    },
  });
  const productId = created.body.product.id;
  const priced = await conform<{ product: { version: string } }>('POST', `/v1/products/${productId}/prices`, {
    key: ADMIN_KEY,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      expectedVersion: created.body.product.version,
      skuCode: sku,
      channel: 'PRICE_CHANNEL_STORE',
      price: { currencyCode: 'CNY', amountMinor: '3000' },
    },
  });
  await conform('POST', `/v1/products/${productId}/activate`, {
    key: ADMIN_KEY,
    headers: { 'idempotency-key': randomUUID() },
    body: { expectedVersion: priced.body.product.version },
  });
  await gw.sys.waitForSkus([sku]);
  await conform('POST', `/v1/locations/${store}/stock-adjustments`, {
    key: ADMIN_KEY,
    headers: { 'idempotency-key': randomUUID() },
    body: { skuCode: sku, reason: 'ADJUSTMENT_REASON_RECEIPT', quantity: '20', note: 'opening stock' },
  });
  await gw.sys.receive(sku, LOCATIONS.warehouse, 20);

  // A shopper browses.
  await conform('GET', '/v1/products?pageSize=5&status=PRODUCT_STATUS_ACTIVE', { key: shopperKey });
  await conform('GET', `/v1/products/search?query=${sku}`, { key: shopperKey });
  await conform('GET', `/v1/products/${productId}`, { key: shopperKey });
  await conform('GET', `/v1/availability?skuCodes=${sku}&locationIds=${store}`, { key: shopperKey });
  await conform('POST', '/v1/availability/nearby', {
    key: shopperKey,
    body: {
      items: [{ skuCode: sku, quantity: '1' }],
      point: { latitude: 31.2243, longitude: 121.4468 },
      radiusM: 5000,
      limit: 3,
    },
  });

  // A pick-up order at the store: placed, read, worked by the store, collected with the code, returned.
  const pickupOrder = (
    await conform<{ order: Json }>('POST', '/v1/orders', {
      key: shopperKey,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        channel: 'CHANNEL_APP',
        lines: [{ skuCode: sku, quantity: '2' }],
        currency: 'CNY',
        fulfilment: { type: 'FULFILMENT_TYPE_STORE_PICKUP', pickupLocationId: store },
        payment: { method: 'PAYMENT_METHOD_CARD', card: { number: '4242424242424242' } },
      },
    })
  ).body.order;
  const orderId = pickupOrder.id as string;
  const groupId = pickupOrder.groups[0].id as string;
  await conform('GET', '/v1/orders?pageSize=10', { key: shopperKey });
  await conform('GET', `/v1/orders/${orderId}`, { key: shopperKey });
  await conform('GET', `/v1/orders/${orderId}/timeline`, { key: shopperKey });
  await conform('GET', `/v1/orders/${orderId}/payments`, { key: shopperKey });
  await waitFor(
    async () =>
      (await gw.call('GET', `/v1/orders/${orderId}/groups/${groupId}/fulfilment`, { key: shopperKey })).status === 200,
  );
  await conform('GET', `/v1/orders/${orderId}/groups/${groupId}/fulfilment`, { key: shopperKey });
  const queue = await conform<{ fulfilments: { id: string; orderId: string }[] }>(
    'GET',
    `/v1/locations/${store}/fulfilments`,
    {
      key: staffKey,
    },
  );
  const fulfilmentId = queue.body.fulfilments.find((f) => f.orderId === orderId)!.id;
  const task = `/v1/locations/${store}/fulfilments/${fulfilmentId}`;
  await conform('POST', `${task}/accept`, { key: staffKey, body: { associateId: 'clerk-1' } });
  await conform('POST', `${task}/picked`, { key: staffKey });
  await conform('POST', `${task}/ready`, { key: staffKey });
  const code = (
    await conform<{ code: string }>('GET', `/v1/orders/${orderId}/groups/${groupId}/handover-code`, { key: shopperKey })
  ).body.code;
  await conform('POST', `${task}/verify-pickup`, { key: staffKey, body: { code, associateId: 'clerk-1' } });
  await waitFor(
    async () => {
      const got = await gw.call<{ order: { status: string; settling: boolean } }>('GET', `/v1/orders/${orderId}`, {
        key: shopperKey,
      });
      return got.body.order.status === 'ORDER_STATUS_COMPLETED' && !got.body.order.settling;
    },
    { what: 'the pick-up order COMPLETED', timeoutMs: 20_000 },
  );
  const returned = await conform<{ returnId: string }>('POST', `/v1/orders/${orderId}/returns`, {
    key: shopperKey,
    headers: { 'idempotency-key': randomUUID() },
    body: { locationId: store, lines: [{ skuCode: sku, quantity: '1' }], reason: 'too much tea' },
  });
  await conform('POST', `/v1/orders/${orderId}/returns/${returned.body.returnId}/receive`, {
    key: staffKey,
    headers: { 'idempotency-key': randomUUID() },
    body: {},
  });

  // An order cancelled before it is worked.
  const toCancel = await gw.call<{ order: { id: string } }>('POST', '/v1/orders', {
    key: shopperKey,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      channel: 'CHANNEL_APP',
      lines: [{ skuCode: sku, quantity: '1' }],
      currency: 'CNY',
      fulfilment: { type: 'FULFILMENT_TYPE_STORE_PICKUP', pickupLocationId: store },
      payment: { method: 'PAYMENT_METHOD_CARD', card: { number: '4242424242424242' } },
    },
  });
  await conform('POST', `/v1/orders/${toCancel.body.order.id}/cancel`, {
    key: shopperKey,
    headers: { 'idempotency-key': randomUUID() },
    body: { reason: 'changed my mind' },
  });

  // A home delivery from the store, watched live: the stream opens with the latest state.
  const delivered = await gw.call<{ order: Json }>('POST', '/v1/orders', {
    key: shopperKey,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      channel: 'CHANNEL_APP',
      lines: [{ skuCode: sku, quantity: '1' }],
      currency: 'CNY',
      fulfilment: {
        type: 'FULFILMENT_TYPE_HOME_DELIVERY',
        delivery: {
          point: { latitude: 31.2263, longitude: 121.4488 },
          address: { lines: ['5 Yuyuan Road'], city: 'Shanghai', countryCode: 'CN' },
          recipientName: 'Zhang Min',
          recipientPhone: '+8613900139000',
        },
      },
      payment: { method: 'PAYMENT_METHOD_CARD', card: { number: '4242424242424242' } },
    },
  });
  expect(delivered.status).toBe(201);
  const dOrder = delivered.body.order;
  const dGroup = dOrder.groups[0];
  const dQueue = await waitFor(async () => {
    const page = await gw.call<{ fulfilments: { id: string; orderId: string }[] }>(
      'GET',
      `/v1/locations/${dGroup.locationId}/fulfilments`,
      {
        key: ADMIN_KEY,
      },
    );
    return page.body.fulfilments?.find((f) => f.orderId === dOrder.id);
  });
  await gw.call('POST', `/v1/locations/${dGroup.locationId}/fulfilments/${dQueue.id}/accept`, {
    key: ADMIN_KEY,
    body: {},
  });
  const op = operationFor('GET', `/v1/orders/${dOrder.id}/groups/${dGroup.id}/tracking`);
  const abort = new AbortController();
  const res = await fetch(`${gw.url}/v1/orders/${dOrder.id}/groups/${dGroup.id}/tracking`, {
    headers: { 'x-api-key': shopperKey },
    signal: abort.signal,
  });
  expect(res.status).toBe(Number(Object.keys(op.responses)[0]));
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('event: update'))
    text += new TextDecoder().decode((await reader.read()).value as Uint8Array | undefined);
  const data = /data: (.*)\n/.exec(text.slice(text.indexOf('event: update')))![1]!;
  const eventSchema = op.responses['200']!.content!['text/event-stream']!['x-o2o-event-schema'];
  const validateEvent = ajv.compile(
    JSON.parse(JSON.stringify(eventSchema).replaceAll('"#/components/', `"${DOC_ID}#/components/`)),
  );
  expect(validateEvent(JSON.parse(data))).toBe(true);
  abort.abort();
  called.add(op.operationId);

  // The partner's webhook: deliveries logged, one read, a replay, a rotation, a pause, and the subscription deleted.
  const log = await waitFor(
    async () => {
      const page = await gw.call<{ deliveries: { id: string; status: string }[] }>('GET', `${hook}/deliveries`, {
        key: partnerKey,
      });
      return page.body.deliveries?.some((d) => d.status === 'DELIVERED') ? page : undefined;
    },
    { what: 'a delivered webhook', timeoutMs: 45_000 },
  );
  expect(received).toBeGreaterThan(0);
  await conform('GET', `${hook}/deliveries?status=DELIVERED&pageSize=5`, { key: partnerKey });
  await conform('GET', `${hook}/deliveries/${log.body.deliveries[0]!.id}`, { key: partnerKey });
  await conform('POST', `${hook}/replay`, { key: partnerKey, body: { from: startTime } });
  await conform('POST', `${hook}/rotate-secret`, { key: partnerKey, body: { overlapSeconds: 60 } });
  await conform('GET', '/v1/webhooks/subscriptions', { key: partnerKey });
  await conform('GET', hook, { key: partnerKey });
  await conform('PATCH', hook, { key: partnerKey, body: { status: 'PAUSED', description: 'paused for maintenance' } });
  await conform('DELETE', hook, { key: partnerKey });

  // Last, a key revoked.
  const spare = (
    await gw.call<{ apiKey: { id: string } }>('POST', '/v1/admin/api-keys', {
      key: ADMIN_KEY,
      body: { role: 'shopper', subject: 'spare' },
    })
  ).body.apiKey.id;
  await conform('DELETE', `/v1/admin/api-keys/${spare}`, { key: ADMIN_KEY });

  // The check is not vacuous: a body the document does not allow fails it.
  const placeSchema = doc.paths['/v1/orders']!.post!.responses['201']!.content!['application/json']!.schema;
  const strict = ajv.compile(
    JSON.parse(JSON.stringify(placeSchema).replaceAll('"#/components/', `"${DOC_ID}#/components/`)),
  );
  expect(strict({ order: { id: 'o-1', total: { amountMinor: 12.5 } } })).toBe(false);
  expect(strict({ order: { id: 'o-1', colour: 'red' } })).toBe(false);

  const documented = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
  expect([...called].sort()).toEqual([...documented].sort());
}, 180_000);
