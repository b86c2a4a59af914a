// The bad-input sweep: every RPC of every service (over gRPC, enumerated from the contract's descriptors) and every
// operation of the gateway's OpenAPI document (over REST) gets malformed, mistyped, oversized and otherwise wrong
// input, against the whole system running as its own processes. Every answer must be a client error; afterwards every
// process still serves, and no database document and no topic offset has changed.
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { CatalogueServiceService } from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import { DeliveryServiceService } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { InventoryServiceService } from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { OrdersServiceService } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { PaymentsServiceService } from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { grpcHealth, repoRoot, testInfra, waitFor } from '@o2o/kit-testing';
import type { Admin } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { ADMIN_KEY, type GatewaySystem, restOrder, startGatewaySystem } from '../../gateway/test/gateway-system';
import { LOCATIONS, type ServiceName, type SkuSpec } from '../../orders/test/system';
import { callRaw, casesFor, contractServices, type GrpcOutcome, grpcFailure, rawClient } from './sweep/grpc-sweep';
import { inPool } from './sweep/pool';
import { countBy, examplesBy, renderReport, type Tally, writeReport } from './sweep/report';
import {
  countOperations,
  type OpenApiDocument,
  operationsOf,
  restCases,
  restFailure,
  type RestOutcome,
  send,
} from './sweep/rest-sweep';
import { describeSnapshot, diffSnapshots, kafkaAdmin, type Snapshot, takeSnapshot, waitQuiet } from './sweep/snapshot';

const SERVICES: readonly ServiceName[] = ['catalogue', 'inventory', 'payments', 'orders', 'delivery'];
/** The generated service definitions: a second count of the RPCs, independent of the descriptor set. */
const DEFINITIONS = [
  CatalogueServiceService,
  InventoryServiceService,
  PaymentsServiceService,
  OrdersServiceService,
  DeliveryServiceService,
];
/** The services' grpc.max_receive_message_length (the kit's default). */
const MAX_RECEIVE_BYTES = 4 * 1024 * 1024;
const IN_FLIGHT = 8;
const TEA: SkuSpec = { code: `SWEEP-${randomUUID().slice(0, 8)}`, online: 2500, store: 2300 };

let gw: GatewaySystem;
let mongo: MongoClient;
let admin: Admin;
let before: Snapshot;
/** Real ids by the name the REST paths give them, so lookups hit seeded data. */
const ids: Record<string, string> = {};
const tallies: Tally[] = [];
const notes: string[] = [];
const started = Date.now();

beforeAll(async () => {
  // A rate limit would answer 429 before the body is looked at: lifted for the admin key the sweep uses.
  gw = await startGatewaySystem({ gatewayEnv: { RATE_LIMIT_PER_MINUTE: '10000000' } });
  const { sys } = gw;
  await sys.createLocations();
  const product = await sys.createProduct(`Sweep tea ${TEA.code}`, [TEA]);
  await sys.waitForSkus([TEA.code]);
  await sys.receive(TEA.code, LOCATIONS.warehouse, 5);
  const customer = `sweep-customer-${randomUUID().slice(0, 8)}`;
  const shopper = await gw.issueKey({ role: 'shopper', subject: customer });
  // Retried with the same Idempotency-Key while a loaded machine makes a downstream call time out (504/503): a
  // retry answers the order the first attempt placed, if it did.
  const idempotencyKey = randomUUID();
  const placed = await waitFor(
    async () => {
      const res = await gw.call<{ order: { id: string; groups: { id: string }[] } }>('POST', '/v1/orders', {
        key: shopper,
        body: restOrder([{ skuCode: TEA.code, quantity: 1 }]),
        headers: { 'idempotency-key': idempotencyKey },
      });
      if (res.status >= 500) return undefined;
      if (res.status !== 201) throw new Error(`placing the seed order failed: ${res.status} ${res.text}`);
      return res;
    },
    { what: 'the seed order', timeoutMs: 60_000, intervalMs: 1000 },
  );
  const order = placed.body.order;
  const groupId = order.groups[0]?.id ?? '';
  // Delivery creates the fulfilment from OrderConfirmed; its consumer may still be joining its group.
  const fulfilment = await waitFor(
    async () => {
      const res = await gw.call<{ fulfilment: { id: string } }>(
        'GET',
        `/v1/orders/${order.id}/groups/${groupId}/fulfilment`,
        { key: ADMIN_KEY },
      );
      return res.status === 200 ? res.body.fulfilment : undefined;
    },
    { what: 'the seed order’s fulfilment', timeoutMs: 90_000, intervalMs: 250 },
  ).catch(async (error: unknown) => {
    const now = await gw.call('GET', `/v1/orders/${order.id}`, { key: ADMIN_KEY });
    const tail = (name: ServiceName) => sys.logs(name).slice(-15).join('\n');
    throw new Error(
      `${(error as Error).message}; the order now: ${now.text.slice(0, 400)}\n` +
        `orders' last lines:\n${tail('orders')}\ndelivery's last lines:\n${tail('delivery')}`,
    );
  });
  Object.assign(ids, {
    productId: product.id,
    orderId: order.id,
    groupId,
    fulfilmentId: fulfilment.id,
    locationId: LOCATIONS.warehouse,
  });

  mongo = await new MongoClient(testInfra().mongoUrl).connect();
  admin = await kafkaAdmin(testInfra().kafkaBrokers);
  // The seeding's consequences (holds, payment, fulfilment, outbox relays) play out before the first snapshot.
  await waitQuiet(admin, sys.prefix, { quietMs: 4000, timeoutMs: 60_000 });
  before = await takeSnapshot(mongo, databases(), admin, sys.prefix);
}, 240_000);

