// The launcher: the five services and the gateway, each its own Node process (built dist/bin.js) on a free loopback
// port, with fresh databases, a fresh Kafka topic prefix and consumer groups of this run. `stop()` ends every process
// it started (SIGTERM, then SIGKILL after a grace period), drops the run's databases and deletes its topics; it runs
// on success, on failure and on Ctrl-C.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { credentials } from '@grpc/grpc-js';
import { CatalogueServiceClient, CatalogueServiceService } from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import { DeliveryServiceClient, DeliveryServiceService } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { InventoryServiceClient, InventoryServiceService } from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { OrdersServiceClient, OrdersServiceService } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { asyncClient } from '@o2o/kit-grpc';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { httpClient, type HttpClient } from './http';
import { log } from './progress';
import { settings } from './settings';

export type ServiceName = 'catalogue' | 'inventory' | 'payments' | 'orders' | 'delivery';
export type ProcessName = ServiceName | 'gateway';
export const SERVICES: readonly ServiceName[] = ['catalogue', 'inventory', 'payments', 'orders', 'delivery'];

/** The repository root (this file runs from services/system/dist/bench). */
export const REPO = path.join(__dirname, '..', '..', '..', '..');

interface Running {
  name: ProcessName;
  port: number;
  child: ChildProcessByStdio<null, Readable, null>;
}

