// Boots the real inventory in-process on port 0 against the real Kafka and database, with a real grpc-js client.
// The catalogue's events are published to the (prefixed) catalogue topic exactly as the catalogue publishes them.
import { randomUUID } from 'node:crypto';
import { credentials } from '@grpc/grpc-js';
import {
  AdjustmentReason,
  InventoryServiceClient,
  InventoryServiceService,
  type LocationInput,
  LocationKind,
  LocationStatus,
} from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { asyncClient, type AsyncClient } from '@o2o/kit-grpc';
import { createLogger } from '@o2o/kit-log';
import { publishTo, testInfra, uniqueName, waitFor } from '@o2o/kit-testing';
import mongoose from 'mongoose';
import { catalogueAnnouncement } from '../src/bench/catalogue-announcements';
import { loadConfig, type InventoryConfig } from '../src/config';
import { type InventoryService, start } from '../src/main';

export { collectTopic, refusal, statusOf } from '@o2o/kit-testing';

/** A started inventory, its client, and handles on its database and topics. */
export interface Harness {
  service: InventoryService;
  client: AsyncClient<typeof InventoryServiceService>;
  config: Readonly<InventoryConfig>;
  db: mongoose.Connection;
  /** Announces products with these SKU codes on the catalogue topic and waits until inventory knows them. */
  announceSkus(codes: string[], options?: { discontinued?: boolean }): Promise<void>;
  /** Creates an open location (a store near People's Square, Shanghai, unless overridden). */
  addLocation(id: string, overrides?: Partial<LocationInput>): Promise<void>;
  /** Books a receipt of `quantity` units. */
  receive(skuCode: string, locationId: string, quantity: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts an inventory with its own database, topic prefix and consumer group. */
export async function startHarness(overrides: Record<string, string> = {}): Promise<Harness> {
  const infra = testInfra();
  const prefix = `${uniqueName('t')}.`;
  const config = loadConfig({
    GRPC_PORT: '0',
    MONGO_URL: infra.mongoUrl,
    MONGO_DB: uniqueName('inv'),
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_GROUP_ID: uniqueName('inv'),
    LOG_LEVEL: 'warn',
    OUTBOX_POLL_INTERVAL_MS: '100',
    HOLD_SWEEP_INTERVAL_MS: '60000',
    ...overrides,
  });
  const service = await start(config, { logger: createLogger({ service: 'inventory-test', level: 'warn' }) });
  const raw = new InventoryServiceClient(`127.0.0.1:${service.port}`, credentials.createInsecure());
  const client = asyncClient(raw, InventoryServiceService);
  const db = await mongoose.createConnection(config.MONGO_URL, { dbName: config.MONGO_DB }).asPromise();
  const catalogueTopic = `${prefix}o2o.catalogue.v1`;
  return {
    service,
    client,
    config,
    db,
    async announceSkus(codes, options = {}) {
      await publishTo(catalogueTopic, [catalogueAnnouncement(`prd_${randomUUID()}`, codes, options)]);
      await waitFor(
        async () => {
          const docs = await db
            .collection('skus')
            .find({ _id: { $in: codes } } as object)
            .toArray();
          return docs.length === codes.length && docs.every((d) => d.discontinued === Boolean(options.discontinued));
        },
        { what: `inventory to learn SKUs ${codes.join(', ')}`, timeoutMs: 30_000 },
      );
    },
    async addLocation(id, overrides = {}) {
      await client.createLocation({ locationId: id, location: locationInput(overrides) });
    },
    async receive(skuCode, locationId, quantity) {
      await client.adjustStock({
        requestId: randomUUID(),
        skuCode,
        locationId,
        reason: AdjustmentReason.ADJUSTMENT_REASON_RECEIPT,
        quantity: String(quantity),
        note: '',
      });
    },
    async close() {
      raw.close();
      await service.stop();
      await db.dropDatabase().catch(() => undefined);
      await db.close();
    },
  };
}

/** An open store near People's Square, Shanghai, that ships parcels, offers pick-up and delivers same day within 5 km. */
export function locationInput(overrides: Partial<LocationInput> = {}): LocationInput {
  return {
    name: 'Nanjing Road store',
    kind: LocationKind.LOCATION_KIND_STORE,
    point: { latitude: 31.2336, longitude: 121.4752 },
    address: {
      lines: ['100 Nanjing East Road'],
      district: 'Huangpu',
      city: 'Shanghai',
      region: 'Shanghai',
      postalCode: '200001',
      countryCode: 'CN',
      location: undefined,
    },
    timeZone: 'Asia/Shanghai',
    openingHours: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, opens: '10:00', closes: '22:00' })),
    capabilities: { shipsParcels: true, storePickup: true, sameDayRadiusM: 5000, acceptsReturns: true },
    status: LocationStatus.LOCATION_STATUS_OPEN,
    ...overrides,
  };
}

/** A unique SKU code for one test. */
export function skuCode(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}
