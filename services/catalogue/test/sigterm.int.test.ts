// SIGTERM under load, on the real process: health turns NOT_SERVING first, every accepted call completes,
// later calls are refused cleanly, the process exits 0, and nothing is half-written.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { credentials, loadPackageDefinition, type ServiceError, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { CatalogueServiceClient } from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import { repoRoot, testInfra, uniqueName, waitFor } from '@o2o/kit-testing';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import mongoose from 'mongoose';
import { productInput } from './harness';

interface HealthClient {
  check(req: { service: string }, cb: (e: ServiceError | null, r: { status: string }) => void): void;
  close(): void;
}

it('drains in-flight calls after turning NOT_SERVING, then exits 0', async () => {
  const infra = testInfra();
  const dbName = uniqueName('cat_sigterm');
  const bin = path.join(repoRoot(), 'services', 'catalogue', 'dist', 'bin.js');
  const child: ChildProcess = spawn(process.execPath, [bin], {
    env: {
      PATH: process.env.PATH,
      GRPC_PORT: '0',
      MONGO_URL: infra.mongoUrl,
      MONGO_DB: dbName,
      KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
      LOG_LEVEL: 'info',
      SHUTDOWN_DRAIN_DELAY_MS: '700',
      SHUTDOWN_GRACE_MS: '15000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const port = await waitFor(
    () => {
      for (const l of lines) {
        try {
          const entry = JSON.parse(l) as { msg?: string; port?: number };
          if (entry.msg === 'gRPC server listening') return entry.port;
        } catch {
          // not JSON
        }
      }
      return undefined;
    },
    { what: 'catalogue process listening', timeoutMs: 30_000 },
  );
  const address = `127.0.0.1:${port}`;
  const client = new CatalogueServiceClient(address, credentials.createInsecure());
  const pkg = loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
    grpc: {
      health: { v1: { Health: new (a: string, c: ReturnType<typeof credentials.createInsecure>) => HealthClient } };
    };
  };
  const health = new pkg.grpc.health.v1.Health(address, credentials.createInsecure());
  const checkHealth = () =>
    new Promise<string>((resolve) =>
      health.check({ service: '' }, (e, r) => resolve(e ? `ERROR ${e.code}` : r.status)),
    );
  expect(await checkHealth()).toBe('SERVING');

  // Load: 8 workers creating products back to back until the server refuses them.
  const ok: string[] = [];
  const refused: { code: number; at: number }[] = [];
  const other: { code: number; details: string }[] = [];
  let sigtermAt = 0;
  let okAfterSigterm = 0;
  let notServingAt = 0;
  const worker = async (w: number) => {
    for (let i = 0; ; i++) {
      const requestId = `w${w}-${i}-${uniqueName('r')}`;
      const result = await new Promise<ServiceError | null>((resolve) =>
        client.createProduct(
          { requestId, product: productInput(`SIG-${w}-${i}-${uniqueName('s').toUpperCase()}`) },
          (e) => resolve(e),
        ),
      );
      if (!result) {
        ok.push(requestId);
        if (sigtermAt > 0) okAfterSigterm++;
      } else if (result.code === status.UNAVAILABLE && sigtermAt > 0) {
        refused.push({ code: result.code, at: Date.now() });
        return;
      } else other.push({ code: result.code, details: result.details });
      if (other.length > 0) return;
    }
  };
  const workers = Array.from({ length: 8 }, (_, w) => worker(w));
  const healthWatch = (async () => {
    while (notServingAt === 0) {
      const s = await checkHealth();
      if (sigtermAt > 0 && s !== 'SERVING') notServingAt = Date.now();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  await waitFor(() => ok.length >= 40, { what: '40 creates before SIGTERM', timeoutMs: 30_000 });
  sigtermAt = Date.now();
  child.kill('SIGTERM');
  await Promise.all(workers);
  await healthWatch;
  const code = await exited;
  client.close();
  health.close();

  expect(other).toEqual([]); // no call failed except refusals after shutdown began
  expect(okAfterSigterm).toBeGreaterThan(0); // calls kept completing during the drain
  expect(refused.length).toBeGreaterThan(0); // and new ones were refused once it ended
  expect(code).toBe(0);
  expect(notServingAt).toBeGreaterThan(0);
  expect(refused.every((r) => r.at >= notServingAt)).toBe(true); // health said NOT_SERVING before any refusal
  const stopped = lines
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; forced?: boolean })
    .find((l) => l.msg === 'gRPC server stopped');
  expect(stopped?.forced).toBe(false); // nothing was cancelled: every accepted call completed

  // Nothing half-written: every answered create is stored, whole, with its event.
  const db = await mongoose.createConnection(infra.mongoUrl, { dbName }).asPromise();
  try {
    const docs = await db.collection('products').find({}).toArray();
    const stored = new Set(docs.map((d) => (d.createRequest as { id: string }).id));
    for (const id of ok) expect(stored.has(id)).toBe(true);
    for (const d of docs) {
      expect(d.version).toBe(1);
      expect((d.skuCodes as string[]).length).toBe(1);
      const claims = await db.collection('sku_claims').countDocuments({ productId: d._id });
      expect(claims).toBe(1);
    }
  } finally {
    await db.dropDatabase();
    await db.close();
  }
}, 120_000);