afterAll(async () => {
  const markdown = renderReport(tallies, (Date.now() - started) / 1000, notes);
  const file = writeReport(repoRoot(), markdown);
  console.log(`${markdown}\n(written to ${file})`);
  await admin?.disconnect();
  await mongo?.close();
  await gw?.stop();
}, 60_000);

const grpcLabel = (o: GrpcOutcome) => status[o.code] ?? String(o.code);
const restLabel = (o: RestOutcome) => (o.status === 0 ? 'no answer' : String(o.status));

function databases(): Record<string, string> {
  return { ...gw.sys.databases, gateway: gw.database };
}

it('answers every RPC with a client error for malformed, mistyped, empty and oversized input', async () => {
  const services = contractServices();
  const methods = services.flatMap((s) => s.methods);
  // A new RPC is swept without touching this test; a contract and generated code that disagree are caught here.
  expect(methods.length).toBe(DEFINITIONS.reduce((n, d) => n + Object.keys(d).length, 0));
  expect(services.map((s) => s.typeName.split('.')[1]).sort()).toEqual([...SERVICES].sort());

  const clients = Object.fromEntries(SERVICES.map((s) => [s, rawClient(gw.sys.addresses[s])]));
  const cases = methods.flatMap((m) => casesFor(m, MAX_RECEIVE_BYTES));
  let outcomes: GrpcOutcome[];
  try {
    outcomes = await inPool(cases, IN_FLIGHT, (c) => callRaw(clients[c.service.split('.')[1] ?? '']!, c, 15_000));
  } finally {
    for (const client of Object.values(clients)) client.close();
  }
  const failures = outcomes.flatMap((o) => {
    const why = grpcFailure(o);
    return why ? [`${o.case.service}/${o.case.method} [${o.case.name}]: ${why} — "${o.details}"`] : [];
  });
  const streaming = methods.filter((m) => m.methodKind !== 'unary').map((m) => `${m.name} (${m.methodKind})`);
  tallies.push({
    transport: 'gRPC',
    cases: outcomes.length,
    scope: `${methods.length} RPCs of ${services.length} services; streaming: ${streaming.join(', ')}`,
    statuses: countBy(outcomes, grpcLabel),
    examples: examplesBy(outcomes, grpcLabel, (o) => `${o.case.method} [${o.case.name}]`),
    failures,
  });
  expect(failures).toEqual([]);
}, 120_000);

it('answers every REST operation with a 4xx problem for malformed, mistyped, oversized, anonymous input', async () => {
  const res = await fetch(`${gw.url}/openapi.json`);
  expect(res.status).toBe(200);
  const doc = (await res.json()) as OpenApiDocument;
  const ops = operationsOf(doc);
  expect(ops.length).toBe(countOperations(doc));
  const cases = ops.flatMap((op) =>
    restCases(op, { baseUrl: gw.url, key: ADMIN_KEY, ids, schemas: doc.components?.schemas ?? {} }),
  );
  // Every operation gets at least one case (a parameterless GET gets its no-credential case).
  expect(new Set(cases.map((c) => `${c.op.method} ${c.op.path}`)).size).toBe(ops.length);

  const outcomes: RestOutcome[] = await inPool(cases, IN_FLIGHT, (c) => send(c, 15_000));
  const failures = outcomes.flatMap((o) => {
    const why = restFailure(o);
    return why ? [`${o.case.method} ${o.case.op.path} [${o.case.name}]: ${why} — ${o.summary}`] : [];
  });
  tallies.push({
    transport: 'REST',
    cases: outcomes.length,
    scope: `${ops.length} operations of /openapi.json`,
    statuses: countBy(outcomes, restLabel),
    examples: examplesBy(outcomes, restLabel, (o) => `${o.case.method} ${o.case.op.path} [${o.case.name}]`),
    failures,
  });
  expect(failures).toEqual([]);
}, 120_000);

it('leaves every process running and serving', async () => {
  for (const name of SERVICES) {
    expect({ name, running: gw.sys.running(name) }).toEqual({ name, running: true });
    const health = grpcHealth(gw.sys.addresses[name]);
    try {
      expect({ name, health: await health.check(3000) }).toEqual({ name, health: 'SERVING' });
    } finally {
      health.close();
    }
  }
  expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
});

it('changes nothing: no document of any database, no offset of any topic', async () => {
  // Anything the sweep set off (an event, a relay) would show within this wait.
  await waitQuiet(admin, gw.sys.prefix, { quietMs: 3000, timeoutMs: 30_000 });
  const after = await takeSnapshot(mongo, databases(), admin, gw.sys.prefix);
  const changes = diffSnapshots(before, after);
  notes.push(`No-change snapshot: ${describeSnapshot(after)}; ${changes.length} differences.`);
  expect(changes).toEqual([]);
  expect(Object.keys(after.collections).length).toBeGreaterThan(5);
  expect(Object.keys(after.offsets).length).toBeGreaterThan(0);
}, 60_000);
