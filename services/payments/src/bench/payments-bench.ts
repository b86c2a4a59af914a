// Payments benchmark: card authorisations/s and latency over gRPC (real grpc-js client → the real service process →
// the card simulator → FerretDB or MongoDB, events through the outbox to Kafka) at several concurrencies, plus
// captures (a version-checked update) and the raw database insert rate as the ceiling. Bounded by count, loopback
// only. Run: scripts/bench-payments.sh (see docs/benchmarks.md).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import {
  PaymentMethod,
  PaymentStatus,
  PaymentsServiceClient,
  PaymentsServiceService,
} from '@o2o/contracts/gen/o2o/payments/v1/payments';
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

interface Result {
  name: string;
  concurrency: number;
  ops: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

async function runLoad(
  name: string,
  total: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const t0 = process.hrtime.bigint();
      try {
        await op(i);
      } catch (error) {
        if (errors++ === 0) process.stderr.write(`[bench] first error in ${name}: ${String(error)}\n`);
      }
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  const result = { name, concurrency, ops: total, errors, seconds, p50: pct(50), p99: pct(99) };
  process.stderr.write(
    `[bench] ${name} @${concurrency}: ${(total / seconds).toFixed(0)}/s p50 ${result.p50.toFixed(2)} ms p99 ${result.p99.toFixed(2)} ms errors ${errors}\n`,
  );
  return result;
}

async function rawInsert(run: string, concurrency: number): Promise<Result> {
  const client = await MongoClient.connect(MONGO_URL, { maxPoolSize: concurrency + 2 });
  const db = client.db(`bench_raw_pay_${run}_${concurrency}`);
  const col = db.collection<{ _id: string; payload: string }>('docs');
  const payload = 'x'.repeat(1800); // about the size of an authorised payment document with its outbox entry
  const result = await runLoad('raw insertOne (FerretDB/Mongo)', RAW_OPS, concurrency, (i) =>
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
  const child = spawn(process.execPath, [bin], {
    env: {
      ...env,
      GRPC_PORT: '0',
      WALLET_CALLBACK_PORT: '0',
      MONGO_URL,
      MONGO_DB: dbName,
      KAFKA_BROKERS,
      KAFKA_TOPIC_PREFIX: `bench-${run}.`,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const m = /"port":(\d+)[^\n]*"msg":"gRPC server listening"/.exec(buffer);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`payments exited with ${code}`)));
  });
  child.stdout.resume();
  const raw = new PaymentsServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const client = asyncClient(raw, PaymentsServiceService);
  process.stderr.write(
    `[bench] payments on 127.0.0.1:${port}; concurrency ${CONCURRENCIES.join(', ')}; ${AUTHORIZATIONS} authorisations each\n`,
  );

  const results: Result[] = [];
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
        'gRPC AuthorizePayment (CARD, approved)',
        AUTHORIZATIONS,
        concurrency,
        authorize(`c${concurrency}`),
      ),
    );
  }
  const captureConcurrency = CONCURRENCIES[0] ?? 16;
  results.push(
    await runLoad('gRPC CapturePayment (full)', Math.min(CAPTURES, authorised.length), captureConcurrency, (i) =>
      client.capturePayment({
        idempotencyKey: 'capture',
        paymentId: authorised[i]!.id,
        amount: { currencyCode: 'CNY', amountMinor: authorised[i]!.amountMinor },
      }),
    ),
  );
  raw.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  const cleanup = await MongoClient.connect(MONGO_URL);
  await cleanup.db(dbName).dropDatabase();
  await cleanup.close();

  const rows = results
    .map(
      (r) =>
        `| ${r.name} | ${r.concurrency} | ${r.ops} | ${(r.ops / r.seconds).toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} |`,
    )
    .join('\n');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const report = `### Payments, ${new Date().toISOString().slice(0, 10)}

Machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}.
Settings: ${AUTHORIZATIONS} card authorisations per concurrency level, ${CAPTURES} captures, ${RAW_OPS} raw inserts; database ${MONGO_URL.replace(/\/\/[^@]*@/, '//')}; Kafka ${KAFKA_BROKERS}; service, load generator, Kafka and the database all on this machine.

| operation | concurrency | ops | ops/s | p50 ms | p99 ms | errors |
|---|---:|---:|---:|---:|---:|---:|
${rows}
`;
  process.stdout.write(`${report}\n`);
  if (OUT) writeFileSync(OUT, report);
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${String(error)}\n`);
  process.exit(1);
});
