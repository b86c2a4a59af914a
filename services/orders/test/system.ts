// The whole backend as it runs in production: catalogue, inventory, payments and orders, each its own Node process
// (services/<name>/dist/bin.js, built by `npm run build`), against the test run's real Kafka and database. Every
// service has its own database; all share one topic prefix, so one run never sees another's events. Ports are free
// loopback ports chosen up front, so a restarted process comes back at the same address and the clients keep working.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import {
  CatalogueServiceClient,
  CatalogueServiceService,
  PriceChannel,
  type Product,
  SalesChannel,
} from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import { DeliveryServiceClient, DeliveryServiceService } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import * as delivery from '@o2o/contracts/gen/o2o/delivery/v1/events';
import {
  AdjustmentReason,
  InventoryServiceClient,
  InventoryServiceService,
  LocationKind,
  type StockLevel,
} from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { type Order, OrdersServiceClient, OrdersServiceService } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import * as orderEvents from '@o2o/contracts/gen/o2o/orders/v1/events';
import {
  PaymentsServiceClient,
  PaymentsServiceService,
  PaymentStatus,
} from '@o2o/contracts/gen/o2o/payments/v1/payments';
import { asyncClient, type AsyncClient } from '@o2o/kit-grpc';
import { toCloudEventHeaders } from '@o2o/kit-kafka';
import {
  collectTopic,
  freePort,
  grpcHealth,
  type ProbedMessage,
  publishTo,
  repoRoot,
  statusOf,
  testInfra,
  uniqueName,
  waitFor,
} from '@o2o/kit-testing';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { sampleLocation } from '@o2o/kit-bench';

export type ServiceName = 'catalogue' | 'inventory' | 'payments' | 'orders' | 'delivery';
const SERVICES: readonly ServiceName[] = ['catalogue', 'inventory', 'payments', 'orders', 'delivery'];
/** Started unless `only` says otherwise: without delivery, a test plays the delivery service by publishing its events. */
const DEFAULT_SERVICES: readonly ServiceName[] = ['catalogue', 'inventory', 'payments', 'orders'];

/** The test network: a warehouse and two stores in central Shanghai, a few kilometres apart. */
export const LOCATIONS = {
  warehouse: 'wh-huangpu',
  storeA: 'store-nanjing-rd',
  storeB: 'store-xintiandi',
} as const;

/** Short timers, so expiries, recovery and relays happen within a test. */
export const TEST_TIMERS = {
  /** The deadline of a wallet QR an order asks payments for. */
  walletPayTtlMs: 4000,
  /** How often payments expires unpaid QRs. */
  walletExpiryIntervalMs: 500,
  /** The orders recovery loop period. */
  recoveryIntervalMs: 500,
  /** How long a crashed runner's claim on an order lasts. */
  taskLeaseMs: 3000,
};

/** One SKU of a seeded product: its code and its ONLINE and STORE prices in CNY fen. */
export interface SkuSpec {
  code: string;
  online: number;
  store: number;
}

/** The delivery events the orders service consumes. */
export type DeliveryEventType =
  | 'TaskAccepted'
  | 'TaskOverdue'
  | 'ShipmentCreated'
  | 'CourierAssigned'
  | 'ReadyForPickup'
  | 'PickedUp'
  | 'OutForDelivery'
  | 'Delivered'
  | 'DeliveryFailed'
  | 'PickupExpired';

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
  fromPartial(object: unknown): T;
}

const DELIVERY_CODECS: Record<DeliveryEventType, Codec<unknown>> = {
  TaskAccepted: delivery.TaskAccepted,
  TaskOverdue: delivery.TaskOverdue,
  ShipmentCreated: delivery.ShipmentCreated,
  CourierAssigned: delivery.CourierAssigned,
  ReadyForPickup: delivery.ReadyForPickup,
  PickedUp: delivery.PickedUp,
  OutForDelivery: delivery.OutForDelivery,
  Delivered: delivery.Delivered,
  DeliveryFailed: delivery.DeliveryFailed,
  PickupExpired: delivery.PickupExpired,
};

