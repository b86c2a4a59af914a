// Webhooks under test: the real module (startWebhooks) against the real Kafka and database, with a unique topic
// prefix, database and consumer group per run, a real HTTP receiver on 127.0.0.1 that checks every signature with
// verifyWebhookSignature, and publishers of real protobuf events with the CloudEvents headers services write.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as catalogueEvents from '@o2o/contracts/gen/o2o/catalogue/v1/events';
import { PriceChannel } from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import * as deliveryEvents from '@o2o/contracts/gen/o2o/delivery/v1/events';
import * as orderEvents from '@o2o/contracts/gen/o2o/orders/v1/events';
import { Channel, type Order } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import * as paymentEvents from '@o2o/contracts/gen/o2o/payments/v1/events';
import type { Principal } from '@o2o/kit-grpc';
import { createKafkaClient, type KafkaClient, toCloudEventHeaders } from '@o2o/kit-kafka';
import { createLogger } from '@o2o/kit-log';
import { type ProbedMessage, publishTo, testInfra, uniqueName } from '@o2o/kit-testing';
import { type Db, MongoClient } from 'mongodb';
import { startWebhooks, type Webhooks, webhookConfigFromEnv } from '../src/webhooks';
import type { OrderFacts } from '../src/webhooks/model';
import { verifyWebhookSignature, type VerifyResult } from '../src/webhooks/signing';

/** Principals of the tests. */
export const partner = (subject: string, storeIds: string[] = []): Principal => ({
  role: 'partner',
  subject,
  storeIds,
  scopes: ['webhooks:write'],
});
export const ADMIN: Principal = { role: 'admin', subject: 'ops-1', storeIds: [], scopes: [] };
export const SHOPPER: Principal = { role: 'shopper', subject: 'c-1', storeIds: [], scopes: [] };

/** The webhook settings of the tests: fast retries, a fast poll and cache, loopback receivers allowed. */
export const TEST_ENV = {
  WEBHOOK_RETRY_BASE_MS: '100',
  WEBHOOK_RETRY_MAX_MS: '400',
  WEBHOOK_MAX_ATTEMPTS: '4',
  WEBHOOK_ATTEMPT_TIMEOUT_MS: '1000',
  WEBHOOK_POLL_INTERVAL_MS: '50',
  WEBHOOK_CACHE_REFRESH_MS: '200',
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  WEBHOOK_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
};

/** What a test runs against. */
export interface WebhooksHarness {
  webhooks: Webhooks;
  db: Db;
  prefix: string;
  /** Order facts the injected lookupOrder answers with (GetOrder of the orders service in production). */
  orders: Map<string, OrderFacts>;
  lookups: string[];
  /** Another gateway replica: same database, topics and consumer group (stopped with the harness). */
  replica(): Promise<Webhooks>;
  stop(): Promise<void>;
}

/** Starts webhooks on a fresh database, topic prefix and consumer group; `env` overrides TEST_ENV. */
export async function startHarness(env: Record<string, string> = {}): Promise<WebhooksHarness> {
  const infra = testInfra();
  const prefix = `${uniqueName('wh')}.`;
  const client = await new MongoClient(infra.mongoUrl, {
    retryWrites: false,
    serverSelectionTimeoutMS: 10_000,
  }).connect();
  const db = client.db(uniqueName('gw_wh').slice(0, 60));
  const logger = createLogger({ service: 'gateway', level: (process.env.WH_LOG ?? 'warn') as 'warn' });
  // kafkajs reports every rebalance (a replica joining) at error level: quiet unless asked for.
  const kafkaLogger = createLogger({ service: 'gateway', level: (process.env.WH_LOG ?? 'fatal') as 'fatal' });
  const kafka: KafkaClient = createKafkaClient({
    clientId: uniqueName('gw'),
    brokers: infra.kafkaBrokers,
    logger: kafkaLogger,
  });
  const orders = new Map<string, OrderFacts>();
  const lookups: string[] = [];
  const config = webhookConfigFromEnv({ ...TEST_ENV, WEBHOOK_GROUP_ID: uniqueName('gw-webhooks'), ...env });
  const lookupOrder = async (orderId: string) => {
    lookups.push(orderId);
    return orders.get(orderId);
  };
  const start = async () => {
    const started = await startWebhooks({ db, kafka, topicPrefix: prefix, partitions: 6, config, logger, lookupOrder });
    await started.ready;
    return started;
  };
  const webhooks = await start();
  const replicas: Webhooks[] = [];
  return {
    webhooks,
    db,
    prefix,
    orders,
    lookups,
    async replica() {
      const replica = await start();
      replicas.push(replica);
      return replica;
    },
    async stop() {
      for (const replica of replicas) await replica.stop();
      await webhooks.stop();
      await kafka.close();
      await client.close();
    },
  };
}

/** One request the receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; subject: string; data: Record<string, unknown>; [k: string]: unknown };
  /** The signature checked with the receiver's secrets at arrival. */
  verified: VerifyResult;
  /** What the receiver answered. */
  status: number;
  at: number;
}

