import { randomUUID } from 'node:crypto';
import { reflectionDescriptorSets } from '@o2o/contracts';
import { kafkaSasl } from '@o2o/kit-config';
import { runService, serveService, startPeriodic } from '@o2o/kit-grpc';
import { createKafkaClient } from '@o2o/kit-kafka';
import { createLogger, type Logger } from '@o2o/kit-log';
import { connectMongo } from '@o2o/kit-mongo';
import { startEventPipeline } from '@o2o/kit-outbox';
import type { Deps } from './app/ports';
import { recoverDue } from './app/run-tasks';
import type { OrdersConfig } from './config';
import type { OrderPolicy } from './domain/order';
import { catalogueClient } from './adapters/catalogue-client';
import { ORDERS_TOPIC, ordersEventEncoder } from './adapters/event-encoder';
import { ordersGrpcService } from './adapters/grpc-server';
import { inventoryClient } from './adapters/inventory-client';
import {
  DELIVERY_TOPIC,
  deliveryEventHandler,
  PAYMENTS_TOPIC,
  paymentsEventHandler,
} from './adapters/kafka-event-consumers';
import { mongoOrderRepository, ORDERS_COLLECTION } from './adapters/mongo-order-repository';
import { ordersMetrics } from './adapters/orders-metrics';
import { paymentsClient } from './adapters/payments-client';

/** How many orders one recovery pass resumes. */
const RECOVERY_BATCH = 50;

/** A running orders service. */
export interface OrdersService {
  port: number;
  logger: Logger;
  /** The topic its events go to. */
  topic: string;
  /** This process's name in task claims. */
  runnerId: string;
  /** Runs one recovery pass now (tests use it instead of waiting for the interval). */
  recover(): Promise<void>;
  /** Graceful stop: health NOT_SERVING, drain calls, stop recovery, consumers and relay, close clients and the database. */
  stop(): Promise<void>;
}

/** Composition root: builds and starts everything by hand. Tests call it with port 0. */
export async function start(config: Readonly<OrdersConfig>, options: { logger?: Logger } = {}): Promise<OrdersService> {
  const logger = options.logger ?? createLogger({ service: 'orders', level: config.LOG_LEVEL });
  const connection = await connectMongo({
    url: config.MONGO_URL,
    dbName: config.MONGO_DB,
    appName: 'o2o-orders',
    logger,
  });
  const topic = `${config.KAFKA_TOPIC_PREFIX}${ORDERS_TOPIC}`;
  const stored = mongoOrderRepository(connection, ordersEventEncoder(topic));
  await stored.ensureIndexes();
  const metrics = ordersMetrics();
  const gauges = metrics.startBacklogGauges(connection, { maxAgeMs: config.METRICS_QUERY_INTERVAL_MS });
  const downstream = { deadlineMs: config.DOWNSTREAM_DEADLINE_MS };
  const catalogue = catalogueClient({ address: config.CATALOGUE_ADDRESS, ...downstream });
  const inventory = inventoryClient({ address: config.INVENTORY_ADDRESS, ...downstream });
  const payments = paymentsClient({ address: config.PAYMENTS_ADDRESS, ...downstream });
  const policy: OrderPolicy = {
    placementTimeoutMs: config.PLACEMENT_TIMEOUT_MS,
    placementHoldTtlMs: config.PLACEMENT_HOLD_TTL_MS,
    walletPayTtlMs: config.WALLET_PAY_TTL_MS,
    confirmedHoldTtlMs: config.CONFIRMED_HOLD_TTL_MS,
    maxReroutes: config.ORDER_MAX_REROUTES,
  };

  let kick: (orderId: string) => void = () => {};
  const deps: Deps = {
    orders: metrics.orders(stored),
    catalogue,
    inventory,
    payments,
    policy,
    clock: { now: () => new Date() },
    newId: () => `o-${randomUUID()}`,
    runnerId: `orders-${randomUUID().slice(0, 8)}`,
    leaseMs: config.TASK_LEASE_MS,
    afterWrite: (orderId) => kick(orderId),
    onTaskError: (orderId, err) => {
      metrics.taskError();
      logger.error({ err, orderId }, 'an order task failed unexpectedly; it is retried');
    },
    onPlacementSettled: (order, seconds) => metrics.placementSettled(order, seconds),
    onReroute: (outcome) => metrics.reroute(outcome),
  };

  const prefixed = (name: string) => `${config.KAFKA_TOPIC_PREFIX}${name}`;
  const events = startEventPipeline({
    kafka: createKafkaClient({
      clientId: config.KAFKA_CLIENT_ID,
      brokers: config.KAFKA_BROKERS,
      logger,
      sasl: kafkaSasl(config),
      ssl: config.KAFKA_SSL,
    }),
    // The topics it reads are created here too, should orders start first; same partition count everywhere.
    topics: [topic, prefixed(PAYMENTS_TOPIC), prefixed(DELIVERY_TOPIC)].map((t) => ({
      topic: t,
      partitions: config.KAFKA_TOPIC_PARTITIONS,
    })),
    outboxes: [connection.collection(ORDERS_COLLECTION)],
    consumers: [
      {
        groupId: config.KAFKA_GROUP_ID,
        topics: [prefixed(PAYMENTS_TOPIC)],
        // A new group reads from the start: handlers are idempotent and skip payments of unknown orders quickly.
        fromBeginning: true,
        handle: paymentsEventHandler(deps, logger, { onRefused: (type) => metrics.eventRefused(type) }),
      },
      {
        groupId: `${config.KAFKA_GROUP_ID}-delivery`,
        topics: [prefixed(DELIVERY_TOPIC)],
        fromBeginning: true,
        handle: deliveryEventHandler(deps, logger, {
          onRefused: (type) => metrics.eventRefused(type),
          onOverdue: (stage) => metrics.fulfilmentOverdue(stage),
        }),
      },
    ],
    logger,
    pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
  });
  kick = (orderId) => events.kick({ collection: ORDERS_COLLECTION, ids: [orderId] });

  const recovery = startPeriodic(
    'order-recovery',
    config.RECOVERY_INTERVAL_MS,
    () => recoverDue(deps, RECOVERY_BATCH),
    logger,
  );

  const server = await serveService({
    services: (inFlight) => [ordersGrpcService({ ...deps, logger, inFlight })],
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    logger,
    descriptorSets: reflectionDescriptorSets(),
    shutdown: { drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS, graceMs: config.SHUTDOWN_GRACE_MS },
    afterStop: async () => {
      await recovery.stop();
      await events.stop();
      gauges.stop();
      catalogue.close();
      inventory.close();
      payments.close();
      await connection.close();
    },
  });

  return {
    port: server.port,
    logger,
    topic,
    runnerId: deps.runnerId,
    recover: () => recovery.runNow(),
    stop: server.stop,
  };
}

/** Process entry: stop gracefully on SIGTERM/SIGINT, then run `onStopped` (telemetry flush). */
export function run(config: Readonly<OrdersConfig>, onStopped?: () => Promise<void>): void {
  const logger = createLogger({ service: 'orders', level: config.LOG_LEVEL });
  runService(() => start(config, { logger }), logger, onStopped);
}
