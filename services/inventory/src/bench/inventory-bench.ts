// Inventory benchmark: Reserve (holds/s, p50, p99) over gRPC against the real service process, FerretDB or MongoDB
// and Kafka, at two concurrencies, on one hot SKU and spread over many SKUs; beside it, the database's raw
// single-document update rate measured in the same run (the ceiling a hold, which is several such writes, can
// approach). Bounded by count, loopback only. Run: scripts/bench-inventory.sh (see docs/benchmarks.md).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import {
  AdjustmentReason,
  InventoryServiceClient,
  InventoryServiceService,
  LocationKind,
  LocationStatus,
} from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { type LoadResult, machineLine, resultTable, runLoad, startServiceProcess } from '@o2o/kit-bench';
import { asyncClient } from '@o2o/kit-grpc';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { catalogueAnnouncement } from './catalogue-announcements';

const env = process.env;
const CONCURRENCIES = (env.BENCH_CONCURRENCIES ?? '16,64').split(',').map(Number);
const HOLDS = Number(env.BENCH_HOLDS ?? 1500);
const MANY_SKUS = Number(env.BENCH_SKUS ?? 500);
const RAW_OPS = Number(env.BENCH_RAW_OPS ?? 2000);
const MONGO_URL = env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const KAFKA_BROKERS = env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const OUT = env.BENCH_OUT;
const STORE = 'bench-store';