/** A partner's endpoint on 127.0.0.1. */
export interface Receiver {
  url: string;
  port: number;
  /** The secrets it verifies with (set after create/rotate). */
  secrets: string[];
  requests: Received[];
  /** Decides the answer to each request (default 204); runs after the request is recorded. */
  respond: (request: Received, all: Received[]) => number;
  /** Successful requests only, in arrival order. */
  delivered(): Received[];
  /** Closes the port (connections refused) until {@link Receiver.up}. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1, port 0 (or the given port). */
export async function startReceiver(port = 0): Promise<Receiver> {
  let server: Server | undefined;
  const receiver: Receiver = {
    url: '',
    port,
    secrets: [],
    requests: [],
    respond: () => 204,
    delivered: () => receiver.requests.filter((r) => r.status >= 200 && r.status < 300),
    async down() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    },
    async up() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const header = req.headers['o2o-signature'];
          const received: Received = {
            headers: req.headers,
            body,
            event: JSON.parse(body) as Received['event'],
            verified: verifyWebhookSignature({
              secrets: receiver.secrets,
              header: typeof header === 'string' ? header : undefined,
              body,
            }),
            status: 0,
            at: Date.now(),
          };
          receiver.requests.push(received);
          received.status = received.verified.ok ? receiver.respond(received, receiver.requests) : 401;
          res.writeHead(received.status).end();
        });
      });
      const s = server;
      await new Promise<void>((resolve) => s.listen(receiver.port, '127.0.0.1', resolve));
      receiver.port = (s.address() as AddressInfo).port;
      receiver.url = `http://127.0.0.1:${receiver.port}/hooks`;
    },
    close: () => receiver.down(),
  };
  await receiver.up();
  return receiver;
}

/** Builds an order as orders events carry it. */
export function orderOf(
  id: string,
  who: { partnerId?: string; storeId?: string; locationIds?: string[]; channel?: Channel; customerId?: string },
): Order {
  return orderEvents.OrderConfirmed.fromPartial({
    order: {
      id,
      channel: who.channel ?? (who.partnerId ? Channel.CHANNEL_MARKETPLACE : Channel.CHANNEL_WEB),
      customerId: who.customerId ?? 'cust-1',
      storeId: who.storeId ?? '',
      marketplace: who.partnerId ? { partnerId: who.partnerId, externalOrderId: `ext-${id}` } : undefined,
      groups: (who.locationIds ?? ['wh-1']).map((locationId, i) => ({ id: `g${i + 1}`, locationId })),
      version: '1',
    },
  }).order as Order;
}

/** A Kafka message of an event, with the headers the services' outbox writes. */
function message(type: string, key: string, value: Uint8Array, options: { id?: string; subject?: string } = {}) {
  const domain = type.split('.')[1] ?? '';
  return {
    key,
    headers: toCloudEventHeaders({
      id: options.id ?? randomUUID(),
      type,
      source: `/o2o/${domain}`,
      subject: options.subject ?? key,
      time: new Date(),
    }),
    value: Buffer.from(value),
  } satisfies ProbedMessage;
}

/** The orders events the tests publish, in lifecycle order. */
export const ORDER_FLOW = [
  'OrderConfirmed',
  'OrderInFulfillment',
  'OrderShipped',
  'OrderDelivered',
  'OrderCompleted',
] as const;
export type OrderEventType = (typeof ORDER_FLOW)[number];

/** An orders event message (each carries the whole order); `id` reuses a CloudEvent id (a redelivery). */
export function orderMessage(type: OrderEventType, order: Order, id?: string) {
  const groupId = 'g1';
  const value =
    type === 'OrderConfirmed'
      ? orderEvents.OrderConfirmed.encode({ order }).finish()
      : type === 'OrderInFulfillment'
        ? orderEvents.OrderInFulfillment.encode({ order, groupId }).finish()
        : type === 'OrderShipped'
          ? orderEvents.OrderShipped.encode({ order, groupId }).finish()
          : type === 'OrderDelivered'
            ? orderEvents.OrderDelivered.encode({ order, groupId }).finish()
            : orderEvents.OrderCompleted.encode({ order }).finish();
  return message(`o2o.orders.v1.${type}`, order.id, value, id ? { id } : {});
}

/** A delivery event (Delivered) for an order. */
export function deliveredMessage(orderId: string) {
  const value = deliveryEvents.Delivered.encode({
    ref: { orderId, groupId: 'g1', locationId: 'wh-1' },
    shipmentId: `sh-${orderId}`,
    time: new Date(),
  }).finish();
  return message('o2o.delivery.v1.Delivered', orderId, value);
}

/** A payments event (PaymentCaptured) for an order: keyed by order id, ce_subject the payment id. */
export function paymentCapturedMessage(orderId: string) {
  const value = paymentEvents.PaymentCaptured.encode({
    payment: paymentEvents.PaymentCaptured.fromPartial({ payment: { id: `pay-${orderId}`, orderId } }).payment,
    amount: { currencyCode: 'CNY', amountMinor: '1999' },
  }).finish();
  return message('o2o.payments.v1.PaymentCaptured', orderId, value, { subject: `pay-${orderId}` });
}

/** A catalogue event (PriceChanged) for a product. */
export function priceChangedMessage(productId: string) {
  const value = catalogueEvents.PriceChanged.encode({
    productId,
    skuCode: 'TEA-1',
    channel: PriceChannel.PRICE_CHANNEL_ONLINE,
    previousPrice: undefined,
    price: { currencyCode: 'CNY', amountMinor: '1999' },
    productVersion: '2',
  }).finish();
  return message('o2o.catalogue.v1.PriceChanged', productId, value);
}

/** Publishes messages to a domain's topic under the harness's prefix, in order. */
export async function publish(
  h: WebhooksHarness,
  domain: 'orders' | 'delivery' | 'payments' | 'catalogue',
  messages: ProbedMessage[],
): Promise<void> {
  await publishTo(`${h.prefix}o2o.${domain}.v1`, messages);
}

/** The CloudEvent id of a message. */
export const idOf = (m: ProbedMessage): string => m.headers.ce_id ?? '';

/** Waits `ms`. */
export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
