import { reflectionDescriptorSets } from '@o2o/contracts';
import { kafkaSasl } from '@o2o/kit-config';
import { type Periodic, runService, serveService, startPeriodic } from '@o2o/kit-grpc';
import { createKafkaClient } from '@o2o/kit-kafka';
import { createLogger, type Logger } from '@o2o/kit-log';
import { connectMongo } from '@o2o/kit-mongo';
import { startEventPipeline } from '@o2o/kit-outbox';
import { mayWatchShipment } from './app/access';
import { trackedShipment } from './app/change-fulfilment';
import { heldShipments } from './app/courier-commands';
import { reconcileCourierSlots } from './app/dispatch';
import type { Deps } from './app/ports';
import { sweepDue } from './app/sweep';
import { createTrackingHub, type TrackingHub } from './app/tracking-hub';
import type { TrackingStore } from './app/tracking-ports';
import type { DeliveryConfig } from './config';
import { fulfilmentIdOfShipment } from './domain/fulfilment';
import { isCarrying } from './domain/tracking';
import type { FulfilmentPolicy } from './domain/types';
import { deliveryMetrics } from './adapters/delivery-metrics';
import { DELIVERY_TOPIC, deliveryEventEncoder } from './adapters/event-encoder';
import { deliveryGrpcService } from './adapters/grpc-server';
import { trackingGrpcHandlers } from './adapters/grpc-tracking';
import { inventoryLocations } from './adapters/inventory-locations';
import { ORDERS_TOPIC, ordersEventHandler } from './adapters/kafka-orders-consumer';
import { startKafkaTrackingBus } from './adapters/kafka-tracking-bus';
import { mongoCourierRepository } from './adapters/mongo-courier-repository';
import { FULFILMENTS_COLLECTION, mongoFulfilmentRepository } from './adapters/mongo-fulfilment-repository';

/** How many due fulfilments one sweep handles, and how many couriers one reconciliation reads. */
const SWEEP_BATCH = 200;
const RECONCILE_BATCH = 100;
/** Dispatch looks again this long after finding no courier. */
const DISPATCH_RETRY_MS = 5_000;

/** A running delivery service. */
export interface DeliveryService {
  port: number;
  logger: Logger;
  /** The topic its events go to. */
  topic: string;
  /** This replica's live-tracking hub (tests read its stats). */
  hub: TrackingHub;
  /** Runs one sweep now (deadlines, expiries, lapsed offers, dispatch) instead of waiting for the interval. */
  sweep(): Promise<void>;
  /** Graceful stop: health NOT_SERVING, drain, end streams, stop sweeps, consumers and relay, close the database. */
  stop(): Promise<void>;
}