async function announceSkus(prefix: string, codes: string[]): Promise<void> {
  const kafka = new Kafka({
    clientId: 'inventory-bench',
    brokers: KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();
  await producer.connect();
  const topic = `${prefix}o2o.catalogue.v1`;
  for (let i = 0; i < codes.length; i += 100) {
    const message = catalogueAnnouncement(`prd_bench_${i}`, codes.slice(i, i + 100));
    await producer.send({ topic, acks: -1, messages: [message] });
  }
  await producer.disconnect();
}

async function rawUpdates(run: string, concurrency: number): Promise<LoadResult[]> {
  const client = await MongoClient.connect(MONGO_URL, { maxPoolSize: concurrency + 2 });
  const db = client.db(`bench_raw_inv_${run}_${concurrency}`);
  const col = db.collection<{ _id: string; free: number; held: number; version: number }>('stock');
  await col.insertMany(
    Array.from({ length: MANY_SKUS }, (_, i) => ({ _id: `s${i}@${STORE}`, free: 1e9, held: 0, version: 0 })),
  );
  const results = [
    await runLoad(`raw updateOne {_id} $inc, one document, c=${concurrency}`, RAW_OPS, concurrency, () =>
      col.updateOne({ _id: `s0@${STORE}` }, { $inc: { free: -1, held: 1, version: 1 } }),
    ),
    await runLoad(
      `raw conditional updateOne {_id, free ≥ 1}, ${MANY_SKUS} documents, c=${concurrency}`,
      RAW_OPS,
      concurrency,
      (i) =>
        col.updateOne(
          { _id: `s${i % MANY_SKUS}@${STORE}`, free: { $gte: 1 } },
          { $inc: { free: -1, held: 1, version: 1 } },
        ),
    ),
  ];
  await db.dropDatabase();
  await client.close();
  return results;
}

async function main(): Promise<void> {
  const run = Date.now().toString(36);
  const dbName = `bench_inventory_${run}`;
  const prefix = `bench-${run}.`;
  const service = await startServiceProcess(path.join(__dirname, '..', 'bin.js'), {
    ...env,
    GRPC_PORT: '0',
    MONGO_URL,
    MONGO_DB: dbName,
    KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_GROUP_ID: `bench-${run}`,
    LOG_LEVEL: 'info',
  });
  const raw = new InventoryServiceClient(`127.0.0.1:${service.port}`, credentials.createInsecure());
  const client = asyncClient(raw, InventoryServiceService);
  const mongo = await MongoClient.connect(MONGO_URL);
  const db = mongo.db(dbName);

  const hot = 'HOT-1';
  const many = Array.from({ length: MANY_SKUS }, (_, i) => `MANY-${i}`);
  process.stderr.write(
    `[bench] inventory on 127.0.0.1:${service.port}; ${HOLDS} holds per scenario; ${MANY_SKUS} SKUs\n`,
  );
  await client.createLocation({
    locationId: STORE,
    location: {
      name: 'Bench store',
      kind: LocationKind.LOCATION_KIND_STORE,
      point: { latitude: 31.23, longitude: 121.47 },
      address: undefined,
      timeZone: 'Asia/Shanghai',
      openingHours: [],
      capabilities: { shipsParcels: true, storePickup: true, sameDayRadiusM: 5000, acceptsReturns: true },
      status: LocationStatus.LOCATION_STATUS_OPEN,
    },
  });
  await announceSkus(prefix, [hot, ...many]);
  for (let waited = 0; (await db.collection('skus').countDocuments({})) < MANY_SKUS + 1; waited++) {
    if (waited > 600) throw new Error('inventory did not learn the SKUs from the catalogue topic');
    await new Promise((r) => setTimeout(r, 100));
  }
  await runLoad('setup: AdjustStock receipts', MANY_SKUS + 1, 8, (i) =>
    client.adjustStock({
      requestId: `recv-${i}`,
      skuCode: i === 0 ? hot : many[i - 1]!,
      locationId: STORE,
      reason: AdjustmentReason.ADJUSTMENT_REASON_RECEIPT,
      quantity: '1000000',
      note: '',
    }),
  );

  const results: LoadResult[] = [];
  for (const concurrency of CONCURRENCIES) {
    results.push(...(await rawUpdates(run, concurrency)));
    for (const [label, skuOf] of [
      ['one hot SKU', () => hot],
      [`${MANY_SKUS} SKUs`, (i: number) => many[i % MANY_SKUS]!],
    ] as const) {
      const ids: string[] = [];
      results.push(
        await runLoad(`gRPC Reserve (1 line), ${label}, c=${concurrency}`, HOLDS, concurrency, async (i) => {
          const holdId = `h-${run}-${concurrency}-${label.length}-${i}`;
          await client.reserve({
            holdId,
            ownerId: `order-${i}`,
            lines: [{ skuCode: skuOf(i), locationId: STORE, quantity: '1' }],
            expireTime: undefined,
          });
          ids.push(holdId);
        }),
      );
      results.push(
        await runLoad(`gRPC ReleaseHold, ${label}, c=${concurrency}`, ids.length, concurrency, (i) =>
          client.releaseHold({ holdId: ids[i]!, reason: 'bench' }),
        ),
      );
      // Let the sweeper archive the released holds, so every scenario starts with the same working set.
      for (let waited = 0; (await db.collection('holds').countDocuments({})) > 0 && waited < 600; waited++) {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  const held = await db
    .collection('stock')
    .find({ held: { $ne: 0 } })
    .toArray();
  raw.close();
  await service.stop();
  await db.dropDatabase();
  await mongo.close();
  if (held.length > 0) throw new Error(`${held.length} stock records still hold units after every hold was released`);

  const report = `### Inventory, ${new Date().toISOString().slice(0, 10)}

${machineLine()}
Settings: ${HOLDS} holds per scenario, each a new hold of 1 unit on one line; ${MANY_SKUS} SKUs in the spread scenario; concurrency ${CONCURRENCIES.join(' and ')}; raw updates ${RAW_OPS} per row; database ${MONGO_URL.replace(/\/\/[^@]*@/, '//')}; Kafka ${KAFKA_BROKERS}; service, load generator, Kafka and the database all on this machine. After the run every stock record was checked to hold nothing.

${resultTable(results)}
`;
  process.stdout.write(`${report}\n`);
  if (OUT) writeFileSync(OUT, report);
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${String(error)}\n`);
  process.exit(1);
});
