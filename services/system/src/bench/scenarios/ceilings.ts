// Ceilings, measured in the same run as the scenarios: what the infrastructure alone gives at the same concurrency.
// A raw Kafka produce (kafkajs, acks=all, one message of an event's size per send), a raw single-document update
// (mongodb driver updateOne({_id}, {$inc})), and a bare gRPC round trip (grpc.health.v1 Check on the orders
// service: nothing behind it) with the Node client and, when installed, with ghz.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Client, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { OrderConfirmed } from '@o2o/contracts/gen/o2o/orders/v1/events';
import { Order } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { homeDeliveryOrder } from '@o2o/kit-bench';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { type LoadStats, log, runLoad } from '../progress';
import { latencyCells, type ScenarioResult, table } from '../report';
import { settings } from '../settings';
import type { System } from '../system';
import { runTool, toolNotes, toolPath, toolVersion } from '../tools';

/** An encoded OrderConfirmed of a three-line home-delivery order: the size of a typical event on the wire. */
function sampleEvent(): Buffer {
  const request = homeDeliveryOrder({
    requestId: 'bench',
    customerId: 'bench-customer-0001',
    lines: [
      { skuCode: 'BENCH-SYS-001', quantity: 1 },
      { skuCode: 'BENCH-SYS-002', quantity: 2 },
      { skuCode: 'BENCH-SYS-003', quantity: 1 },
    ],
  });
  const order = Order.fromPartial({
    id: 'ord_0123456789abcdefghij',
    channel: request.channel,
    customerId: request.customerId,
    fulfilment: request.fulfilment,
    lines: request.lines.map((l, i) => ({
      skuCode: l.skuCode,
      quantity: l.quantity,
      unitPrice: { currencyCode: 'CNY', amountMinor: String(1000 + i) },
      lineTotal: { currencyCode: 'CNY', amountMinor: String(1000 + i) },
      productId: 'prd_0123456789abcdefghij',
      productName: 'Bench oolong 250 g',
    })),
    groups: [
      {
        id: 'g1',
        type: request.fulfilment?.type ?? 0,
        locationId: 'bench-sys-wh',
        items: request.lines.map((l) => ({ skuCode: l.skuCode, quantity: l.quantity })),
        holdId: 'hold_0123456789abcdefghij',
        sameDay: true,
        distanceM: '2300',
        amount: { currencyCode: 'CNY', amountMinor: '3003' },
      },
    ],
    total: { currencyCode: 'CNY', amountMinor: '3003' },
    payment: {
      method: 1,
      paymentId: 'pay_0123456789abcdefghij',
      authorized: { currencyCode: 'CNY', amountMinor: '3003' },
      cardLast4: '4242',
    },
  });
  return Buffer.from(OrderConfirmed.encode({ order }).finish());
}