/** Composition root: builds and starts everything by hand. Tests call it with port 0. */
export async function start(
  config: Readonly<DeliveryConfig>,
  options: { logger?: Logger } = {},
): Promise<DeliveryService> {
  const logger = options.logger ?? createLogger({ service: 'delivery', level: config.LOG_LEVEL });
  const connection = await connectMongo({
    url: config.MONGO_URL,
    dbName: config.MONGO_DB,
    appName: 'o2o-delivery',
    logger,
  });
  const prefixed = (name: string) => `${config.KAFKA_TOPIC_PREFIX}${name}`;
  const topic = prefixed(DELIVERY_TOPIC);
  const policy: FulfilmentPolicy = {
    acceptMs: config.TASK_ACCEPT_MS,
    pickMs: config.TASK_PICK_MS,
    packMs: config.TASK_PACK_MS,
    pickupExpiryMs: config.PICKUP_EXPIRY_MS,
    offerTimeoutMs: config.OFFER_TIMEOUT_MS,
    codeMaxAttempts: config.CODE_MAX_ATTEMPTS,
    codeLockMs: config.CODE_LOCK_MS,
    dispatchRetryMs: DISPATCH_RETRY_MS,
  };
  const stored = mongoFulfilmentRepository(connection, { encoder: deliveryEventEncoder(topic), policy });
  const couriers = mongoCourierRepository(connection);
  await stored.ensureIndexes();
  await couriers.ensureIndexes();
  const metrics = deliveryMetrics();
  const gauges = metrics.startBacklogGauges(connection, { maxAgeMs: config.METRICS_QUERY_INTERVAL_MS });
  const locations = inventoryLocations({
    address: config.INVENTORY_ADDRESS,
    deadlineMs: config.DOWNSTREAM_DEADLINE_MS,
  });

  let kick: (fulfilmentId: string) => void = () => {};
  const kafka = createKafkaClient({
    clientId: config.KAFKA_CLIENT_ID,
    brokers: config.KAFKA_BROKERS,
    logger,
    sasl: kafkaSasl(config),
    ssl: config.KAFKA_SSL,
  });

  const trackingStore: TrackingStore = {
    async shipment(shipmentId) {
      const state = await stored.findByShipment(shipmentId);
      return state && trackedShipment(state);
    },
    async carriedBy(courierId) {
      const courier = await couriers.find(courierId);
      const held = courier ? await heldShipments({ fulfilments: stored }, courier) : [];
      return held
        .flatMap((state) => trackedShipment(state) ?? [])
        .filter((s) => s.courierId === courierId && isCarrying(s.status));
    },
    storedTracking: (shipmentId) => stored.storedTracking(shipmentId),
    saveCourierPosition: (courierId, fix) => couriers.savePosition(courierId, fix),
    async saveShipmentTracking(shipmentId, tracking, { announce }) {
      await stored.saveTracking(shipmentId, tracking, { announce });
      const fulfilmentId = fulfilmentIdOfShipment(shipmentId);
      if (announce && fulfilmentId) kick(fulfilmentId);
    },
  };
  const bus = await startKafkaTrackingBus({
    kafka,
    topic: prefixed(config.TRACKING_TOPIC),
    groupId: config.KAFKA_GROUP_ID,
    logger,
    partitions: config.KAFKA_TOPIC_PARTITIONS,
  });
  const hub = createTrackingHub({
    store: trackingStore,
    bus,
    log: logger,
    persistMs: config.POSITION_PERSIST_MS,
    eventMs: config.POSITION_EVENT_MS,
  });
  bus.onRemote((update) => hub.receiveRemote(update));
  metrics.watchers(() => hub.stats().watchers);

  const deps: Deps = {
    fulfilments: metrics.fulfilments(stored),
    couriers,
    locations,
    feed: { publishStatus: (shipment) => void hub.publishStatus(shipment) },
    clock: { now: () => new Date() },
    policy,
    dispatch: {
      radiusM: config.DISPATCH_RADIUS_M,
      loadPenaltyM: config.DISPATCH_LOAD_PENALTY_M,
      positionFreshMs: config.POSITION_FRESH_MS,
    },
    codeSecret: config.HANDOVER_CODE_SECRET,
    afterWrite: (id) => kick(id),
  };

  const events = startEventPipeline({
    kafka,
    // The topic it reads is created here too, should delivery start first; same partition count everywhere.
    topics: [topic, prefixed(ORDERS_TOPIC)].map((t) => ({ topic: t, partitions: config.KAFKA_TOPIC_PARTITIONS })),
    outboxes: [connection.collection(FULFILMENTS_COLLECTION)],
    consumers: [
      {
        groupId: config.KAFKA_GROUP_ID,
        topics: [prefixed(ORDERS_TOPIC)],
        // A new group reads from the start: creation is idempotent, and orders not confirmed are skipped quickly.
        fromBeginning: true,
        handle: ordersEventHandler(deps, logger, (type) => metrics.ordersEventSkipped(type)),
      },
    ],
    logger,
    pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
  });
  kick = (id) => events.kick({ collection: FULFILMENTS_COLLECTION, ids: [id] });

  const onFailure = (fulfilmentId: string, err: unknown) =>
    logger.warn({ err, fulfilmentId }, 'sweep could not handle a fulfilment; the next run retries');
  const sweeper = startPeriodic(
    'delivery-sweep',
    config.SWEEP_INTERVAL_MS,
    () => sweepDue(deps, { limit: SWEEP_BATCH, onFailure }),
    logger,
  );
  const reconciler = startPeriodic(
    'courier-slots',
    config.SLOT_RECONCILE_INTERVAL_MS,
    () => reconcileCourierSlots(deps, { limit: RECONCILE_BATCH, unchangedForMs: config.SLOT_RECONCILE_AFTER_MS }),
    logger,
  );
  const periodic: Periodic[] = [sweeper, reconciler];

  const tracking = trackingGrpcHandlers({
    hub,
    store: trackingStore,
    mayWatch: (caller, shipmentId) => mayWatchShipment({ fulfilments: stored }, caller, shipmentId),
    logger,
    maxPerSecond: config.POSITION_MAX_PER_SECOND,
    onReports: (outcome, count) => metrics.position(outcome, count),
  });
  const server = await serveService({
    services: (inFlight) => [
      deliveryGrpcService({
        ...deps,
        logger,
        inFlight,
        tracking,
        storedTracking: (shipmentId) => stored.storedTracking(shipmentId),
      }),
    ],
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    logger,
    descriptorSets: reflectionDescriptorSets(),
    shutdown: {
      drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
      graceMs: config.SHUTDOWN_GRACE_MS,
      // Watchers and courier streams reconnect to another replica; the hub writes the positions it still holds.
      endStreams: () => hub.close(),
    },
    afterStop: async () => {
      for (const p of periodic) await p.stop();
      await bus.stop();
      await events.stop();
      gauges.stop();
      locations.close();
      await connection.close();
    },
  });

  return {
    port: server.port,
    logger,
    topic,
    hub,
    sweep: () => sweeper.runNow(),
    stop: server.stop,
  };
}

/** Process entry: stop gracefully on SIGTERM/SIGINT, then run `onStopped` (telemetry flush). */
export function run(config: Readonly<DeliveryConfig>, onStopped?: () => Promise<void>): void {
  const logger = createLogger({ service: 'delivery', level: config.LOG_LEVEL });
  runService(() => start(config, { logger }), logger, onStopped);
}
