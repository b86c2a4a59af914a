// Catalogue benchmark: creates/s and gets/s over gRPC (real grpc-js client → the real service process → FerretDB
// or MongoDB, events through the outbox to Kafka), beside the raw database insert and update rates measured in the
// same run as the ceiling. Bounded by count, loopback only. Run: scripts/bench-catalogue.sh (see docs/benchmarks.md).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import {
  CatalogueServiceClient,
  CatalogueServiceService,
  PriceChannel,
  type ProductInput,
  SalesChannel,
} from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import { type LoadResult, machineLine, resultTable, runLoad, startServiceProcess } from '@o2o/kit-bench';
import { asyncClient } from '@o2o/kit-grpc';
import { MongoClient } from 'mongodb';

const env = process.env;
const CONCURRENCY = Number(env.BENCH_CONCURRENCY ?? 16);
const CREATES = Number(env.BENCH_CREATES ?? 2000);
const GETS = Number(env.BENCH_GETS ?? 5000);
const RAW_OPS = Number(env.BENCH_RAW_OPS ?? 2000);
const MONGO_URL = env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const KAFKA_BROKERS = env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const OUT = env.BENCH_OUT;

function input(i: number, run: string): ProductInput {
  return {
    name: `Bench product ${run} ${i}`,
    description: 'A product created by the catalogue benchmark.',
    brand: 'Bench',
    categories: ['bench/items'],
    attributes: { run },
    imageUrls: [],
    skus: [
      {
        code: `B-${run}-${i}`,
        name: 'default',
        attributes: {},
        prices: [
          { channel: PriceChannel.PRICE_CHANNEL_ONLINE, price: { currencyCode: 'CNY', amountMinor: String(1000 + i) } },
        ],
        sellableChannels: [SalesChannel.SALES_CHANNEL_ONLINE],
        barcode: '',
        imageUrls: [],
      },
    ],
  };
}

async function rawDatabase(run: string): Promise<LoadResult[]> {
  const client = await MongoClient.connect(MONGO_URL, { maxPoolSize: CONCURRENCY + 2 });
  const db = client.db(`bench_raw_${run}`);
  const col = db.collection<{ _id: string; version: number; name: string; payload: string }>('docs');
  const payload = 'x'.repeat(1500); // about the size of a product document with its outbox entry
  const results = [
    await runLoad('raw insertOne (FerretDB/Mongo)', RAW_OPS, CONCURRENCY, (i) =>
      col.insertOne({ _id: `d${i}`, version: 1, name: `n${i}`, payload }),
    ),
    await runLoad('raw conditional updateOne (version check)', RAW_OPS, CONCURRENCY, (i) =>
      col.updateOne({ _id: `d${i}`, version: 1 }, { $set: { version: 2, name: `m${i}` } }),
    ),
    await runLoad('raw findOne by _id', RAW_OPS, CONCURRENCY, (i) => col.findOne({ _id: `d${i % RAW_OPS}` })),
  ];
  await db.dropDatabase();
  await client.close();
  return results;
}

async function main(): Promise<void> {
  const run = Date.now().toString(36);
  const dbName = `bench_catalogue_${run}`;
  const bin = path.join(__dirname, '..', 'bin.js');
  const service = await startServiceProcess(bin, {
    ...env,
    GRPC_PORT: '0',
    MONGO_URL,
    MONGO_DB: dbName,
    KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: `bench-${run}.`,
    LOG_LEVEL: 'info',
  });
  const port = service.port;
  const raw = new CatalogueServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const client = asyncClient(raw, CatalogueServiceService);
  const ids: string[] = [];

  process.stderr.write(
    `[bench] catalogue on 127.0.0.1:${port}; concurrency ${CONCURRENCY}; ${CREATES} creates, ${GETS} gets, ${RAW_OPS} raw ops\n`,
  );
  const rawResults = await rawDatabase(run);
  const creates = await runLoad('gRPC CreateProduct', CREATES, CONCURRENCY, async (i) => {
    const { product } = await client.createProduct({ requestId: `bench-${run}-${i}`, product: input(i, run) });
    ids.push(product!.id);
  });
  const gets = await runLoad('gRPC GetProduct', GETS, CONCURRENCY, (i) =>
    client.getProduct({ productId: ids[i % ids.length]! }),
  );
  raw.close();
  await service.stop();
  const cleanup = await MongoClient.connect(MONGO_URL);
  await cleanup.db(dbName).dropDatabase();
  await cleanup.close();

  const report = `### Catalogue, ${new Date().toISOString().slice(0, 10)}

${machineLine()}
Settings: concurrency ${CONCURRENCY}; ${CREATES} creates, ${GETS} gets, ${RAW_OPS} raw operations each; database ${MONGO_URL.replace(/\/\/[^@]*@/, '//')}; Kafka ${KAFKA_BROKERS}; service, load generator, Kafka and the database all on this machine.

${resultTable([creates, gets, ...rawResults])}
`;
  process.stdout.write(`${report}\n`);
  if (OUT) writeFileSync(OUT, report);
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${String(error)}\n`);
  process.exit(1);
});
