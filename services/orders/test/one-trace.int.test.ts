import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot, testInfra } from '@o2o/kit-testing';

// jest's module registry bypasses require-in-the-middle, so the trace is recorded in a plain node child process
// that starts telemetry first and then the four compiled services, exactly as their bin.ts files do.
const FIXTURE = path.join(__dirname, 'fixtures/one-trace.js');

interface Span {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  dbName?: string;
  system?: string;
}
interface Result {
  orderId: string;
  status: number;
  spans: Span[];
  consumed: { type: string; subject: string; traceparent?: string }[];
}

beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.build.json'], {
    cwd: repoRoot(),
    stdio: 'inherit',
  });
}, 180_000);

describe('one trace for a placement', () => {
  it('follows PlaceOrder through catalogue, inventory, payments, the databases and the Kafka hop', () => {
    const infra = testInfra();
    const suffix = String(Date.now() % 1_000_000);
    const child = spawnSync(process.execPath, [FIXTURE, infra.mongoUrl, infra.kafkaBrokers.join(','), suffix], {
      encoding: 'utf8',
      timeout: 90_000,
      cwd: path.join(__dirname, '..'),
    });
    if (child.status !== 0) throw new Error(`fixture failed (${child.status ?? child.signal}): ${child.stderr}`);
    // Service logs go to stdout as JSON lines too; the result is the last line.
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as Result;
    expect(result.status).toBe(3); // CONFIRMED

    const place = result.spans.find((s) => s.name === 'grpc.o2o.orders.v1.OrdersService/PlaceOrder' && s.kind === 1);
    expect(place).toBeDefined();
    const traceId = place!.traceId;
    const inTrace = result.spans.filter((s) => s.traceId === traceId);
    const serverSpans = inTrace.filter((s) => s.kind === 1).map((s) => s.name);
    // The saga's calls, each served in the same trace.
    expect(serverSpans).toEqual(
      expect.arrayContaining([
        'grpc.o2o.catalogue.v1.CatalogueService/BatchGetSkus',
        'grpc.o2o.inventory.v1.InventoryService/PlanFulfilment',
        'grpc.o2o.inventory.v1.InventoryService/Reserve',
        'grpc.o2o.payments.v1.PaymentsService/AuthorizePayment',
        'grpc.o2o.inventory.v1.InventoryService/ExtendHold',
      ]),
    );
    // Database writes of every service, in the same trace.
    const writes = inTrace.filter((s) => s.system === 'mongodb' && /^(insert|update|findAndModify)/.test(s.name));
    const databases = new Set(writes.map((s) => s.dbName?.replace(/^trace_([a-z]+)_.*$/, '$1')));
    expect([...databases].sort()).toEqual(['inventory', 'orders', 'payments']);
    // The outbox publishes the order's events as PRODUCER spans of this trace...
    const publishes = inTrace.filter((s) => s.name.endsWith('o2o.orders.v1 publish'));
    expect(publishes.length).toBeGreaterThanOrEqual(2);
    // ...and the consumers that react (a downstream consumer of the order's events, and orders' own consumer of
    // payments' events) continue it across the Kafka hop.
    const consumed = result.consumed.filter((c) => c.subject === result.orderId).map((c) => c.type);
    expect(consumed).toEqual(expect.arrayContaining(['o2o.orders.v1.OrderPlaced', 'o2o.orders.v1.OrderConfirmed']));
    for (const c of result.consumed) expect(c.traceparent?.split('-')[1]).toBe(traceId);
    const processSpans = inTrace.filter((s) => s.kind === 4 && s.name.startsWith('process '));
    expect(processSpans.map((s) => s.name)).toEqual(
      expect.arrayContaining([expect.stringMatching(/o2o\.orders\.v1$/), expect.stringMatching(/o2o\.payments\.v1$/)]),
    );
    // A consumer's span is the child of the publish span that sent its event.
    const publishIds = new Set(inTrace.filter((s) => s.kind === 3).map((s) => s.spanId));
    expect(processSpans.every((s) => s.parentSpanId !== undefined && publishIds.has(s.parentSpanId))).toBe(true);
  }, 120_000);
});
