// Inventory fed by the real catalogue: both services run (in this process) against the same Kafka topics; a product
// created through the catalogue's gRPC API becomes stockable in inventory, and once discontinued it cannot be held.
import { randomUUID } from 'node:crypto';
import { credentials, status } from '@grpc/grpc-js';
import { start as startCatalogue, type CatalogueService } from '@o2o/catalogue/main';
import { loadConfig as loadCatalogueConfig } from '@o2o/catalogue/config';
import {
  CatalogueServiceClient,
  CatalogueServiceService,
  PriceChannel,
  SalesChannel,
} from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import { AdjustmentReason } from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { asyncClient } from '@o2o/kit-grpc';
import { createLogger } from '@o2o/kit-log';
import { testInfra, uniqueName, waitFor } from '@o2o/kit-testing';
import { type Harness, refusal, startHarness, statusOf } from './harness';

let h: Harness;
let catalogue: CatalogueService;
let rawCatalogueClient: CatalogueServiceClient;
const STORE = 'gz-tianhe';

beforeAll(async () => {
  h = await startHarness();
  await h.addLocation(STORE, { name: 'Tianhe store', point: { latitude: 23.1291, longitude: 113.2644 } });
  const infra = testInfra();
  catalogue = await startCatalogue(
    loadCatalogueConfig({
      GRPC_PORT: '0',
      MONGO_URL: infra.mongoUrl,
      MONGO_DB: uniqueName('cat'),
      KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: h.config.KAFKA_TOPIC_PREFIX,
      OUTBOX_POLL_INTERVAL_MS: '100',
      LOG_LEVEL: 'warn',
    }),
    { logger: createLogger({ service: 'catalogue-test', level: 'warn' }) },
  );
  rawCatalogueClient = new CatalogueServiceClient(`127.0.0.1:${catalogue.port}`, credentials.createInsecure());
});
afterAll(async () => {
  rawCatalogueClient?.close();
  await catalogue?.stop();
  await h?.close();
});

it('a SKU created in the catalogue becomes stockable; discontinued, it can no longer be held', async () => {
  const client = asyncClient(rawCatalogueClient, CatalogueServiceService);
  const code = `OOLONG-${randomUUID().slice(0, 8)}`;
  const { product } = await client.createProduct({
    requestId: randomUUID(),
    product: {
      name: 'Tieguanyin oolong',
      description: '',
      brand: 'Anxi',
      categories: ['food/tea'],
      attributes: {},
      imageUrls: [],
      skus: [
        {
          code,
          name: '250 g',
          attributes: {},
          prices: [{ channel: PriceChannel.PRICE_CHANNEL_STORE, price: { currencyCode: 'CNY', amountMinor: '12800' } }],
          sellableChannels: [SalesChannel.SALES_CHANNEL_IN_STORE],
          barcode: '',
          imageUrls: [],
        },
      ],
    },
  });

  // Until inventory has read ProductCreated from Kafka the SKU is unknown (NOT_FOUND); then the receipt is booked.
  const receipt = {
    requestId: randomUUID(),
    skuCode: code,
    locationId: STORE,
    reason: AdjustmentReason.ADJUSTMENT_REASON_RECEIPT,
    quantity: '6',
    note: '',
  };
  const booked = await waitFor(
    async () => {
      try {
        return await h.client.adjustStock(receipt);
      } catch (error) {
        if (statusOf(error).code === Number(status.NOT_FOUND)) return undefined;
        throw error;
      }
    },
    { what: 'inventory to learn the SKU from the catalogue', timeoutMs: 30_000 },
  );
  expect(booked.stock?.available).toBe('6');
  const line = { skuCode: code, locationId: STORE, quantity: '2' };
  await h.client.reserve({ holdId: randomUUID(), ownerId: 'order-1', lines: [line], expireTime: undefined });

  await client.discontinueProduct({
    requestId: randomUUID(),
    productId: product?.id ?? '',
    expectedVersion: product?.version ?? '0',
    reason: 'end of season',
  });
  await waitFor(async () => (await h.db.collection('skus').findOne({ _id: code } as object))?.discontinued === true, {
    what: 'inventory to learn that the SKU is discontinued',
    timeoutMs: 30_000,
  });
  const refused = await refusal(
    h.client.reserve({ holdId: randomUUID(), ownerId: 'order-2', lines: [line], expireTime: undefined }),
  );
  expect(refused.details).toContain('discontinued');
  expect(refused.code).toBe(status.FAILED_PRECONDITION);
  expect((await h.client.getStock({ skuCode: code, locationId: STORE })).stock).toMatchObject({
    onHand: '6',
    held: '2',
    available: '4',
  });
});
