// Boots the real catalogue in-process on port 0 against the real Kafka and database, with a real grpc-js client.
import { credentials } from '@grpc/grpc-js';
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

export { collectTopic, refusal, statusOf } from '@o2o/kit-testing';