/** The whole system as the bench started it: addresses, clients, pids, the admin key; `stop()` undoes it all. */
export interface System {
  run: string;
  topicPrefix: string;
  ports: Record<ProcessName, number>;
  /** Pids of every process the figures cover: the six started here, the bench, and the local Kafka and FerretDB. */
  pids: Record<string, number | undefined>;
  adminKey: string;
  http: HttpClient;
  gatewayUrl: string;
  catalogue: ReturnType<typeof asyncClient<typeof CatalogueServiceService>>;
  inventory: ReturnType<typeof asyncClient<typeof InventoryServiceService>>;
  orders: ReturnType<typeof asyncClient<typeof OrdersServiceService>>;
  delivery: ReturnType<typeof asyncClient<typeof DeliveryServiceService>>;
  mongo: MongoClient;
  dbName(who: ProcessName): string;
  /** Waits until no service's outbox holds an unsent event; resolves with the seconds it took (NaN: not within the timeout). */
  drain(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

const running: Running[] = [];
let stopping = false;
/** Undoes whatever startSystem started so far (processes, databases, topics): for Ctrl-C during start-up too. */
let undo: (() => Promise<void>) | undefined;

/** Stops what startSystem started, if anything, once. */
export async function stopStarted(): Promise<void> {
  const u = undo;
  undo = undefined;
  await u?.();
}
const alive = (r: Running) => r.child.exitCode === null && r.child.signalCode === null;

process.on('exit', () => {
  for (const r of running) if (alive(r)) r.child.kill('SIGKILL');
});

/** Starts one process and resolves with the port it logged (`pattern` captures it), within 90 s. */
async function startProcess(
  name: ProcessName,
  env: Record<string, string | undefined>,
  pattern: RegExp,
): Promise<Running> {
  const bin = path.join(REPO, 'services', name, 'dist', 'bin.js');
  const child = spawn(process.execPath, [bin], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const r: Running = { name, port: 0, child };
  running.push(r);
  r.port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(
      () => reject(new Error(`${name} did not listen within 90 s:\n${buffer.slice(-3000)}`)),
      90_000,
    );
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const m = pattern.exec(buffer);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
      if (buffer.length > 1_000_000) buffer = buffer.slice(-20_000);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} during start-up:\n${buffer.slice(-3000)}`));
    });
  });
  // Keep reading its log so a full pipe never blocks it; say so if it dies while the bench runs.
  child.stdout.resume();
  child.on('exit', (code, signal) => {
    if (!stopping) log(`${name} exited unexpectedly (code ${code}, signal ${signal})`);
  });
  return r;
}

/** SIGTERM, up to 15 s, then SIGKILL: the gateway, then orders (it calls the others), then the rest together. */
async function stopProcesses(): Promise<void> {
  stopping = true;
  const stop = async (r: Running) => {
    if (!alive(r)) return;
    const exited = new Promise((resolve) => r.child.once('exit', resolve));
    r.child.kill('SIGTERM');
    const timer = setTimeout(() => r.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  for (const first of ['gateway', 'orders'] as const)
    for (const r of running.filter((x) => x.name === first)) await stop(r);
  await Promise.all(running.filter((r) => r.name !== 'gateway' && r.name !== 'orders').map(stop));
}

function infraPid(name: string): number | undefined {
  const file = path.join(settings.stateDir ?? path.join(REPO, '.o2o'), 'run', `${name}.pid`);
  if (!existsSync(file)) return undefined;
  return Number(readFileSync(file, 'utf8').trim()) || undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the system; on a failure part-way, whatever started is stopped and dropped before the error is thrown. */
export async function startSystem(): Promise<System> {
  const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const topicPrefix = `bench-system-${run}.`;
  const dbName = (who: ProcessName) => `bench_sys_${who.slice(0, 3)}_${run}`;
  const adminKey = `o2o_benchsys${run}_${randomBytes(24).toString('base64url')}`;
  const common = (who: ProcessName): Record<string, string | undefined> => ({
    ...process.env,
    MONGO_URL: settings.mongoUrl,
    MONGO_DB: dbName(who),
    KAFKA_BROKERS: settings.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    KAFKA_GROUP_ID: `bench-system-${run}-${who}`,
    LOG_LEVEL: 'info',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
  });
  const grpcListening = /"port":(\d+)[^\n]*"msg":"gRPC server listening"/;
  let mongo: MongoClient | undefined;
  const stop = async () => {
    await stopProcesses();
    const m =
      mongo ??
      (await MongoClient.connect(settings.mongoUrl, { serverSelectionTimeoutMS: 5000 }).catch(() => undefined));
    if (m) {
      for (const who of [...SERVICES, 'gateway'] as const)
        await m
          .db(dbName(who))
          .dropDatabase()
          .catch(() => undefined);
      await m.close().catch(() => undefined);
    }
    await deleteTopics(topicPrefix).catch((error: unknown) =>
      log(`could not delete the run's topics: ${String(error)}`),
    );
  };
  undo = stop;
  try {
    const [cat, inv, pay] = await Promise.all([
      startProcess('catalogue', common('catalogue'), grpcListening),
      startProcess('inventory', common('inventory'), grpcListening),
      startProcess('payments', { ...common('payments'), WALLET_CALLBACK_PORT: '0' }, grpcListening),
    ]);
    const address = (r: Running) => `127.0.0.1:${r.port}`;
    const [ord, dlv] = await Promise.all([
      startProcess(
        'orders',
        {
          ...common('orders'),
          CATALOGUE_ADDRESS: address(cat),
          INVENTORY_ADDRESS: address(inv),
          PAYMENTS_ADDRESS: address(pay),
        },
        grpcListening,
      ),
      startProcess(
        'delivery',
        {
          ...common('delivery'),
          INVENTORY_ADDRESS: address(inv),
          // Nobody accepts the mix's delivery tasks during the run: no re-routing of them while later scenarios run.
          TASK_ACCEPT_MS: '3600000',
        },
        grpcListening,
      ),
    ]);
    const gw = await startProcess(
      'gateway',
      {
        ...common('gateway'),
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        CATALOGUE_ADDRESS: address(cat),
        INVENTORY_ADDRESS: address(inv),
        PAYMENTS_ADDRESS: address(pay),
        ORDERS_ADDRESS: address(ord),
        DELIVERY_ADDRESS: address(dlv),
        BOOTSTRAP_ADMIN_KEY: adminKey,
        RATE_LIMIT_PER_MINUTE: '10000000',
        // The flash sale queues every buyer at once: the gateway waits for orders as long as the bench does.
        DOWNSTREAM_DEADLINE_MS: '300000',
        REQUEST_TIMEOUT_MS: '305000',
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
        // Its own consumer group: a group shared with another gateway on the same Kafka would rebalance with it.
        WEBHOOK_GROUP_ID: `bench-system-${run}-gateway-webhooks`,
        SHUTDOWN_DRAIN_DELAY_MS: '0',
        SHUTDOWN_GRACE_MS: '5000',
      },
      /"port":(\d+)[^\n]*"msg":"gateway listening"/,
    );
    const byName = { catalogue: cat, inventory: inv, payments: pay, orders: ord, delivery: dlv, gateway: gw };
    const ports = Object.fromEntries(Object.entries(byName).map(([k, r]) => [k, r.port])) as Record<
      ProcessName,
      number
    >;
    const pids: Record<string, number | undefined> = {
      ...Object.fromEntries(Object.entries(byName).map(([k, r]) => [k, r.child.pid])),
      bench: process.pid,
      kafka: infraPid('kafka'),
      ferretdb: infraPid('ferretdb'),
    };
    log(
      `started: ${Object.entries(ports)
        .map(([k, p]) => `${k} :${p}`)
        .join(', ')}; topic prefix ${topicPrefix}`,
    );
    mongo = await MongoClient.connect(settings.mongoUrl);
    const databases = SERVICES.map((s) => mongo!.db(dbName(s)));
    const insecure = credentials.createInsecure();
    const raw = {
      catalogue: new CatalogueServiceClient(address(cat), insecure),
      inventory: new InventoryServiceClient(address(inv), insecure),
      orders: new OrdersServiceClient(address(ord), insecure),
      delivery: new DeliveryServiceClient(address(dlv), insecure),
    };
    const http = httpClient(gw.port);
    const m = mongo;
    return {
      run,
      topicPrefix,
      ports,
      pids,
      adminKey,
      http,
      gatewayUrl: `http://127.0.0.1:${gw.port}`,
      catalogue: asyncClient(raw.catalogue, CatalogueServiceService),
      inventory: asyncClient(raw.inventory, InventoryServiceService),
      orders: asyncClient(raw.orders, OrdersServiceService),
      delivery: asyncClient(raw.delivery, DeliveryServiceService),
      mongo: m,
      dbName,
      async drain(timeoutMs = 300_000) {
        const started = Date.now();
        for (;;) {
          let unsent = 0;
          for (const db of databases) {
            for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
              unsent += await db.collection(name).countDocuments({ 'outbox.0': { $exists: true } });
            }
          }
          if (unsent === 0) return (Date.now() - started) / 1000;
          if (Date.now() - started > timeoutMs) {
            // A figure, not a failure: the scenario goes on and its table shows the drain as unfinished.
            log(`outboxes not drained after ${timeoutMs / 1000} s (${unsent} documents with unsent events)`);
            return NaN;
          }
          await sleep(500);
        }
      },
      async stop() {
        http.close();
        for (const c of Object.values(raw)) c.close();
        await stopStarted();
      },
    };
  } catch (error) {
    await stopStarted();
    throw error;
  }
}

/** Deletes every topic of this run (the services create theirs under the prefix; the bench its own). */
async function deleteTopics(prefix: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'bench-system-cleanup',
    brokers: settings.kafkaBrokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}
