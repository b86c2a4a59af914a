import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { encodeBadRequestStatus } from '@o2o/kit-grpc';
import { createRateLimiter } from '../auth/rate-limit';
import { effectiveScopes } from '../auth/scopes';
import { parseApiKey } from '../auth/api-keys';
import { jsonFieldPath, problemFromGrpc } from './grpc-errors';
import type { Route } from './route';
import { createRouter } from './router';
import { checkQueryEncoding, parseJson } from './server';
import { invalidParams } from './validation';

const route = (method: Route['method'], path: string): Route => ({
  method,
  path,
  operationId: `${method} ${path}`,
  summary: '',
  tag: 't',
  roles: ['admin'],
  scopes: [],
  success: { status: 200, description: '' },
  handle: async () => undefined,
});

describe('router', () => {
  const match = createRouter([
    route('GET', '/v1/products/{productId}'),
    route('GET', '/v1/products/search'),
    route('POST', '/v1/orders'),
    route('GET', '/v1/orders'),
    route('GET', '/v1/orders/{orderId}/groups/{groupId}/tracking'),
  ]);

  it('prefers literal segments over parameters and decodes parameters', () => {
    expect(match('GET', '/v1/products/search')).toMatchObject({ route: { path: '/v1/products/search' } });
    expect(match('GET', '/v1/products/p%2F1')).toMatchObject({ params: { productId: 'p/1' } });
    expect(match('GET', '/v1/orders/o-1/groups/g-2/tracking')).toMatchObject({
      params: { orderId: 'o-1', groupId: 'g-2' },
    });
  });

  it('answers the allowed methods for a known path, nothing for an unknown one', () => {
    expect(match('DELETE', '/v1/orders')).toEqual({ allowed: ['POST', 'GET'] });
    expect(match('GET', '/v1/basket')).toBeUndefined();
    expect(match('GET', '/v1/products/')).toBeUndefined();
    expect(match('GET', '/v1/products/%E0%A4%A')).toBeUndefined();
  });

  it('refuses two routes for the same method and shape', () => {
    expect(() => createRouter([route('GET', '/v1/a/{x}'), route('GET', '/v1/a/{y}')])).toThrow(/two routes/);
  });
});

describe('rate limiter', () => {
  it('allows a burst, then refills at the per-minute rate, one bucket per credential', () => {
    let now = 0;
    const limiter = createRateLimiter({ now: () => now });
    const burst = Array.from({ length: 12 }, () => limiter.take('k1', 60));
    expect(burst.filter((d) => d.allowed)).toHaveLength(10);
    expect(burst[11]).toMatchObject({ allowed: false, retryAfterSeconds: 1, remaining: 0 });
    expect(limiter.take('k2', 60).allowed).toBe(true);
    now += 1_000; // one token a second at 60/min
    expect(limiter.take('k1', 60).allowed).toBe(true);
    expect(limiter.take('k1', 60).allowed).toBe(false);
  });

  it('bounds its memory', () => {
    const limiter = createRateLimiter({ now: () => 0, maxKeys: 3 });
    for (const k of ['a', 'b', 'c', 'd']) limiter.take(k, 60);
    expect(limiter.size()).toBe(3);
  });
});

describe('gRPC errors as problems', () => {
  const error = (code: status, details: string, metadata = new Metadata()): ServiceError =>
    Object.assign(new Error(details), { code, details, metadata });

  it('keeps field violations with the REST names, and the status mapping', () => {
    const metadata = new Metadata();
    metadata.set(
      'grpc-status-details-bin',
      encodeBadRequestStatus(status.INVALID_ARGUMENT, 'bad', [
        { field: 'lines[0].sku_code', description: 'is required' },
        { field: 'page.page_size', description: 'must be 1..200' },
      ]),
    );
    const problem = problemFromGrpc(error(status.INVALID_ARGUMENT, 'bad', metadata), (f) =>
      f.startsWith('page.pageSize') ? 'pageSize' : f,
    );
    expect(problem.status).toBe(400);
    expect(problem.invalidParams).toEqual([
      { name: 'lines[0].skuCode', reason: 'is required' },
      { name: 'pageSize', reason: 'must be 1..200' },
    ]);
    expect(problemFromGrpc(error(status.NOT_FOUND, 'no order')).status).toBe(404);
    expect(problemFromGrpc(error(status.FAILED_PRECONDITION, 'shipped')).status).toBe(409);
    expect(problemFromGrpc(error(status.UNAVAILABLE, 'down')).headers).toEqual({ 'retry-after': '1' });
    const internal = problemFromGrpc(error(status.INTERNAL, 'mongo said E11000 at ...'));
    expect(internal.status).toBe(502);
    expect(internal.message).not.toMatch(/mongo/);
  });

  it('camelCases proto field paths', () => {
    expect(jsonFieldPath('fulfilment.delivery.recipient_phone')).toBe('fulfilment.delivery.recipientPhone');
  });
});

