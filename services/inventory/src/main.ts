import { reflectionDescriptorSets } from '@o2o/contracts';
import { kafkaSasl } from '@o2o/kit-config';
import { runService, serveService, startPeriodic } from '@o2o/kit-grpc';
import { createKafkaClient } from '@o2o/kit-kafka';
import { createLogger, type Logger } from '@o2o/kit-log';
import { connectMongo } from '@o2o/kit-mongo';
import { startEventPipeline } from '@o2o/kit-outbox';
import { sweepHolds } from './app/hold-lifecycle';
import type { InventoryDeps } from './app/ports';
import type { InventoryConfig } from './config';
import { INVENTORY_TOPIC, inventoryEventEncoder } from './adapters/event-encoder';
import { inventoryMetrics } from './adapters/inventory-metrics';
import { inventoryGrpcService, type WrittenDocuments } from './adapters/grpc-server';
import { CATALOGUE_TOPIC, catalogueEventHandler } from './adapters/kafka-catalogue-consumer';
import { mongoHoldRepository } from './adapters/mongo-hold-repository';
import { mongoLocationRepository } from './adapters/mongo-location-repository';
import { mongoSkuRegistry } from './adapters/mongo-sku-registry';
import { mongoStockRepository } from './adapters/mongo-stock-repository';

/** What one sweeper pass did. */
type SweepResult = Awaited<ReturnType<typeof sweepHolds>>;

/** A running inventory service. */
export interface InventoryService {
  port: number;
  logger: Logger;
  /** The topic its events go to. */
  topic: string;
  /** Runs one sweeper pass now (tests use it instead of waiting for the interval). */
  sweep(): Promise<SweepResult>;
  /** Graceful stop: health NOT_SERVING, drain calls, stop the sweeper, consumer and relays, close Kafka and the database. */
  stop(): Promise<void>;
}

/** Composition root: builds and starts everything by hand. Tests call it with port 0. */
export async function start(
  config: Readonly<InventoryConfig>,
  options: { logger?: Logger } = {},
): Promise<InventoryService> {
  const logger = options.logger ?? createLogger({ service: 'inventory', level: config.LOG_LEVEL });
  const connection = await connectMongo({
    url: config.MONGO_URL,
    dbName: config.MONGO_DB,
    appName: 'o2o-inventory',
    logger,
  });
  const topic = `${config.KAFKA_TOPIC_PREFIX}${INVENTORY_TOPIC}`;
  const catalogueTopic = `${config.KAFKA_TOPIC_PREFIX}${CATALOGUE_TOPIC}`;
  const encode = inventoryEventEncoder(topic);
  const locations = mongoLocationRepository(connection);
  const stock = mongoStockRepository(connection, encode);
  const holds = mongoHoldRepository(connection, encode);
  const skus = mongoSkuRegistry(connection);
  await Promise.all([locations.ensureIndexes(), stock.ensureIndexes(), holds.ensureIndexes()]);
  // Business metrics wrap the repositories, so every use case (gRPC, sweeper) is counted the same way.
  const metrics = inventoryMetrics();
  const deps: InventoryDeps = {
    locations,
    stock: metrics.stock(stock),
    holds: metrics.holds(holds),
    skus,
    clock: { now: () => new Date() },
  };
  const backlogGauges = metrics.startBacklogGauges(connection, { maxAgeMs: config.METRICS_QUERY_INTERVAL_MS });

  const events = startEventPipeline({
    kafka: createKafkaClient({
      clientId: config.KAFKA_CLIENT_ID,
      brokers: config.KAFKA_BROKERS,
      logger,
      sasl: kafkaSasl(config),
      ssl: config.KAFKA_SSL,
    }),
    topics: [
      { topic, partitions: config.KAFKA_TOPIC_PARTITIONS },
      // Created here too should inventory start before the catalogue ever did; same count everywhere.
      { topic: catalogueTopic, partitions: config.KAFKA_TOPIC_PARTITIONS },
    ],
    outboxes: [connection.collection('stock'), connection.collection('holds')],
    consumers: [
      {
        groupId: config.KAFKA_GROUP_ID,
        topics: [catalogueTopic],
        fromBeginning: true,
        handle: catalogueEventHandler(skus, logger),
      },
    ],
    logger,
    pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
  });
  let lastSweep: SweepResult = { expired: 0, recovered: 0, settled: 0, archived: 0 };
  const sweeper = startPeriodic(
    'hold-sweeper',
    config.HOLD_SWEEP_INTERVAL_MS,
    async () => {
      lastSweep = await sweepHolds(deps);
      metrics.swept(lastSweep);
      const { expired, recovered, settled } = lastSweep;
      const changed = expired + recovered + settled;
      if (changed > 0) events.kick();
      return changed;
    },
    logger,
  );

  // Naming the documents written lets each relay read them by _id instead of scanning its collection.
  const afterWrite = (written?: WrittenDocuments) => {
    if (!written) return events.kick();
    if (written.holds?.length) events.kick({ collection: 'holds', ids: written.holds });
    if (written.stock?.length) events.kick({ collection: 'stock', ids: written.stock });
  };
  const server = await serveService({
    services: (inFlight) => [inventoryGrpcService({ ...deps, logger, inFlight, afterWrite })],
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    logger,
    descriptorSets: reflectionDescriptorSets(),
    shutdown: { drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS, graceMs: config.SHUTDOWN_GRACE_MS },
    afterStop: async () => {
      await sweeper.stop();
      await events.stop();
      backlogGauges.stop();
      await connection.close();
    },
  });
  const stop = server.stop;

  // A pass on demand (tests), queued behind any periodic pass, never beside it.
  const sweep = async () => {
    await sweeper.runNow();
    return lastSweep;
  };
  return { port: server.port, logger, topic, sweep, stop };
}

/** Process entry: stop gracefully on SIGTERM/SIGINT, then run `onStopped` (telemetry flush). */
export function run(config: Readonly<InventoryConfig>, onStopped?: () => Promise<void>): void {
  const logger = createLogger({ service: 'inventory', level: config.LOG_LEVEL });
  runService(() => start(config, { logger }), logger, onStopped);
}
