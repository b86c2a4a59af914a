import { reflectionDescriptorSets } from '@o2o/contracts';
import { kafkaSasl } from '@o2o/kit-config';
import { runService, serveService } from '@o2o/kit-grpc';
import { createKafkaClient } from '@o2o/kit-kafka';
import { createLogger, type Logger } from '@o2o/kit-log';
import { connectMongo } from '@o2o/kit-mongo';
import { startEventPipeline } from '@o2o/kit-outbox';
import type { CatalogueConfig } from './config';
import { CATALOGUE_TOPIC, catalogueEventEncoder } from './adapters/event-encoder';
import { catalogueGrpcService } from './adapters/grpc-server';
import { mongoProductRepository } from './adapters/mongo-product-repository';

/** A running catalogue service. */
export interface CatalogueService {
  port: number;
  logger: Logger;
  /** The topic its events go to. */
  topic: string;
  /** Graceful stop: health NOT_SERVING, drain calls, stop the relay, close Kafka and the database. */
  stop(): Promise<void>;
}

/** Composition root: builds and starts everything by hand. Tests call it with port 0. */
export async function start(
  config: Readonly<CatalogueConfig>,
  options: { logger?: Logger } = {},
): Promise<CatalogueService> {
  const logger = options.logger ?? createLogger({ service: 'catalogue', level: config.LOG_LEVEL });
  const connection = await connectMongo({
    url: config.MONGO_URL,
    dbName: config.MONGO_DB,
    appName: 'o2o-catalogue',
    logger,
  });
  const topic = `${config.KAFKA_TOPIC_PREFIX}${CATALOGUE_TOPIC}`;
  const products = mongoProductRepository(connection, catalogueEventEncoder(topic));
  await products.ensureIndexes();

  const events = startEventPipeline({
    kafka: createKafkaClient({
      clientId: config.KAFKA_CLIENT_ID,
      brokers: config.KAFKA_BROKERS,
      logger,
      sasl: kafkaSasl(config),
      ssl: config.KAFKA_SSL,
    }),
    topics: [{ topic, partitions: config.KAFKA_TOPIC_PARTITIONS }],
    outboxes: [connection.collection('products')],
    logger,
    pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
  });

  const server = await serveService({
    services: (inFlight) => [
      catalogueGrpcService({
        products,
        clock: { now: () => new Date() },
        logger,
        inFlight,
        afterWrite: (id) => events.kick({ collection: 'products', ids: [id] }),
      }),
    ],
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    logger,
    descriptorSets: reflectionDescriptorSets(),
    shutdown: { drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS, graceMs: config.SHUTDOWN_GRACE_MS },
    afterStop: async () => {
      await events.stop();
      await connection.close();
    },
  });
  const stop = server.stop;

  return { port: server.port, logger, topic, stop };
}

/** Process entry: stop gracefully on SIGTERM/SIGINT, then run `onStopped` (telemetry flush). */
export function run(config: Readonly<CatalogueConfig>, onStopped?: () => Promise<void>): void {
  const logger = createLogger({ service: 'catalogue', level: config.LOG_LEVEL });
  runService(() => start(config, { logger }), logger, onStopped);
}