describe('schema errors as fields', () => {
  it('names nested, array, unknown and missing fields', () => {
    expect(
      invalidParams([
        {
          instancePath: '/lines/0/quantity',
          keyword: 'type',
          params: { type: ['string', 'integer'] },
          message: 'x',
          schemaPath: '',
        },
        {
          instancePath: '/payment',
          keyword: 'additionalProperties',
          params: { additionalProperty: 'cvv' },
          message: 'x',
          schemaPath: '',
        },
        { instancePath: '', keyword: 'required', params: { missingProperty: 'role' }, message: 'x', schemaPath: '' },
        {
          instancePath: '/channel',
          keyword: 'enum',
          params: { allowedValues: ['A', 'B'] },
          message: 'x',
          schemaPath: '',
        },
      ]),
    ).toEqual([
      { name: 'lines[0].quantity', reason: 'must be string or integer' },
      { name: 'payment.cvv', reason: 'unknown field' },
      { name: 'role', reason: 'is required' },
      { name: 'channel', reason: 'must be one of A, B' },
    ]);
  });
});

describe('credentials', () => {
  it('parses only well-formed API keys', () => {
    expect(parseApiKey('o2o_abcdefgh_0123456789abcdefXYZ')).toEqual({ id: 'abcdefgh', secret: '0123456789abcdefXYZ' });
    for (const bad of ['', 'o2o_short_0123456789abcdef', 'xyz_abcdefgh_0123456789abcdef', 'o2o_abcdefgh_short']) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
  });

  it("narrows a role's scopes, never widens them", () => {
    expect(effectiveScopes('shopper', ['orders:read', 'keys:manage'])).toEqual(['orders:read']);
    expect(effectiveScopes('shopper', [])).toContain('orders:write');
    expect(effectiveScopes('shopper', undefined)).not.toContain('keys:manage');
    expect(effectiveScopes('admin', undefined)).toContain('keys:manage');
  });
});

describe('request bodies', () => {
  const problemOf = (raw: Buffer) => {
    try {
      parseJson(raw);
    } catch (error) {
      return error as { status: number; message: string; invalidParams: unknown[] };
    }
    throw new Error('parsed');
  };

  it('parses UTF-8 JSON, non-ASCII text included', () => {
    expect(parseJson(Buffer.from('{"reason":"茶 🍵"}'))).toEqual({ reason: '茶 🍵' });
  });

  it('refuses bytes that are not UTF-8 with a 400, instead of reading them as U+FFFD', () => {
    const raw = Buffer.concat([Buffer.from('{"reason":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(problemOf(raw)).toMatchObject({
      status: 400,
      message: 'the body is not valid UTF-8',
      invalidParams: [{ name: '(body)', reason: 'must be UTF-8 encoded' }],
    });
  });

  it('refuses malformed JSON with a 400', () => {
    expect(problemOf(Buffer.from('{"a": '))).toMatchObject({ status: 400, message: 'the body is not valid JSON' });
  });
});

describe('query strings', () => {
  it('takes percent-encoded UTF-8, plain text and malformed escapes (read literally, as before)', () => {
    for (const ok of ['', '?query=%E8%8C%B6%20tea', '?q=a+b&pageSize=10', '?q=50%off', '?q=%EF%BF%BD']) {
      expect(() => checkQueryEncoding(ok)).not.toThrow();
    }
  });

  it('refuses escapes that are not UTF-8 with a 400 naming the parameter', () => {
    let problem: unknown;
    try {
      checkQueryEncoding('?pageSize=10&query=%C3%28');
    } catch (error) {
      problem = error;
    }
    expect(problem).toMatchObject({
      status: 400,
      message: 'the query string is not valid',
      invalidParams: [{ name: 'query', reason: 'is not percent-encoded UTF-8' }],
    });
    expect(() => checkQueryEncoding('?q=%FF')).toThrow('the query string is not valid');
    expect(() => checkQueryEncoding('?q=%E8%8C')).toThrow('the query string is not valid');
  });
});
