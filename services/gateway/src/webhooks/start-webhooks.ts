// Composition of partner webhooks: the stores, the subscription cache, the use cases the HTTP layer calls, the
// dispatcher (a Kafka consumer group of its own), the delivery worker and the retention sweeper.
import type { Db } from 'mongodb';
import { type Periodic, startPeriodic } from '@o2o/kit-grpc';
import type { EventConsumer, KafkaClient } from '@o2o/kit-kafka';
import type { Logger } from '@o2o/kit-log';
import type { WebhookConfig } from './config';
import { deliveryUseCases, type DeliveryUseCases } from './delivery-use-cases';
import { startDeliveryWorker } from './delivery-worker';
import { webhookEventHandler } from './dispatcher';
import { type EventCatalog, loadEventCatalog, topicOf, WEBHOOK_DOMAINS } from './event-catalog';
import { fetchSender, type WebhookSender } from './http-sender';
import { mongoDeliveryStore } from './mongo-deliveries';
import { mongoOrderFactsStore } from './mongo-order-facts';
import { mongoSubscriptionStore } from './mongo-subscriptions';
import type { LookupOrder } from './ports';
import { deriveKey, secretBox } from './secret-box';
import { startSubscriptionCache } from './subscription-cache';
import { subscriptionUseCases, type SubscriptionUseCases } from './subscription-use-cases';
import { webhookMetrics } from './webhook-metrics';

/** How often deliveries and order facts past their retention are deleted. */
const SWEEP_INTERVAL_MS = 10 * 60_000;

/** Options of {@link startWebhooks}. */
export interface StartWebhooksOptions {
  /** The gateway's database (e.g. `connection.db` of kit-mongo's connectMongo). */
  db: Db;
  /** The gateway's Kafka client; left open by stop() (its owner closes it). */
  kafka: KafkaClient;
  /** Prepended to the topic names (KAFKA_TOPIC_PREFIX). */
  topicPrefix?: string;
  /** Partition count the topics are created with if missing (KAFKA_TOPIC_PARTITIONS). */
  partitions: number;
  config: WebhookConfig;
  logger: Logger;
  /** An order's facts from the orders service (GetOrder + orderFactsFromJson), for events that come before it. */
  lookupOrder: LookupOrder;
  /** The HTTP sender; default fetch. */
  send?: WebhookSender;
  /** The event catalogue; default from @o2o/contracts' descriptor set. */
  catalog?: EventCatalog;
}

/** Every use case the HTTP layer calls. */
export type WebhookUseCases = SubscriptionUseCases & DeliveryUseCases;

/** Running webhooks. */
export interface Webhooks {
  useCases: WebhookUseCases;
  catalog: EventCatalog;
  /** Resolves once the dispatcher joined its consumer group (it retries with backoff until Kafka answers). */
  ready: Promise<void>;
  /** Stops the consumer (finishing the event in hand), the worker (finishing requests in flight) and the timers. */
  stop(): Promise<void>;
}

/** Starts webhooks: indexes, cache, worker and sweeper at once; the dispatcher as soon as Kafka answers. */
export async function startWebhooks(options: StartWebhooksOptions): Promise<Webhooks> {
  const { db, kafka, config, logger } = options;
  const log = logger.child({ component: 'webhooks' });
  const catalog = options.catalog ?? loadEventCatalog();
  const box = secretBox(deriveKey(config.secretKey));
  const subscriptions = mongoSubscriptionStore(db);
  const deliveries = mongoDeliveryStore(db);
  const orderFacts = mongoOrderFactsStore(db);
  await subscriptions.ensureIndexes();
  await deliveries.ensureIndexes();
  await orderFacts.ensureIndexes();
  const metrics = webhookMetrics();

  const cache = await startSubscriptionCache({
    store: subscriptions,
    box,
    refreshMs: config.cacheRefreshMs,
    logger: log,
  });
  const worker = startDeliveryWorker({
    deliveries,
    cache,
    send: options.send ?? fetchSender(),
    retry: config.retry,
    concurrency: config.concurrency,
    pollIntervalMs: config.pollIntervalMs,
    holdMs: config.cacheRefreshMs,
    logger: log,
    metrics,
  });
  const changed = async () => {
    try {
      await cache.refresh();
    } catch (error) {
      log.warn({ err: error }, 'webhook subscriptions cache not reloaded; the next refresh catches up');
    }
    worker.kick();
  };
  const useCases: WebhookUseCases = {
    ...subscriptionUseCases({
      subscriptions,
      box,
      catalog,
      limits: { maxSubscriptionsPerOwner: config.maxSubscriptionsPerOwner, allowPrivateUrls: config.allowPrivateUrls },
      changed,
    }),
    ...deliveryUseCases({
      subscriptions,
      deliveries,
      catalog,
      replayMax: config.replayMax,
      kick: () => worker.kick(),
      metrics,
    }),
  };

  const sweeper: Periodic = startPeriodic(
    'webhook-retention',
    SWEEP_INTERVAL_MS,
    async () => {
      const cutoff = new Date(Date.now() - config.retentionMs);
      return (await deliveries.sweep(cutoff)) + (await orderFacts.sweep(cutoff));
    },
    log,
  );

  const handle = webhookEventHandler({
    catalog,
    cache,
    deliveries,
    orderFacts,
    lookupOrder: options.lookupOrder,
    logger: log,
    metrics,
    kick: () => worker.kick(),
  });
  const topics = WEBHOOK_DOMAINS.map((d) => `${options.topicPrefix ?? ''}${topicOf(d)}`);
  let consumer: EventConsumer | undefined;
  let stopped = false;
  // A stop cuts the wait between two attempts short, so a stop while Kafka is down is not held up by the backoff.
  let wake: () => void = () => {};
  const ready = (async () => {
    for (let delay = 500; !stopped; delay = Math.min(delay * 2, 15_000)) {
      try {
        await kafka.ensureTopics(topics.map((topic) => ({ topic, partitions: options.partitions })));
        if (stopped) return;
        // From the beginning for a new group: it fills the order projection; events older than a subscription are
        // never sent to it (matching.ts), so nobody is flooded with history.
        consumer = await kafka.consume({ groupId: config.groupId, topics, fromBeginning: true, handle });
        log.info({ topics, groupId: config.groupId }, 'webhook dispatcher started');
        return;
      } catch (error) {
        log.warn({ err: error, retryInMs: delay }, 'Kafka not ready; the webhook dispatcher retries');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();

  return {
    useCases,
    catalog,
    ready,
    async stop() {
      stopped = true;
      wake();
      await ready;
      await consumer?.stop();
      await worker.stop();
      await sweeper.stop();
      await cache.stop();
    },
  };
}
