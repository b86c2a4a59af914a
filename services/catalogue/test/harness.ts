// Boots the real catalogue in-process on port 0 against the real Kafka and database, with a real grpc-js client.
import { credentials, type Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  CatalogueServiceClient,
  CatalogueServiceService,
  type ProductInput,
  PriceChannel,
  SalesChannel,
} from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import { asyncClient, type AsyncClient } from '@o2o/kit-grpc';
import { createLogger } from '@o2o/kit-log';
import { testInfra, uniqueName } from '@o2o/kit-testing';
import { Kafka, logLevel } from 'kafkajs';
import mongoose from 'mongoose';
import { loadConfig, type CatalogueConfig } from '../src/config';
import { type CatalogueService, start } from '../src/main';

/** A started catalogue, its client, and handles on its database and topic. */
export interface Harness {
  service: CatalogueService;
  client: AsyncClient<typeof CatalogueServiceService>;
  config: Readonly<CatalogueConfig>;
  countProducts(): Promise<number>;
  pendingOutbox(): Promise<number>;
  close(): Promise<void>;
}

/** Starts a catalogue with its own database and topic prefix. */
export async function startHarness(overrides: Record<string, string> = {}): Promise<Harness> {
  const infra = testInfra();
  const config = loadConfig({
    GRPC_PORT: '0',
    MONGO_URL: infra.mongoUrl,
    MONGO_DB: uniqueName('cat'),
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
    LOG_LEVEL: 'warn',
    OUTBOX_POLL_INTERVAL_MS: '100',
    ...overrides,
  });
  const service = await start(config, { logger: createLogger({ service: 'catalogue-test', level: 'warn' }) });
  const raw = new CatalogueServiceClient(`127.0.0.1:${service.port}`, credentials.createInsecure());
  const client = asyncClient(raw, CatalogueServiceService);
  const db = await mongoose.createConnection(config.MONGO_URL, { dbName: config.MONGO_DB }).asPromise();
  return {
    service,
    client,
    config,
    countProducts: () => db.collection('products').countDocuments({}),
    pendingOutbox: () => db.collection('products').countDocuments({ 'outbox.0': { $exists: true } }),
    async close() {
      raw.close();
      await service.stop();
      await db.dropDatabase().catch(() => undefined);
      await db.close();
    },
  };
}

/** A valid product input with one SKU priced online and in store. */
export function productInput(code: string, overrides: Partial<ProductInput> = {}): ProductInput {
  return {
    name: `Jasmine tea ${code}`,
    description: 'Loose leaf',
    brand: 'Hill Garden',
    categories: ['food/tea'],
    attributes: { origin: 'Fujian' },
    imageUrls: ['https://img.example.test/tea.png'],
    skus: [
      {
        code,
        name: '100 g',
        attributes: { weight: '100g' },
        prices: [
          { channel: PriceChannel.PRICE_CHANNEL_ONLINE, price: { currencyCode: 'CNY', amountMinor: '3900' } },
          { channel: PriceChannel.PRICE_CHANNEL_STORE, price: { currencyCode: 'CNY', amountMinor: '4200' } },
        ],
        sellableChannels: [SalesChannel.SALES_CHANNEL_ONLINE, SalesChannel.SALES_CHANNEL_IN_STORE],
        barcode: '',
        imageUrls: [],
      },
    ],
    ...overrides,
  };
}

/** A plain kafkajs consumer (not the project's wrapper) collecting every message of a topic from the beginning. */
export async function collectTopic(topic: string) {
  const kafka = new Kafka({
    clientId: uniqueName('probe'),
    brokers: testInfra().kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: uniqueName('probe') });
  const messages: { key: string; headers: Record<string, string>; value: Buffer }[] = [];
  // The service creates its topic in the background; make sure it exists before subscribing (idempotent).
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
  await admin.disconnect();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      messages.push({ key: String(message.key), headers, value: message.value ?? Buffer.alloc(0) });
    },
  });
  return { messages, stop: () => consumer.disconnect() };
}

/** The gRPC status and field violations of a failed call. */
export function statusOf(error: unknown): { code: number; details: string; metadata: Metadata | undefined } {
  const e = error as ServiceError;
  return { code: e.code, details: e.details, metadata: e.metadata };
}

/** The status of a call that must fail; a success fails the test. */
export async function refusal(call: Promise<unknown>): Promise<ReturnType<typeof statusOf>> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => statusOf(error),
  );
  if (!outcome) throw new Error('expected the call to be refused, but it succeeded');
  return outcome;
}
