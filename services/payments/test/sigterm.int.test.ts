// SIGTERM under load, on the real process (services/payments/dist/bin.js, built by `npm run build`): every accepted
// authorisation completes, later calls are refused cleanly with UNAVAILABLE, the process exits 0 without cancelling
// anything, and every answered payment is stored whole with a ledger that adds up.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { credentials, type ServiceError, status } from '@grpc/grpc-js';
import { PaymentsServiceClient, type AuthorizePaymentResponse } from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { repoRoot, testInfra, uniqueName, waitFor } from '@o2o/kit-testing';
import mongoose from 'mongoose';
import type { PaymentDocument } from '../src/adapters/mongo-payment-repository';
import { cardRequest, ledgerSums } from './harness';

it('drains in-flight authorisations on SIGTERM, then exits 0 with nothing half-written', async () => {
  const infra = testInfra();
  const dbName = uniqueName('pay_sigterm');
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(repoRoot(), 'services', 'payments', 'dist', 'bin.js')],
    {
      env: {
        PATH: process.env.PATH,
        GRPC_PORT: '0',
        WALLET_CALLBACK_PORT: '0',
        MONGO_URL: infra.mongoUrl,
        MONGO_DB: dbName,
        KAFKA_BROKERS: infra.kafkaBrokers.join(','),
        KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
        LOG_LEVEL: 'info',
        SHUTDOWN_DRAIN_DELAY_MS: '500',
        SHUTDOWN_GRACE_MS: '15000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const logged = () =>
    lines
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; port?: number; forced?: boolean });
  const port = await waitFor(() => logged().find((l) => l.msg === 'gRPC server listening')?.port, {
    what: 'payments process listening',
    timeoutMs: 30_000,
  });
  const client = new PaymentsServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());

  const ok = new Map<string, string>();
  const refused: number[] = [];
  const other: { code: number; details: string }[] = [];
  let sigterm = false;
  let okAfterSigterm = 0;
  const worker = async () => {
    for (;;) {
      const request = cardRequest();
      const [error, response] = await new Promise<[ServiceError | null, AuthorizePaymentResponse | undefined]>(
        (resolve) => client.authorizePayment(request, (e, r) => resolve([e, r])),
      );
      if (!error) {
        ok.set(response!.payment!.id, request.idempotencyKey);
        if (sigterm) okAfterSigterm++;
      } else if (error.code === status.UNAVAILABLE && sigterm) {
        refused.push(error.code);
        return;
      } else {
        other.push({ code: error.code, details: error.details });
        return;
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  await waitFor(() => ok.size >= 40, { what: '40 authorisations before SIGTERM', timeoutMs: 30_000 });
  sigterm = true;
  child.kill('SIGTERM');
  await Promise.all(workers);
  const code = await exited;
  client.close();

  expect(other).toEqual([]);
  expect(okAfterSigterm).toBeGreaterThan(0);
  expect(refused.length).toBeGreaterThan(0);
  expect(code).toBe(0);
  expect(logged().find((l) => l.msg === 'gRPC server stopped')?.forced).toBe(false);

  const db = await mongoose.createConnection(infra.mongoUrl, { dbName }).asPromise();
  try {
    const docs = await db.collection<PaymentDocument>('payments').find({}).toArray();
    const byId = new Map(docs.map((d) => [d._id, d]));
    for (const [id, key] of ok) {
      const doc = byId.get(id);
      expect(doc?.authorizeKey).toBe(key);
      expect(doc?.status).toBe('AUTHORIZED');
      expect(ledgerSums(doc!)).toEqual(doc!.balances);
    }
  } finally {
    await db.dropDatabase();
    await db.close();
  }
}, 120_000);