async function kafkaCeiling(sys: System): Promise<{ stats: LoadStats; bytes: number }> {
  const topic = `${sys.topicPrefix}bench.ceiling`;
  const kafka = new Kafka({
    clientId: `bench-system-${sys.run}`,
    brokers: settings.kafkaBrokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const value = settings.ceilings.messageBytes > 0 ? Buffer.alloc(settings.ceilings.messageBytes, 7) : sampleEvent();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // Warm-up: metadata, connections to the leaders.
    for (let i = 0; i < 20; i++) await producer.send({ topic, acks: -1, messages: [{ key: `k${i}`, value }] });
    const stats = await runLoad(
      'ceiling: Kafka produce (acks=all)',
      {
        total: settings.ceilings.maxOps,
        concurrency: settings.ceilings.concurrency,
        maxSeconds: settings.ceilings.seconds,
      },
      async (i) => {
        await producer.send({
          topic,
          acks: -1,
          compression: CompressionTypes.None,
          messages: [{ key: `order-${i % 997}`, value }],
        });
        return { ok: true };
      },
    );
    return { stats, bytes: value.length };
  } finally {
    await producer.disconnect();
  }
}

async function databaseCeiling(sys: System): Promise<LoadStats> {
  const db = sys.mongo.db(`bench_sys_cei_${sys.run}`);
  const collection = db.collection<{ _id: number; n: number }>('counters');
  const documents = 1000;
  try {
    await collection.insertMany(Array.from({ length: documents }, (_, i) => ({ _id: i, n: 0 })));
    return await runLoad(
      'ceiling: database updateOne({_id}, {$inc})',
      {
        total: settings.ceilings.maxOps,
        concurrency: settings.ceilings.concurrency,
        maxSeconds: settings.ceilings.seconds,
      },
      async (i) => {
        const r = await collection.updateOne({ _id: (i * 7919) % documents }, { $inc: { n: 1 } });
        return r.modifiedCount === 1 ? { ok: true } : { ok: false, outcome: 'not modified' };
      },
    );
  } finally {
    await db.dropDatabase().catch(() => undefined);
  }
}

const HealthClient = makeGenericClientConstructor(
  {
    check: {
      path: '/grpc.health.v1.Health/Check',
      requestStream: false,
      responseStream: false,
      // An empty HealthCheckRequest (service ""): the server's overall status.
      requestSerialize: () => Buffer.alloc(0),
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  },
  'Health',
);

async function grpcCeiling(sys: System): Promise<LoadStats> {
  const client = new HealthClient(
    `127.0.0.1:${sys.ports.orders}`,
    credentials.createInsecure(),
  ) as unknown as Client & {
    check(
      request: Buffer,
      options: { deadline: number },
      callback: (error: Error | null, response?: Buffer) => void,
    ): void;
  };
  const check = () =>
    new Promise<Buffer>((resolve, reject) =>
      client.check(Buffer.alloc(0), { deadline: Date.now() + 10_000 }, (error, response) =>
        error ? reject(error) : resolve(response ?? Buffer.alloc(0)),
      ),
    );
  try {
    for (let i = 0; i < 50; i++) await check();
    return await runLoad(
      'ceiling: gRPC health Check (Node client)',
      {
        total: settings.ceilings.maxOps,
        concurrency: settings.ceilings.concurrency,
        maxSeconds: settings.ceilings.seconds,
      },
      async () => {
        const response = await check();
        // HealthCheckResponse { status: SERVING (1) } is the two bytes 08 01.
        return response.equals(Buffer.from([8, 1]))
          ? { ok: true }
          : { ok: false, outcome: `status bytes ${response.toString('hex')}` };
      },
    );
  } finally {
    client.close();
  }
}

const HEALTH_PROTO = `syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health { rpc Check(HealthCheckRequest) returns (HealthCheckResponse); }
`;

interface GhzRow {
  count: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  errors: number;
  errorKinds: Record<string, number>;
  statuses: Record<string, number>;
  version: string;
}

/** The same health Check with ghz (one connection, the same concurrency and duration), when installed. */
async function ghzCeiling(sys: System): Promise<GhzRow | undefined> {
  const ghz = toolPath('ghz');
  if (!ghz) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'o2o-bench-ghz-'));
  try {
    writeFileSync(path.join(dir, 'health.proto'), HEALTH_PROTO);
    const version = await toolVersion(ghz).catch(() => 'ghz');
    toolNotes.push(`${version} for the bare gRPC ceiling (beside the Node client)`);
    log(`ceiling: gRPC health Check with ghz (${version}) for ${settings.ceilings.seconds} s`);
    const result = await runTool(
      ghz,
      [
        '--insecure',
        '--proto',
        path.join(dir, 'health.proto'),
        '--call',
        'grpc.health.v1.Health.Check',
        '-c',
        String(settings.ceilings.concurrency),
        '-z',
        `${settings.ceilings.seconds}s`,
        '--format',
        'json',
        '-d',
        '{}',
        `127.0.0.1:${sys.ports.orders}`,
      ],
      { timeoutMs: (settings.ceilings.seconds + 60) * 1000, quiet: true },
    );
    if (result.code !== 0) throw new Error(`ghz exited with ${result.code}: ${result.stderr.slice(-1000)}`);
    const report = JSON.parse(result.stdout) as {
      count: number;
      rps: number;
      slowest: number;
      latencyDistribution: { percentage: number; latency: number }[] | null;
      statusCodeDistribution: Record<string, number>;
      errorDistribution?: Record<string, number>;
    };
    const at = (p: number) => (report.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6;
    const errors = Object.values(report.errorDistribution ?? {}).reduce((a, b) => a + b, 0);
    log(
      `ceiling: ghz ${report.count} calls, ${report.rps.toFixed(0)}/s, p50 ${at(50).toFixed(2)} ms, errors ${errors}`,
    );
    return {
      count: report.count,
      rps: report.rps,
      p50: at(50),
      p95: at(95),
      p99: at(99),
      max: report.slowest / 1e6,
      errors,
      errorKinds: report.errorDistribution ?? {},
      statuses: report.statusCodeDistribution,
      version,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The three ceilings, one after the other. */
export async function ceilings(sys: System): Promise<ScenarioResult> {
  const kafka = await kafkaCeiling(sys);
  const database = await databaseCeiling(sys);
  const grpc = await grpcCeiling(sys);
  let ghz: GhzRow | undefined;
  try {
    ghz = await ghzCeiling(sys);
  } catch (error) {
    const note = `ghz failed (${error instanceof Error ? error.message.slice(0, 200) : String(error)}): the gRPC ceiling is the Node client's only`;
    toolNotes.push(note);
    log(note);
  }
  const row = (s: LoadStats, what: string) => [
    what,
    s.concurrency,
    (s.ok / s.seconds).toFixed(0),
    ...latencyCells(s.samples.map((x) => x.ms)),
    s.calls,
    s.errors + s.calls - s.ok,
  ];
  const rows = [
    row(kafka.stats, `Kafka produce, kafkajs, acks=all, ${kafka.bytes} B messages, 6 partitions`),
    row(database, 'database updateOne({_id}, {$inc}) over 1000 documents of one collection'),
    row(grpc, 'gRPC health Check on orders, @grpc/grpc-js client, one channel'),
  ];
  if (ghz)
    rows.push([
      `gRPC health Check on orders, ghz (${ghz.version}), one connection`,
      settings.ceilings.concurrency,
      ghz.rps.toFixed(0),
      ghz.p50.toFixed(1),
      ghz.p95.toFixed(1),
      ghz.p99.toFixed(1),
      ghz.max.toFixed(1),
      ghz.count,
      ghz.errors,
    ]);
  const markdown = table(['ceiling', 'c', 'ops/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'calls', 'errors'], rows);
  const failures = [kafka.stats, database, grpc].filter((s) => s.ok === 0).map((s) => `${s.name}: no call succeeded`);
  return {
    title: 'Ceilings: Kafka, the database, a bare gRPC call',
    markdown,
    failures,
    json: {
      kafka: { ...summary(kafka.stats), messageBytes: kafka.bytes },
      database: summary(database),
      grpc: summary(grpc),
      ghz,
    },
  };
}

/** A load's figures without its samples (for the JSON line). */
export function summary(s: LoadStats): Omit<LoadStats, 'samples'> & { perSecond: number } {
  const { samples: _samples, ...rest } = s;
  return { ...rest, perSecond: s.ok / s.seconds };
}
