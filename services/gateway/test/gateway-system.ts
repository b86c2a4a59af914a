// The gateway in front of the whole backend: the five services as their own processes (services/orders/test/system.ts)
// plus the gateway's own process (services/gateway/dist/bin.js), all on loopback, against the run's real Kafka and
// database. Clients are real HTTP (fetch) and, for couriers, real gRPC.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { SignJWT } from 'jose';
import { freePort, repoRoot, testInfra, uniqueName, waitFor } from '@o2o/kit-testing';
import { PlaceOrderRequest } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { homeDeliveryOrder } from '@o2o/kit-bench';
import { type SkuSpec, startSystem, type StartOptions, type System } from '../../orders/test/system';

export const ADMIN_KEY = 'o2o_testadmin_admin-key-for-gateway-tests-only';
export const JWT_SECRET = 'gateway-test-hs256-secret-at-least-32-bytes-long';
export const JWT_ISSUER = 'o2o-test-idp';
export const JWT_AUDIENCE = 'o2o-gateway';

/** An HTTP answer: status, headers and the parsed JSON body (or the raw text when it is not JSON). */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface GatewaySystem {
  sys: System;
  url: string;
  database: string;
  /** Calls the gateway with a credential (`key` = X-API-Key, `token` = bearer). */
  call<T = Record<string, unknown>>(
    method: string,
    route: string,
    options?: {
      key?: string;
      token?: string;
      body?: unknown;
      rawBody?: string | Buffer;
      headers?: Record<string, string>;
    },
  ): Promise<Answer<T>>;
  /** Issues an API key through the admin API. */
  issueKey(input: {
    role: string;
    subject: string;
    storeIds?: string[];
    scopes?: string[];
    rateLimitPerMinute?: number;
  }): Promise<string>;
  /** A JWT signed with the test issuer's secret. */
  token(claims: {
    sub: string;
    role: string;
    stores?: string[];
    scope?: string;
    expiresIn?: string;
    audience?: string;
  }): Promise<string>;
  logs(): string[];
  /** SIGTERM to the gateway's process: resolves with its exit code once it is gone. */
  terminate(): Promise<number | null>;
  /** SIGKILL to the gateway's process: it dies at once, mid-work; resolves once it is gone. */
  kill9(): Promise<void>;
  /** Starts the gateway's process again (same environment and port) and waits until it is ready. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startGatewaySystem(
  options: StartOptions & { gatewayEnv?: Record<string, string> } = {},
): Promise<GatewaySystem> {
  const sys = await startSystem({ only: ['catalogue', 'inventory', 'payments', 'orders', 'delivery'], ...options });
  const infra = testInfra();
  const port = await freePort();
  const database = uniqueName('e2e_gw');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    MONGO_URL: infra.mongoUrl,
    MONGO_DB: database,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: sys.prefix,
    // One group per run: a group shared with earlier runs would wait for their dead members at every rebalance.
    WEBHOOK_GROUP_ID: uniqueName('e2e-gateway-webhooks'),
    LOG_LEVEL: 'info',
    CATALOGUE_ADDRESS: sys.addresses.catalogue,
    INVENTORY_ADDRESS: sys.addresses.inventory,
    ORDERS_ADDRESS: sys.addresses.orders,
    PAYMENTS_ADDRESS: sys.addresses.payments,
    DELIVERY_ADDRESS: sys.addresses.delivery,
    BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
    JWT_ISSUER,
    JWT_AUDIENCE,
    JWT_HS256_SECRET: JWT_SECRET,
    SSE_HEARTBEAT_MS: '1000',
    SHUTDOWN_DRAIN_DELAY_MS: '0',
    SHUTDOWN_GRACE_MS: '3000',
    ...options.gatewayEnv,
  };
  const tail: string[] = [];
  const keep = (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line) tail.push(line);
    if (tail.length > 400) tail.splice(0, tail.length - 400);
  };
  const url = `http://127.0.0.1:${port}`;
  // The gateway's process; start() spawns it again with the same environment and port (after kill9 or terminate).
  let child!: ChildProcess;
  let exited!: Promise<number | null>;
  const spawnGateway = async () => {
    child = spawn(process.execPath, [path.join(repoRoot(), 'services', 'gateway', 'dist', 'bin.js')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const running = child;
    running.stdout?.on('data', keep);
    running.stderr?.on('data', keep);
    exited = new Promise<number | null>((resolve) => running.on('exit', (code) => resolve(code)));
    await waitFor(
      async () => {
        if (running.exitCode !== null) throw new Error(`gateway exited:\n${tail.slice(-30).join('\n')}`);
        const res = await fetch(`${url}/readyz`).catch(() => undefined);
        return res?.status === 200;
      },
      { what: `gateway ready at ${url}`, timeoutMs: 60_000, intervalMs: 200 },
    );
  };
  const alive = () => child.exitCode === null && child.signalCode === null;
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    await spawnGateway();
  } catch (error) {
    child.kill('SIGKILL');
    await sys.stop();
    throw error;
  }

  const call: GatewaySystem['call'] = async (method, route, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.key) headers['x-api-key'] = o.key;
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | Buffer | undefined;
    if (o.rawBody !== undefined) body = o.rawBody;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${url}${route}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the text is the body
    }
    return { status: res.status, headers: res.headers, body: parsed as never, text };
  };

  return {
    sys,
    url,
    database,
    call,
    async issueKey(input) {
      const res = await call<{ key: string }>('POST', '/v1/admin/api-keys', { key: ADMIN_KEY, body: input });
      if (res.status !== 201) throw new Error(`issuing a key failed: ${res.status} ${res.text}`);
      return res.body.key;
    },
    token: (claims) =>
      new SignJWT({
        o2o_role: claims.role,
        o2o_stores: claims.stores ?? [],
        ...(claims.scope ? { scope: claims.scope } : {}),
      })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(claims.sub)
        .setIssuer(JWT_ISSUER)
        .setAudience(claims.audience ?? JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(claims.expiresIn ?? '10m')
        .sign(new TextEncoder().encode(JWT_SECRET)),
    logs: () => [...tail],
    terminate() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      if (!alive()) return;
      child.kill('SIGKILL');
      await exited;
    },
    async start() {
      if (alive()) throw new Error('the gateway is already running');
      await spawnGateway();
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (alive()) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await sys.stop();
    },
  };
}

/** The warehouse and stores of the test network, one product with this SKU, and `quantity` of it at `locationId`. */
export async function seedStock(
  gw: GatewaySystem,
  sku: SkuSpec,
  options: { name: string; locationId: string; quantity: number },
): Promise<void> {
  await gw.sys.createLocations();
  await gw.sys.createProduct(options.name, [sku]);
  await gw.sys.waitForSkus([sku.code]);
  await gw.sys.receive(sku.code, options.locationId, options.quantity);
}

/**
 * A PlaceOrder body as a REST client sends it: the orders service's sample home-delivery order (web, card) in the
 * proto3 JSON mapping, without the request id (the Idempotency-Key header carries it).
 */
export function restOrder(
  lines: { skuCode: string; quantity: number }[],
  overrides: Partial<PlaceOrderRequest> = {},
): Record<string, unknown> {
  const json = PlaceOrderRequest.toJSON(homeDeliveryOrder({ requestId: '', customerId: '', lines }, overrides));
  return json as Record<string, unknown>;
}