/** The events the orders service publishes, by short type name. */
export type OrderEventType =
  | 'OrderPlaced'
  | 'OrderAwaitingPayment'
  | 'OrderConfirmed'
  | 'OrderRejected'
  | 'OrderCancelled'
  | 'OrderInFulfillment'
  | 'OrderReadyForPickup'
  | 'OrderShipped'
  | 'OrderPickedUp'
  | 'OrderDelivered'
  | 'OrderDeliveryFailed'
  | 'OrderRerouted'
  | 'OrderCompleted'
  | 'ReturnRequested'
  | 'OrderRefunded';

const ORDER_EVENT_CODECS: Record<OrderEventType, Codec<unknown>> = {
  OrderPlaced: orderEvents.OrderPlaced,
  OrderAwaitingPayment: orderEvents.OrderAwaitingPayment,
  OrderConfirmed: orderEvents.OrderConfirmed,
  OrderRejected: orderEvents.OrderRejected,
  OrderCancelled: orderEvents.OrderCancelled,
  OrderInFulfillment: orderEvents.OrderInFulfillment,
  OrderReadyForPickup: orderEvents.OrderReadyForPickup,
  OrderShipped: orderEvents.OrderShipped,
  OrderPickedUp: orderEvents.OrderPickedUp,
  OrderDelivered: orderEvents.OrderDelivered,
  OrderDeliveryFailed: orderEvents.OrderDeliveryFailed,
  OrderRerouted: orderEvents.OrderRerouted,
  OrderCompleted: orderEvents.OrderCompleted,
  ReturnRequested: orderEvents.ReturnRequested,
  OrderRefunded: orderEvents.OrderRefunded,
};

/** One event of the orders topic, decoded: its short type, CloudEvents headers, and the payload's fields. */
export interface OrderEventRecord {
  /** The short type name, e.g. "OrderConfirmed" (from ce_type). */
  type: string;
  key: string;
  headers: Record<string, string>;
  /** The order after the change (every orders event carries it). */
  order: Order | undefined;
  groupId?: string;
  reason?: string;
  returnId?: string;
  payload: Record<string, unknown>;
}

/** What the wallet provider's simulator says about a QR payment. */
export interface WalletQr {
  reference: string;
  paymentId?: string;
  state?: string;
  callbackStatus?: string | number;
  [field: string]: unknown;
}

export interface StartOptions {
  /** The services to run (all but delivery by default); the others are not started and their clients fail. */
  only?: ServiceName[];
  /** Extra environment per service (wins over the harness's values). */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
}

/** The running system: clients, process controls and seeding helpers. */
export interface System {
  /** The shared topic prefix (ends with a dot). */
  prefix: string;
  topics: { catalogue: string; inventory: string; payments: string; orders: string; delivery: string };
  /** host:port of each service. */
  addresses: Record<ServiceName, string>;
  /** The database of each service. */
  databases: Record<ServiceName, string>;
  /** The payments wallet simulator's HTTP API. */
  walletSimulatorUrl: string;
  catalogue: AsyncClient<typeof CatalogueServiceService>;
  inventory: AsyncClient<typeof InventoryServiceService>;
  payments: AsyncClient<typeof PaymentsServiceService>;
  orders: AsyncClient<typeof OrdersServiceService>;
  delivery: AsyncClient<typeof DeliveryServiceService>;
  /** Whether the service's process is running. */
  running(name: ServiceName): boolean;
  /** Starts a stopped (or killed) service again with the same environment and port; waits for health SERVING. */
  start(name: ServiceName): Promise<void>;
  /**
   * SIGTERM (graceful stop, waited for), then start again; a process that is not running is just started.
   * `whileDown` runs between the two, e.g. to publish events the service must pick up when it is back.
   */
  restart(name: ServiceName, options?: { whileDown?: () => Promise<void> }): Promise<void>;
  /** SIGKILL: the process dies at once, mid-work; waits until it is gone. Call start/restart to bring it back. */
  kill9(name: ServiceName): Promise<void>;
  /** The last lines the process wrote (stdout and stderr), for diagnosing a failure. */
  logs(name: ServiceName): string[];
  /** Stops every process, the topic collector and the clients, and drops the databases. */
  stop(): Promise<void>;

