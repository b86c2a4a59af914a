import { reflectionDescriptorSets } from '@o2o/contracts';
import { kafkaSasl } from '@o2o/kit-config';
import { type InFlight, runMain, startGrpcServer, stopOnSignals } from '@o2o/kit-grpc';
import { createKafkaClient, type EventConsumer, type EventProducer } from '@o2o/kit-kafka';
import { createLogger, type Logger } from '@o2o/kit-log';
import { connectMongo } from '@o2o/kit-mongo';
import { type OutboxRelay, startOutboxRelay } from '@o2o/kit-outbox';
import { sweepHolds } from './app/hold-lifecycle';
import type { InventoryDeps } from './app/ports';
import type { InventoryConfig } from './config';
import { INVENTORY_TOPIC, inventoryEventEncoder } from './adapters/event-encoder';
import { inventoryGrpcService } from './adapters/grpc-server';
import { CATALOGUE_TOPIC, catalogueEventHandler } from './adapters/kafka-catalogue-consumer';
import { mongoHoldRepository } from './adapters/mongo-hold-repository';
import { mongoLocationRepository } from './adapters/mongo-location-repository';
import { mongoSkuRegistry } from './adapters/mongo-sku-registry';
import { mongoStockRepository } from './adapters/mongo-stock-repository';

/** A running inventory service. */
export interface InventoryService {
  port: number;
  logger: Logger;
  /** The topic its events go to. */
  topic: string;
  /** Runs one sweeper pass now (tests use it instead of waiting for the interval). */
  sweep(): Promise<Awaited<ReturnType<typeof sweepHolds>>>;
  /** Graceful stop: health NOT_SERVING, drain calls, stop the sweeper, consumer and relays, close Kafka and the database. */
  stop(): Promise<void>;
}

/** Composition root: builds and starts everything by hand. Tests call it with port 0. */
export async function start(
  config: Readonly<InventoryConfig>,
  options: { logger?: Logger } = {},
): Promise<InventoryService> {
  const logger = options.logger ?? createLogger({ service: 'inventory', level: config.LOG_LEVEL });
  const connection = await connectMongo({ url: config.MONGO_URL, dbName: config.MONGO_DB, appName: 'o2o-inventory' });
  const topic = `${config.KAFKA_TOPIC_PREFIX}${INVENTORY_TOPIC}`;
  const catalogueTopic = `${config.KAFKA_TOPIC_PREFIX}${CATALOGUE_TOPIC}`;
  const encode = inventoryEventEncoder(topic);
  const locations = mongoLocationRepository(connection);
  const stock = mongoStockRepository(connection, encode);
  const holds = mongoHoldRepository(connection, encode);
  const skus = mongoSkuRegistry(connection);
  await Promise.all([locations.ensureIndexes(), stock.ensureIndexes(), holds.ensureIndexes()]);
  const deps: InventoryDeps = { locations, stock, holds, skus, clock: { now: () => new Date() } };

  const kafka = createKafkaClient({
    clientId: config.KAFKA_CLIENT_ID,
    brokers: config.KAFKA_BROKERS,
    logger,
    sasl: kafkaSasl(config),
    ssl: config.KAFKA_SSL,
  });
  const relays: OutboxRelay[] = [];
  let producer: EventProducer | undefined;
  let consumer: EventConsumer | undefined;
  let stopped = false;
  const kick = () => relays.forEach((r) => r.kick());
  // Kafka may be down at start-up: writes still succeed (their events wait in the outbox); the relays and the
  // catalogue consumer start as soon as the broker answers.
  const kafkaReady = (async () => {
    for (let delay = 500; !stopped; delay = Math.min(delay * 2, 15_000)) {
      try {
        await kafka.ensureTopics([
          { topic, partitions: config.KAFKA_TOPIC_PARTITIONS },
          // Created here too should inventory start before the catalogue ever did; same count everywhere.
          { topic: catalogueTopic, partitions: config.KAFKA_TOPIC_PARTITIONS },
        ]);
        producer = await kafka.producer();
        if (stopped) return;
        for (const name of ['stock', 'holds']) {
          relays.push(
            startOutboxRelay({
              collection: connection.collection(name),
              producer,
              logger,
              pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
            }),
          );
        }
        consumer = await kafka.consume({
          groupId: config.KAFKA_GROUP_ID,
          topics: [catalogueTopic],
          fromBeginning: true,
          handle: catalogueEventHandler(skus, logger),
        });
        logger.info({ topic, catalogueTopic }, 'outbox relays and catalogue consumer started');
        return;
      } catch (error) {
        logger.warn({ err: error, retryInMs: delay }, 'Kafka not ready; events wait in the outbox');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  })();

  const sweep = async () => {
    const result = await sweepHolds(deps);
    if (result.expired + result.recovered + result.settled > 0) {
      logger.info(result, 'hold sweeper pass');
      kick();
    }
    return result;
  };
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweeper = setInterval(() => {
    sweeping = sweeping.then(sweep).catch((error: unknown) => logger.warn({ err: error }, 'hold sweeper pass failed'));
  }, config.HOLD_SWEEP_INTERVAL_MS);

  const inFlight: InFlight = { count: 0 };
  const server = await startGrpcServer({
    services: [inventoryGrpcService({ ...deps, logger, inFlight, afterWrite: kick })],
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    logger,
    descriptorSets: reflectionDescriptorSets(),
  });
  server.setServing(true);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const { forced } = await server.stop({
        drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
        graceMs: config.SHUTDOWN_GRACE_MS,
      });
      logger.info({ forced, inFlight: inFlight.count }, 'gRPC server stopped');
      stopped = true;
      clearInterval(sweeper);
      await sweeping;
      await kafkaReady;
      await consumer?.stop();
      await Promise.all(relays.map((r) => r.stop()));
      await producer?.disconnect();
      await kafka.close();
      await connection.close();
    })());

  return { port: server.port, logger, topic, sweep, stop };
}

/** Process entry: stop gracefully on SIGTERM/SIGINT, then run `onStopped` (telemetry flush). */
export function run(config: Readonly<InventoryConfig>, onStopped?: () => Promise<void>): void {
  const bootLogger = createLogger({ service: 'inventory', level: config.LOG_LEVEL });
  runMain(async () => {
    const service = await start(config, { logger: bootLogger });
    stopOnSignals(async () => {
      await service.stop();
      await onStopped?.();
    }, service.logger);
  }, bootLogger);
}
