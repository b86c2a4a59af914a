// The dispatcher: consumes the orders, delivery, payments and catalogue topics, and for each event writes one
// delivery per subscription that receives it (see matching.ts), then lets Kafka commit. Writes are idempotent (the
// delivery id comes from subscription and event id), so a redelivered message creates nothing new. It also keeps the
// order projection from the orders events, so delivery and payments events can be attributed to an order.
import { fromCloudEventHeaders, type IncomingMessage } from '@o2o/kit-kafka';
import type { Logger } from '@o2o/kit-log';
import { type EventCatalog, ORDER_SCOPED_DOMAINS } from './event-catalog';
import { deliveryIdOf } from './ids';
import { subscriptionReceives, wantsType } from './matching';
import type { MatchableEvent, OrderFacts } from './model';
import { orderFactsFromJson, orderIdOfEvent } from './order-facts';
import type { DeliveryStore, LookupOrder, OrderFactsStore } from './ports';
import type { SubscriptionCache } from './subscription-cache';
import type { WebhookMetrics } from './webhook-metrics';

/** What the dispatcher needs. */
export interface DispatcherDeps {
  catalog: EventCatalog;
  cache: SubscriptionCache;
  deliveries: DeliveryStore;
  orderFacts: OrderFactsStore;
  lookupOrder: LookupOrder;
  logger: Logger;
  metrics?: WebhookMetrics;
  /** Tells the worker deliveries are due. */
  kick: () => void;
  now?: () => Date;
}

/** The handler of one consumed event. A failure (database, order lookup) rejects, so Kafka redelivers it. */
export function webhookEventHandler(deps: DispatcherDeps): (message: IncomingMessage) => Promise<void> {
  const { catalog, cache, deliveries, orderFacts, logger } = deps;
  const now = deps.now ?? (() => new Date());

  const factsOf = async (orderId: string): Promise<OrderFacts | undefined> => {
    const stored = await orderFacts.find(orderId);
    if (stored) return stored;
    // Topics are not ordered against each other: this event may come before the order's first orders event.
    const looked = await deps.lookupOrder(orderId);
    if (looked) await orderFacts.save(orderId, looked);
    return looked;
  };

  return async (message) => {
    let attributes;
    try {
      attributes = fromCloudEventHeaders(message.headers);
    } catch (error) {
      logger.warn(
        { err: error, topic: message.topic, offset: message.offset },
        'webhooks skip a message: not a CloudEvent',
      );
      return;
    }
    const { id, type, source, subject, time } = attributes;
    const domain = catalog.domainOf(type);
    if (!domain) return;
    let data;
    try {
      data = catalog.toJson(type, message.value);
    } catch (error) {
      logger.warn({ err: error, eventId: id, type }, 'webhooks skip an event that does not decode as its type');
      return;
    }

    let order: OrderFacts | undefined;
    if (domain === 'orders') {
      const fromEvent = orderFactsFromJson((data as { order?: unknown } | null)?.order);
      if (fromEvent) await orderFacts.save(fromEvent.orderId, fromEvent.facts);
      order = fromEvent?.facts;
    }
    const candidates = cache.all().filter((c) => wantsType(c.subscription, { type, time }));
    if (candidates.length === 0) return;

    const orderScoped = ORDER_SCOPED_DOMAINS.includes(domain);
    if (orderScoped && !order) {
      const orderId = orderIdOfEvent(domain, data, message.key);
      order = orderId ? await factsOf(orderId) : undefined;
    }
    const event: MatchableEvent = { type, time, orderScoped, ...(order ? { order } : {}) };
    const receivers = candidates.filter((c) => subscriptionReceives(c.subscription, event));
    if (receivers.length === 0) return;

    const body = JSON.stringify({
      specversion: '1.0',
      id,
      type,
      source,
      subject,
      time: time.toISOString(),
      datacontenttype: 'application/json',
      data,
    });
    const orderingKey = message.key ?? subject;
    let queued = 0;
    for (const { subscription } of receivers) {
      const sequence = await deliveries.nextSequence(subscription.id, orderingKey);
      const written = now();
      const inserted = await deliveries.insert({
        id: deliveryIdOf(subscription.id, id),
        subscriptionId: subscription.id,
        eventId: id,
        eventType: type,
        eventTime: time,
        orderingKey,
        sequence,
        originalSequence: sequence,
        body,
        nextAttemptTime: written,
        createTime: written,
      });
      if (inserted === 'inserted') queued++;
    }
    if (queued > 0) {
      deps.metrics?.queued('event', queued);
      deps.kick();
    }
  };
}