  /** Creates the warehouse and the two stores of {@link LOCATIONS}. */
  createLocations(): Promise<void>;
  /** Creates a product with these SKUs (ONLINE price at creation, STORE price set with SetPrice) and activates it. */
  createProduct(name: string, skus: SkuSpec[]): Promise<Product>;
  /** Waits until inventory has learnt these SKUs from the catalogue's events (GetStock stops answering NOT_FOUND). */
  waitForSkus(codes: string[]): Promise<void>;
  /** Books a RECEIPT of `quantity` units (waiting, first, until inventory knows the SKU). */
  receive(skuCode: string, locationId: string, quantity: number): Promise<StockLevel>;
  /** The stock of one SKU at one location (zeros when there is no record yet). */
  stock(skuCode: string, locationId: string): Promise<StockLevel>;
  /** Publishes a delivery event on `<prefix>o2o.delivery.v1`, keyed by the order id, with CloudEvents headers. */
  publishDelivery(orderId: string, type: DeliveryEventType, message: unknown): Promise<void>;
  /** The events of the orders topic so far about one order (by key), without redeliveries (same ce_id), in order. */
  orderEvents(orderId: string): OrderEventRecord[];
  /** How many payments the payments service has stored (all orders). */
  paymentCount(): Promise<number>;
  wallet: {
    /** The customer pays the QR (the simulator posts the signed callback to payments). */
    pay(paymentId: string): Promise<WalletQr>;
    /** The customer closes the QR without paying. */
    cancel(paymentId: string): Promise<WalletQr>;
    /** The provider's view of the QR. */
    get(paymentId: string): Promise<WalletQr>;
    /** Lets the QR's deadline pass unpaid and waits until payments has expired it. */
    letExpire(paymentId: string, timeoutMs?: number): Promise<void>;
  };
}

/** Creates the topics nobody in the system publishes yet (the delivery service's) before a consumer subscribes. */
async function ensureTopics(topics: string[]): Promise<void> {
  const kafka = new Kafka({
    clientId: uniqueName('sys'),
    brokers: testInfra().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        await admin.createTopics({
          topics: topics.map((topic) => ({ topic, numPartitions: 6 })),
          waitForLeaders: true,
        });
        const metadata = await admin.fetchTopicMetadata({ topics });
        return metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      },
      { what: `topics ${topics.join(', ')}`, timeoutMs: 20_000, intervalMs: 250 },
    );
  } finally {
    await admin.disconnect();
  }
}

/** One service's process: how to start it, and the running child. */
class ServiceProcess {
  child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private readonly tail: string[] = [];
  private expectedExit = false;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  logs(): string[] {
    return [...this.tail];
  }

  async start(): Promise<void> {
    if (this.running()) throw new Error(`${this.name} is already running`);
    const bin = path.join(repoRoot(), 'services', this.name, 'dist', 'bin.js');
    const child = spawn(process.execPath, [bin], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.expectedExit = false;
    const keep = (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (!line) continue;
        this.tail.push(line);
        if (this.tail.length > 400) this.tail.shift();
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        if (!this.expectedExit) {
          process.stderr.write(
            `[system] ${this.name} exited unexpectedly (code ${code}, signal ${signal}); last lines:\n` +
              `${this.tail.slice(-40).join('\n')}\n`,
          );
        }
        resolve(code);
      }),
    );
    await this.waitServing();
  }

  private async waitServing(): Promise<void> {
    const health = grpcHealth(this.address);
    try {
      await waitFor(
        async () => {
          if (!this.running()) throw new Error(`${this.name} exited during start:\n${this.tail.slice(-30).join('\n')}`);
          return (await health.check()) === 'SERVING';
        },
        { what: `${this.name} health SERVING at ${this.address}`, timeoutMs: 60_000, intervalMs: 200 },
      );
    } catch (error) {
      process.stderr.write(`[system] ${this.name} did not become healthy; last lines:\n${this.tail.join('\n')}\n`);
      throw error;
    } finally {
      health.close();
    }
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    if (!this.running()) return;
    this.expectedExit = true;
    this.child?.kill(signal);
    await this.exited;
  }
}

