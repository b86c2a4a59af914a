// Payments benchmark: card authorisations/s and latency over gRPC (real grpc-js client → the real service process →
// the card simulator → FerretDB or MongoDB, events through the outbox to Kafka) at several concurrencies, plus
// captures (a version-checked update) and the raw database insert rate as the ceiling. Bounded by count, loopback
// only. Run: scripts/bench-payments.sh (see docs/benchmarks.md).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import {
  PaymentMethod,
  PaymentStatus,
  PaymentsServiceClient,
  PaymentsServiceService,
} from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { type LoadResult, machineLine, resultTable, runLoad, startServiceProcess } from '@o2o/kit-bench';
import { asyncClient } from '@o2o/kit-grpc';
import { MongoClient } from 'mongodb';

const env = process.env;
const CONCURRENCIES = (env.BENCH_CONCURRENCIES ?? '16,64').split(',').map(Number);
const AUTHORIZATIONS = Number(env.BENCH_AUTHORIZATIONS ?? 2000);
const CAPTURES = Number(env.BENCH_CAPTURES ?? 300);
const RAW_OPS = Number(env.BENCH_RAW_OPS ?? 1000);
const WARMUP = Number(env.BENCH_WARMUP ?? 300);
const MONGO_URL = env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const KAFKA_BROKERS = env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const OUT = env.BENCH_OUT;

async function rawInsert(run: string, concurrency: number): Promise<LoadResult> {
  const client = await MongoClient.connect(MONGO_URL, { maxPoolSize: concurrency + 2 });
  const db = client.db(`bench_raw_pay_${run}_${concurrency}`);
  const col = db.collection<{ _id: string; payload: string }>('docs');
  const payload = 'x'.repeat(1800); // about the size of an authorised payment document with its outbox entry
  const result = await runLoad(`raw insertOne (FerretDB/Mongo), c=${concurrency}`, RAW_OPS, concurrency, (i) =>
    col.insertOne({ _id: `d${i}`, payload }),
  );
  await db.dropDatabase();
  await client.close();
  return result;
}

async function main(): Promise<void> {
  const run = Date.now().toString(36);
  const dbName = `bench_payments_${run}`;
  const bin = path.join(__dirname, '..', 'bin.js');
  const service = await startServiceProcess(bin, {
    ...env,
    GRPC_PORT: '0',
    WALLET_CALLBACK_PORT: '0',
    MONGO_URL,
    MONGO_DB: dbName,
    KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: `bench-${run}.`,
    LOG_LEVEL: 'info',
  });
  const port = service.port;
  const raw = new PaymentsServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const client = asyncClient(raw, PaymentsServiceService);
  process.stderr.write(
    `[bench] payments on 127.0.0.1:${port}; concurrency ${CONCURRENCIES.join(', ')}; ${AUTHORIZATIONS} authorisations each\n`,
  );

  const results: LoadResult[] = [];
  const authorised: { id: string; amountMinor: string }[] = [];
  const authorize = (label: string) => async (i: number) => {
    const { payment } = await client.authorizePayment({
      idempotencyKey: `bench-${run}-${label}-${i}`,
      orderId: `order-${run}-${label}-${i}`,
      amount: { currencyCode: 'CNY', amountMinor: String(1000 + i) },
      method: PaymentMethod.PAYMENT_METHOD_CARD,
      card: { number: '4242424242424242' },
      wallet: undefined,
      store: undefined,
      expireTime: undefined,
      attribution: undefined,
    });
    if (!payment || payment.status !== PaymentStatus.PAYMENT_STATUS_AUTHORIZED) {
      throw new Error(`not authorised: ${payment?.status}`);
    }
    authorised.push({ id: payment.id, amountMinor: payment.amount!.amountMinor });
  };
  // Warm-up (not reported): JIT, connection pools, the Kafka producer and topic.
  await runLoad('warm-up', WARMUP, 16, authorize('warmup'));
  for (const concurrency of CONCURRENCIES) {
    results.push(await rawInsert(run, concurrency));
    results.push(
      await runLoad(
        `gRPC AuthorizePayment (CARD, approved), c=${concurrency}`,
        AUTHORIZATIONS,
        concurrency,
        authorize(`c${concurrency}`),
      ),
    );
  }
  const captureConcurrency = CONCURRENCIES[0] ?? 16;
  results.push(
    await runLoad(
      `gRPC CapturePayment (full), c=${captureConcurrency}`,
      Math.min(CAPTURES, authorised.length),
      captureConcurrency,
      (i) =>
        client.capturePayment({
          idempotencyKey: 'capture',
          paymentId: authorised[i]!.id,
          amount: { currencyCode: 'CNY', amountMinor: authorised[i]!.amountMinor },
        }),
    ),
  );
  raw.close();
  await service.stop();
  const cleanup = await MongoClient.connect(MONGO_URL);
  await cleanup.db(dbName).dropDatabase();
  await cleanup.close();

  const report = `### Payments, ${new Date().toISOString().slice(0, 10)}

${machineLine()}
Settings: ${AUTHORIZATIONS} card authorisations per concurrency level, ${CAPTURES} captures, ${RAW_OPS} raw inserts; database ${MONGO_URL.replace(/\/\/[^@]*@/, '//')}; Kafka ${KAFKA_BROKERS}; service, load generator, Kafka and the database all on this machine.

${resultTable(results)}
`;
  process.stdout.write(`${report}\n`);
  if (OUT) writeFileSync(OUT, report);
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${String(error)}\n`);
  process.exit(1);
});
