// Authorization and bad input through the running gateway (five services and the gateway, each its own process, real
// Kafka and database, a real HTTP client). Ownership: a shopper's other-shopper order is a 404 like a missing one,
// staff see their stores, a partner its own marketplace orders; each role is refused what it may not do. Bad input of
// every kind is a problem+json 4xx, never a 5xx, and changes nothing.
import { randomUUID } from 'node:crypto';
import { uniqueName, waitFor } from '@o2o/kit-testing';
import { LOCATIONS, type SkuSpec } from '../../orders/test/system';
import { ADMIN_KEY, type Answer, type GatewaySystem, restOrder, seedStock, startGatewaySystem } from './gateway-system';

/** A JSON body as the tests read it (shape checked by the assertions). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let gw: GatewaySystem;
const TEA: SkuSpec = { code: `AUTH-${randomUUID().slice(0, 8)}`, online: 1800, store: 1700 };

beforeAll(async () => {
  // Keys are re-read at once, so a revocation is seen by the next request.
  gw = await startGatewaySystem({
    gatewayEnv: { API_KEY_CACHE_MS: '0', MAX_BODY_BYTES: '16384', CORS_ALLOWED_ORIGINS: 'https://shop.example' },
  });
  await seedStock(gw, TEA, { name: `Auth tea ${TEA.code}`, locationId: LOCATIONS.warehouse, quantity: 50 });
}, 240_000);

afterAll(async () => {
  await gw?.stop();
}, 60_000);

const card = { method: 'PAYMENT_METHOD_CARD', card: { number: '4242424242424242' } };
const webOrder = (quantity = '1') => ({
  ...restOrder([{ skuCode: TEA.code, quantity: 1 }]),
  lines: [{ skuCode: TEA.code, quantity }],
});

function expectProblem(answer: Answer, status: number): Record<string, unknown> {
  expect({ status: answer.status, text: answer.text }).toMatchObject({ status });
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ status, type: expect.stringMatching(/^https:\/\/o2o\.dev\/problems\//) });
  return answer.body;
}

async function place(key: string, body: unknown): Promise<Answer<{ order: Json }>> {
  return gw.call('POST', '/v1/orders', { key, body, headers: { 'idempotency-key': randomUUID() } });
}

describe('authentication', () => {
  it('no credential, a wrong key, a revoked key and bad tokens are 401 with WWW-Authenticate', async () => {
    const none = await gw.call('GET', '/v1/products');
    expectProblem(none, 401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expectProblem(await gw.call('GET', '/v1/products', { key: 'o2o_nosuchkey1_aaaaaaaaaaaaaaaaaaaa' }), 401);
    expectProblem(await gw.call('GET', '/v1/products', { key: 'not-a-key' }), 401);

    const key = await gw.issueKey({ role: 'shopper', subject: uniqueName('cust') });
    expect((await gw.call('GET', '/v1/products', { key })).status).toBe(200);
    const keyId = key.split('_')[1];
    const revoked = await gw.call('DELETE', `/v1/admin/api-keys/${keyId}`, { key: ADMIN_KEY });
    expect(revoked.body).toMatchObject({ status: 'REVOKED' });
    expectProblem(await gw.call('GET', '/v1/products', { key }), 401);

    const good = await gw.token({ sub: uniqueName('cust'), role: 'shopper' });
    expect((await gw.call('GET', '/v1/products', { token: good })).status).toBe(200);
    const expired = await gw.token({ sub: 'c', role: 'shopper', expiresIn: '-1m' });
    expect(expectProblem(await gw.call('GET', '/v1/products', { token: expired }), 401).detail).toMatch(/expired/);
    const otherAudience = await gw.token({ sub: 'c', role: 'shopper', audience: 'someone-else' });
    expectProblem(await gw.call('GET', '/v1/products', { token: otherAudience }), 401);
    const noRole = await gw.token({ sub: 'c', role: 'superuser' });
    expectProblem(await gw.call('GET', '/v1/products', { token: noRole }), 401);
    const tampered = `${good.slice(0, -4)}AAAA`;
    expectProblem(await gw.call('GET', '/v1/products', { token: tampered }), 401);
    expectProblem(await gw.call('GET', '/v1/products', { token: good, key: ADMIN_KEY }), 401);
  });

  it('browsers: CORS preflight and answers for the allowed origin only, never a wildcard', async () => {
    const preflight = (origin: string) =>
      gw.call('OPTIONS', '/v1/orders', {
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key' },
      });
    const allowed = await preflight('https://shop.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('idempotency-key');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const refused = await preflight('https://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();

    const key = await gw.issueKey({ role: 'shopper', subject: uniqueName('cust') });
    const fromShop = await gw.call('GET', '/v1/locations', { key, headers: { origin: 'https://shop.example' } });
    expect(fromShop.status).toBe(200);
    expect(fromShop.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(fromShop.headers.get('access-control-expose-headers')).toContain('x-request-id');
    const fromElsewhere = await gw.call('GET', '/v1/locations', { key, headers: { origin: 'https://evil.example' } });
    expect(fromElsewhere.headers.get('access-control-allow-origin')).toBeNull();
    // A problem answer carries them too, so the browser app can read the error.
    const problem = await gw.call('GET', '/v1/locations', { headers: { origin: 'https://shop.example' } });
    expect(problem.status).toBe(401);
    expect(problem.headers.get('access-control-allow-origin')).toBe('https://shop.example');
  });

  it('a key over its rate limit gets 429 with Retry-After, and RateLimit headers on every answer', async () => {
    const key = await gw.issueKey({ role: 'shopper', subject: uniqueName('cust'), rateLimitPerMinute: 6 });
    const answers = await Promise.all(Array.from({ length: 14 }, () => gw.call('GET', '/v1/locations', { key })));
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10); // a burst of 60/6
    expect(refused).toHaveLength(4);
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(answers[0]!.headers.get('ratelimit-limit')).toBe('10');
    expectProblem(refused[0]!, 429);
    // Operators see who is limited: one log line per credential and minute, not one per refusal.
    const keyId = key.split('_')[1];
    await waitFor(() => gw.logs().some((l) => l.includes('rate limit exceeded') && l.includes(`key:${keyId}`)));
    expect(gw.logs().filter((l) => l.includes('rate limit exceeded') && l.includes(`key:${keyId}`))).toHaveLength(1);
    // Another key is not affected.
    const other = await gw.issueKey({ role: 'shopper', subject: uniqueName('cust') });
    expect((await gw.call('GET', '/v1/locations', { key: other })).status).toBe(200);
  });
});

describe('ownership, one test per role', () => {
  it('shopper: their own orders only; another shopper’s order is a 404 exactly like a missing one', async () => {
    const alice = uniqueName('alice');
    const aliceKey = await gw.issueKey({ role: 'shopper', subject: alice });
    const bobKey = await gw.issueKey({ role: 'shopper', subject: uniqueName('bob') });
    const placed = await place(aliceKey, webOrder());
    expect(placed.status).toBe(201);
    const orderId = placed.body.order.id as string;

    const bobs = await gw.call('GET', `/v1/orders/${orderId}`, { key: bobKey });
    const missing = await gw.call('GET', `/v1/orders/no-such-order-${randomUUID()}`, { key: bobKey });
    expectProblem(bobs, 404);
    expectProblem(missing, 404);
    expect({ ...bobs.body, instance: undefined, detail: undefined }).toEqual({
      ...missing.body,
      instance: undefined,
      detail: undefined,
    });
    for (const route of [`/v1/orders/${orderId}/timeline`, `/v1/orders/${orderId}/payments`]) {
      expectProblem(await gw.call('GET', route, { key: bobKey }), 404);
    }
    const cancel = await gw.call('POST', `/v1/orders/${orderId}/cancel`, {
      key: bobKey,
      body: { reason: 'not mine' },
      headers: { 'idempotency-key': randomUUID() },
    });
    expectProblem(cancel, 404);
    expect(
      (await gw.call<{ order: { status: string } }>('GET', `/v1/orders/${orderId}`, { key: aliceKey })).body.order
        .status,
    ).toBe('ORDER_STATUS_CONFIRMED');
    // Listing: their own by default; another customer's list is refused.
    const list = await gw.call<{ orders: { id: string }[] }>('GET', '/v1/orders', { key: aliceKey });
    expect(list.body.orders.map((o) => o.id)).toEqual([orderId]);
    expectProblem(await gw.call('GET', `/v1/orders?customerId=${alice}`, { key: bobKey }), 403);
    // Ordering for someone else is refused and places nothing.
    expectProblem(await place(bobKey, { ...webOrder(), customerId: alice }), 403);
    expect((await gw.call<{ orders: unknown[] }>('GET', '/v1/orders', { key: aliceKey })).body.orders).toHaveLength(1);
    // A shopper's credential cannot reach store or admin operations.
    expectProblem(await gw.call('GET', `/v1/locations/${LOCATIONS.warehouse}/fulfilments`, { key: aliceKey }), 403);
    expectProblem(
      await gw.call('POST', '/v1/admin/api-keys', { key: aliceKey, body: { role: 'admin', subject: 'me' } }),
      403,
    );
  });

  it('store staff: their stores’ orders and tasks only', async () => {
    const shopperKey = await gw.issueKey({ role: 'shopper', subject: uniqueName('cust') });
    const placed = await place(shopperKey, webOrder());
    const order = placed.body.order;
    expect(order.groups[0].locationId).toBe(LOCATIONS.warehouse);
    const warehouseStaff = await gw.issueKey({ role: 'staff', subject: 'wh-1', storeIds: [LOCATIONS.warehouse] });
    const storeBStaff = await gw.issueKey({ role: 'staff', subject: 'sb-1', storeIds: [LOCATIONS.storeB] });

    expect((await gw.call('GET', `/v1/orders/${order.id}`, { key: warehouseStaff })).status).toBe(200);
    expectProblem(await gw.call('GET', `/v1/orders/${order.id}`, { key: storeBStaff }), 404);
    expectProblem(await gw.call('GET', `/v1/orders?storeId=${LOCATIONS.warehouse}`, { key: storeBStaff }), 403);
    const noStore = expectProblem(await gw.call('GET', '/v1/orders', { key: storeBStaff }), 400);
    expect(noStore.invalid_params).toEqual([{ name: 'storeId', reason: 'is required' }]);

    const fulfilmentId = await waitFor(async () => {
      const page = await gw.call<{ fulfilments: { id: string; orderId: string }[] }>(
        'GET',
        `/v1/locations/${LOCATIONS.warehouse}/fulfilments`,
        { key: warehouseStaff },
      );
      return page.body.fulfilments?.find((f) => f.orderId === order.id)?.id;
    });
    expectProblem(await gw.call('GET', `/v1/locations/${LOCATIONS.warehouse}/fulfilments`, { key: storeBStaff }), 403);
    expectProblem(
      await gw.call('POST', `/v1/locations/${LOCATIONS.warehouse}/fulfilments/${fulfilmentId}/accept`, {
        key: storeBStaff,
        body: {},
      }),
      403,
    );
    // Acting for its own store on another store's task: the service refuses it.
    const wrongStore = await gw.call('POST', `/v1/locations/${LOCATIONS.storeB}/fulfilments/${fulfilmentId}/accept`, {
      key: storeBStaff,
      body: {},
    });
    expect([403, 404]).toContain(wrongStore.status);
    expect(
      (
        await gw.call('POST', `/v1/locations/${LOCATIONS.warehouse}/fulfilments/${fulfilmentId}/accept`, {
          key: warehouseStaff,
          body: {},
        })
      ).status,
    ).toBe(200);
    // Staff may not order online for a customer, nor manage keys.
    expectProblem(await place(storeBStaff, webOrder()), 403);
    expectProblem(await gw.call('GET', '/v1/admin/api-keys', { key: warehouseStaff }), 403);
  });

  it('partner: its own marketplace orders only, never another partner’s', async () => {
    const p1 = uniqueName('tmall');
    const p2 = uniqueName('jd');
    const p1Key = await gw.issueKey({ role: 'partner', subject: p1 });
    const p2Key = await gw.issueKey({ role: 'partner', subject: p2 });
    const marketplaceOrder = (ext: string) => ({
      ...webOrder(),
      channel: 'CHANNEL_MARKETPLACE',
      customerId: uniqueName('mp-cust'),
      marketplace: { externalOrderId: ext },
    });
    const placed = await place(p1Key, marketplaceOrder('T-1001'));
    expect(placed.status).toBe(201);
    expect(placed.body.order.marketplace).toEqual({ partnerId: p1, externalOrderId: 'T-1001' });
    expectProblem(
      await place(p2Key, { ...marketplaceOrder('J-1'), marketplace: { partnerId: p1, externalOrderId: 'J-1' } }),
      403,
    );

    expect((await gw.call('GET', `/v1/orders/${placed.body.order.id}`, { key: p1Key })).status).toBe(200);
    expectProblem(await gw.call('GET', `/v1/orders/${placed.body.order.id}`, { key: p2Key }), 404);
    const p1List = await gw.call<{ orders: { id: string }[] }>('GET', '/v1/orders', { key: p1Key });
    const p2List = await gw.call<{ orders: { id: string }[] }>('GET', '/v1/orders', { key: p2Key });
    expect(p1List.body.orders.map((o) => o.id)).toEqual([placed.body.order.id]);
    expect(p2List.body.orders).toEqual([]);
    expectProblem(await gw.call('GET', `/v1/orders?partnerId=${p1}`, { key: p2Key }), 403);
    expectProblem(await gw.call('GET', `/v1/orders?storeId=${LOCATIONS.storeA}`, { key: p2Key }), 403);
  });

  it('admin: any order, and key management; a key narrowed by scopes can do only that', async () => {
    const shopperKey = await gw.issueKey({ role: 'shopper', subject: uniqueName('cust') });
    const placed = await place(shopperKey, webOrder());
    expect((await gw.call('GET', `/v1/orders/${placed.body.order.id}`, { key: ADMIN_KEY })).status).toBe(200);
    const keys = await gw.call<{ apiKeys: { id: string }[] }>('GET', '/v1/admin/api-keys?pageSize=100', {
      key: ADMIN_KEY,
    });
    expect(keys.status).toBe(200);
    expect(keys.body.apiKeys.length).toBeGreaterThan(1);
    const browseOnly = await gw.issueKey({ role: 'shopper', subject: uniqueName('cust'), scopes: ['catalogue:read'] });
    expect((await gw.call('GET', '/v1/products', { key: browseOnly })).status).toBe(200);
    expect(expectProblem(await place(browseOnly, webOrder()), 403).detail).toMatch(/orders:write/);
    const tooWide = await gw.call('POST', '/v1/admin/api-keys', {
      key: ADMIN_KEY,
      body: { role: 'shopper', subject: 'x', scopes: ['catalogue:read', 'keys:manage'] },
    });
    expect(expectProblem(tooWide, 400).invalid_params).toEqual([
      { name: 'scopes[1]', reason: 'not allowed for role shopper' },
    ]);
  });
});

describe('bad input: problem+json 4xx, never 5xx, nothing changed', () => {
  it('malformed JSON, wrong types, unknown fields, huge bodies, bad idempotency keys, bad queries', async () => {
    const customer = uniqueName('cust');
    const key = await gw.issueKey({ role: 'shopper', subject: customer });
    const stockBefore = await gw.sys.stock(TEA.code, LOCATIONS.warehouse);
    const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
      gw.call('POST', '/v1/orders', {
        key,
        rawBody: body,
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), ...headers },
      });
    const cases: { what: string; answer: Promise<Answer>; status: number; field?: string }[] = [
      { what: 'malformed JSON', answer: post('{"channel": "CHANNEL_WEB",'), status: 400, field: '(body)' },
      { what: 'JSON that is not an object', answer: post('[1,2]'), status: 400, field: '(body)' },
      {
        what: 'a number where a string goes',
        answer: post(JSON.stringify({ ...webOrder(), lines: [{ skuCode: 12, quantity: '1' }] })),
        status: 400,
        field: 'lines[0].skuCode',
      },
      {
        what: 'a boolean quantity',
        answer: post(JSON.stringify({ ...webOrder(), lines: [{ skuCode: TEA.code, quantity: true }] })),
        status: 400,
        field: 'lines[0].quantity',
      },
      {
        what: 'a quantity beyond 64 bits (valid by the schema, refused by the mapping)',
        answer: post(
          JSON.stringify({ ...webOrder(), lines: [{ skuCode: TEA.code, quantity: '9999999999999999999' }] }),
        ),
        status: 400,
        field: '(body)',
      },
      {
        what: 'an unknown enum value',
        answer: post(JSON.stringify({ ...webOrder(), channel: 'CHANNEL_FAX' })),
        status: 400,
        field: 'channel',
      },
      {
        what: 'an unknown field',
        answer: post(JSON.stringify({ ...webOrder(), coupon: 'FREE' })),
        status: 400,
        field: 'coupon',
      },
      {
        what: 'an unknown nested field',
        answer: post(JSON.stringify({ ...webOrder(), payment: { ...card, cvv: '123' } })),
        status: 400,
        field: 'payment.cvv',
      },
      {
        what: 'snake_case names (the API is lowerCamelCase)',
        answer: post(JSON.stringify({ ...webOrder(), customer_id: customer })),
        status: 400,
        field: 'customer_id',
      },
      {
        what: 'a zero quantity (the service’s own check, its field kept)',
        answer: post(JSON.stringify(webOrder('0'))),
        status: 400,
        field: 'lines[0].quantity',
      },
      { what: 'a huge body', answer: post(Buffer.alloc(200_000, 'a')), status: 413 },
      {
        what: 'not JSON',
        answer: post('channel=web', { 'content-type': 'application/x-www-form-urlencoded' }),
        status: 415,
      },
      {
        what: 'no Idempotency-Key',
        answer: gw.call('POST', '/v1/orders', { key, body: webOrder() }),
        status: 400,
        field: 'Idempotency-Key',
      },
      {
        what: 'an Idempotency-Key with spaces',
        answer: post(JSON.stringify(webOrder()), { 'idempotency-key': 'my key' }),
        status: 400,
        field: 'Idempotency-Key',
      },
      {
        what: 'an Idempotency-Key too long',
        answer: post(JSON.stringify(webOrder()), { 'idempotency-key': 'k'.repeat(129) }),
        status: 400,
        field: 'Idempotency-Key',
      },
      {
        what: 'an unknown query parameter',
        answer: gw.call('GET', '/v1/orders?colour=red', { key }),
        status: 400,
        field: 'colour',
      },
      {
        what: 'a page size out of range',
        answer: gw.call('GET', '/v1/orders?pageSize=5000', { key }),
        status: 400,
        field: 'pageSize',
      },
      {
        what: 'a page size that is text',
        answer: gw.call('GET', '/v1/orders?pageSize=ten', { key }),
        status: 400,
        field: 'pageSize',
      },
      {
        what: 'a bad status filter',
        answer: gw.call('GET', '/v1/orders?statuses=LOST', { key }),
        status: 400,
        field: 'statuses[0]',
      },
      {
        what: 'a bad time',
        answer: gw.call('GET', '/v1/orders?placedAfter=yesterday', { key }),
        status: 400,
        field: 'placedAfter',
      },
      { what: 'a forged page token', answer: gw.call('GET', '/v1/orders?pageToken=garbage', { key }), status: 400 },
      { what: 'an unknown route', answer: gw.call('GET', '/v1/basket', { key }), status: 404 },
      {
        what: 'a body where the operation takes none',
        answer: gw.call('POST', `/v1/locations/${LOCATIONS.warehouse}/fulfilments/f-1/picked`, {
          key: ADMIN_KEY,
          body: { a: 1 },
        }),
        status: 400,
        field: '(body)',
      },
    ];
    for (const c of cases) {
      const answer = await c.answer;
      expect({ what: c.what, status: answer.status }).toEqual({ what: c.what, status: c.status });
      const problem = expectProblem(answer, c.status);
      if (c.field) {
        expect({ what: c.what, fields: (problem.invalid_params as { name: string }[]).map((p) => p.name) }).toEqual({
          what: c.what,
          fields: expect.arrayContaining([c.field]),
        });
      }
    }
    const wrongMethod = await gw.call('PATCH', '/v1/orders', { key, body: {} });
    expectProblem(wrongMethod, 405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');

    // Nothing was placed and nothing held.
    expect((await gw.call<{ orders: unknown[] }>('GET', '/v1/orders', { key })).body.orders).toEqual([]);
    expect(await gw.sys.stock(TEA.code, LOCATIONS.warehouse)).toEqual(stockBefore);
    // And the gateway still serves.
    expect((await place(key, webOrder())).status).toBe(201);
  });
});