/** Starts the system: free ports, a database per service, one topic prefix, every process healthy. */
export async function startSystem(options: StartOptions = {}): Promise<System> {
  const infra = testInfra();
  const wanted = new Set(options.only ?? DEFAULT_SERVICES);
  const prefix = `${uniqueName('sys')}.`;
  const topics = {
    catalogue: `${prefix}o2o.catalogue.v1`,
    inventory: `${prefix}o2o.inventory.v1`,
    payments: `${prefix}o2o.payments.v1`,
    orders: `${prefix}o2o.orders.v1`,
    delivery: `${prefix}o2o.delivery.v1`,
  };
  const ports = {
    catalogue: await freePort(),
    inventory: await freePort(),
    payments: await freePort(),
    orders: await freePort(),
    delivery: await freePort(),
  };
  const walletSimulatorPort = await freePort();
  const addresses = Object.fromEntries(SERVICES.map((s) => [s, `127.0.0.1:${ports[s]}`])) as Record<
    ServiceName,
    string
  >;
  const databases = Object.fromEntries(SERVICES.map((s) => [s, uniqueName(`e2e_${s.slice(0, 3)}`)])) as Record<
    ServiceName,
    string
  >;
  const common = (name: ServiceName): Record<string, string> => ({
    PATH: process.env.PATH ?? '',
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(ports[name]),
    MONGO_URL: infra.mongoUrl,
    MONGO_DB: databases[name],
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_GROUP_ID: uniqueName(`e2e-${name}`),
    LOG_LEVEL: 'info',
    OUTBOX_POLL_INTERVAL_MS: '100',
    SHUTDOWN_DRAIN_DELAY_MS: '0',
    SHUTDOWN_GRACE_MS: '5000',
  });
  const envs: Record<ServiceName, Record<string, string>> = {
    catalogue: { ...common('catalogue') },
    inventory: { ...common('inventory'), HOLD_SWEEP_INTERVAL_MS: '500' },
    payments: {
      ...common('payments'),
      WALLET_CALLBACK_PORT: '0',
      WALLET_SIMULATOR_PORT: String(walletSimulatorPort),
      WALLET_EXPIRY_INTERVAL_MS: String(TEST_TIMERS.walletExpiryIntervalMs),
    },
    orders: {
      ...common('orders'),
      CATALOGUE_ADDRESS: addresses.catalogue,
      INVENTORY_ADDRESS: addresses.inventory,
      PAYMENTS_ADDRESS: addresses.payments,
      WALLET_PAY_TTL_MS: String(TEST_TIMERS.walletPayTtlMs),
      RECOVERY_INTERVAL_MS: String(TEST_TIMERS.recoveryIntervalMs),
      TASK_LEASE_MS: String(TEST_TIMERS.taskLeaseMs),
    },
    delivery: {
      ...common('delivery'),
      INVENTORY_ADDRESS: addresses.inventory,
      SWEEP_INTERVAL_MS: '200',
      OFFER_TIMEOUT_MS: '5000',
    },
  };
  for (const s of SERVICES) Object.assign(envs[s], options.env?.[s] ?? {});
  const processes = Object.fromEntries(SERVICES.map((s) => [s, new ServiceProcess(s, ports[s], envs[s])])) as Record<
    ServiceName,
    ServiceProcess
  >;
  const killAll = () => {
    for (const p of Object.values(processes)) if (p.running()) p.child?.kill('SIGKILL');
  };
  process.once('exit', killAll);

  // Nothing in the system publishes delivery events yet: the topic exists before orders subscribes to it.
  await ensureTopics([topics.delivery]);
  const upstream = SERVICES.filter((s) => s !== 'orders' && wanted.has(s));
  try {
    await Promise.all(upstream.map((s) => processes[s].start()));
    if (wanted.has('orders')) await processes.orders.start();
  } catch (error) {
    await Promise.all(Object.values(processes).map((p) => p.stop('SIGKILL')));
    throw error;
  }

  const insecure = credentials.createInsecure();
  const raw = {
    catalogue: new CatalogueServiceClient(addresses.catalogue, insecure),
    inventory: new InventoryServiceClient(addresses.inventory, insecure),
    payments: new PaymentsServiceClient(addresses.payments, insecure),
    orders: new OrdersServiceClient(addresses.orders, insecure),
    delivery: new DeliveryServiceClient(addresses.delivery, insecure),
  };
  const catalogue = asyncClient(raw.catalogue, CatalogueServiceService);
  const inventory = asyncClient(raw.inventory, InventoryServiceService);
  const payments = asyncClient(raw.payments, PaymentsServiceService);
  const orders = asyncClient(raw.orders, OrdersServiceService);
  const delivery = asyncClient(raw.delivery, DeliveryServiceService);
  const mongo = await new MongoClient(infra.mongoUrl).connect();
  const collector = await collectTopic(topics.orders);
  const walletSimulatorUrl = `http://127.0.0.1:${walletSimulatorPort}`;

  const walletCall = async (method: 'GET' | 'POST', pathname: string): Promise<WalletQr> => {
    const response = await fetch(`${walletSimulatorUrl}${pathname}`, { method });
    const body = (await response.json()) as WalletQr & { error?: string };
    if (!response.ok) throw new Error(`wallet simulator ${method} ${pathname}: ${response.status} ${body.error}`);
    return body;
  };

  const system: System = {
    prefix,
    topics,
    addresses,
    databases,
    walletSimulatorUrl,
    catalogue,
    inventory,
    payments,
    orders,
    delivery,
    running: (name) => processes[name].running(),
    start: (name) => processes[name].start(),
    async restart(name, restartOptions = {}) {
      await processes[name].stop('SIGTERM');
      await restartOptions.whileDown?.();
      await processes[name].start();
    },
    kill9: (name) => processes[name].stop('SIGKILL'),
    logs: (name) => processes[name].logs(),
    async stop() {
      process.removeListener('exit', killAll);
      await collector.stop().catch(() => undefined);
      for (const c of Object.values(raw)) c.close();
      // Orders first: it calls the others while it winds down.
      await processes.orders.stop('SIGTERM');
      await Promise.all(upstream.map((s) => processes[s].stop('SIGTERM')));
      for (const db of Object.values(databases))
        await mongo
          .db(db)
          .dropDatabase()
          .catch(() => undefined);
      await mongo.close();
    },

    async createLocations() {
      const store = (name: string, point: { latitude: number; longitude: number }, addressLine: string) =>
        sampleLocation(name, LocationKind.LOCATION_KIND_STORE, point, { addressLine, sameDayRadiusM: 8000 });
      const storeA = store('Nanjing Road store', { latitude: 31.2336, longitude: 121.4752 }, '100 Nanjing East Road');
      const storeB = store('Xintiandi store', { latitude: 31.2197, longitude: 121.475 }, '123 Xingye Road');
      const warehouse = sampleLocation(
        'Huangpu warehouse',
        LocationKind.LOCATION_KIND_WAREHOUSE,
        {
          latitude: 31.21,
          longitude: 121.49,
        },
        { addressLine: '8 Zhongshan South Road' },
      );
      await inventory.createLocation({ locationId: LOCATIONS.warehouse, location: warehouse });
      await inventory.createLocation({ locationId: LOCATIONS.storeA, location: storeA });
      await inventory.createLocation({ locationId: LOCATIONS.storeB, location: storeB });
    },

    async createProduct(name, skus) {
      const cny = (minor: number) => ({ currencyCode: 'CNY', amountMinor: String(minor) });
      let { product } = await catalogue.createProduct({
        requestId: randomUUID(),
        product: {
          name,
          description: `${name}, for the end-to-end tests`,
          brand: 'Hill Garden',
          categories: ['food/tea'],
          attributes: {},
          imageUrls: [],
          skus: skus.map((s) => ({
            code: s.code,
            name: s.code,
            attributes: {},
            prices: [{ channel: PriceChannel.PRICE_CHANNEL_ONLINE, price: cny(s.online) }],
            sellableChannels: [
              SalesChannel.SALES_CHANNEL_ONLINE,
              SalesChannel.SALES_CHANNEL_IN_STORE,
              SalesChannel.SALES_CHANNEL_STORE_KIOSK,
            ],
            barcode: '',
            imageUrls: [],
          })),
        },
      });
      for (const s of skus) {
        ({ product } = await catalogue.setPrice({
          requestId: randomUUID(),
          productId: product!.id,
          expectedVersion: product!.version,
          skuCode: s.code,
          channel: PriceChannel.PRICE_CHANNEL_STORE,
          price: cny(s.store),
        }));
      }
      ({ product } = await catalogue.activateProduct({
        requestId: randomUUID(),
        productId: product!.id,
        expectedVersion: product!.version,
      }));
      return product!;
    },

    async waitForSkus(codes) {
      await Promise.all(
        codes.map((code) =>
          waitFor(
            async () => {
              try {
                await inventory.getStock({ skuCode: code, locationId: LOCATIONS.warehouse });
                return true;
              } catch (error) {
                if (statusOf(error).code === Number(status.NOT_FOUND)) return false;
                throw error;
              }
            },
            { what: `inventory to learn SKU ${code} from the catalogue`, timeoutMs: 30_000, intervalMs: 150 },
          ),
        ),
      );
    },

    async receive(skuCode, locationId, quantity) {
      const request = {
        requestId: randomUUID(),
        skuCode,
        locationId,
        reason: AdjustmentReason.ADJUSTMENT_REASON_RECEIPT,
        quantity: String(quantity),
        note: 'e2e receipt',
      };
      // A repeat of the same request id is applied once, so retrying while the SKU is still unknown is safe.
      const { stock } = await waitFor(
        async () => {
          try {
            return await inventory.adjustStock(request);
          } catch (error) {
            if (statusOf(error).code === Number(status.NOT_FOUND)) return undefined;
            throw error;
          }
        },
        { what: `a receipt of ${skuCode} at ${locationId}`, timeoutMs: 30_000, intervalMs: 150 },
      );
      return stock!;
    },

    async stock(skuCode, locationId) {
      return (await inventory.getStock({ skuCode, locationId })).stock!;
    },

    async publishDelivery(orderId, type, message) {
      const codec = DELIVERY_CODECS[type];
      const time = new Date();
      const value = Buffer.from(codec.encode(codec.fromPartial(message)).finish());
      const headers = toCloudEventHeaders({
        id: randomUUID(),
        type: `o2o.delivery.v1.${type}`,
        source: '/o2o/delivery',
        subject: orderId,
        time,
      });
      await publishTo(topics.delivery, [{ key: orderId, headers, value }]);
    },

    orderEvents(orderId) {
      const seen = new Set<string>();
      const records: OrderEventRecord[] = [];
      for (const m of collector.messages) {
        if (m.key !== orderId) continue;
        const id = m.headers.ce_id ?? '';
        if (seen.has(id)) continue;
        seen.add(id);
        records.push(decodeOrderEvent(m));
      }
      return records;
    },

    async paymentCount() {
      return mongo.db(databases.payments).collection('payments').countDocuments({});
    },

    wallet: {
      pay: (paymentId) => walletCall('POST', `/qr/${paymentId}/pay`),
      cancel: (paymentId) => walletCall('POST', `/qr/${paymentId}/cancel`),
      get: (paymentId) => walletCall('GET', `/qr/${paymentId}`),
      async letExpire(paymentId, timeoutMs = TEST_TIMERS.walletPayTtlMs + 15_000) {
        await waitFor(
          async () =>
            (await payments.getPayment({ paymentId })).payment?.status === PaymentStatus.PAYMENT_STATUS_EXPIRED,
          { what: `payment ${paymentId} to expire`, timeoutMs, intervalMs: 200 },
        );
      },
    },
  };
  return system;
}

function decodeOrderEvent(m: ProbedMessage): OrderEventRecord {
  const ceType = m.headers.ce_type ?? '';
  const type = ceType.startsWith('o2o.orders.v1.') ? ceType.slice('o2o.orders.v1.'.length) : ceType;
  const codec = ORDER_EVENT_CODECS[type as OrderEventType] as Codec<unknown> | undefined;
  const payload = (codec ? codec.decode(new Uint8Array(m.value)) : {}) as Record<string, unknown>;
  return {
    type,
    key: m.key,
    headers: m.headers,
    order: payload.order as Order | undefined,
    groupId: payload.groupId as string | undefined,
    reason: payload.reason as string | undefined,
    returnId: payload.returnId as string | undefined,
    payload,
  };
}
