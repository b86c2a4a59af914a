// The delivery log a partner reads (newest first, with every attempt) and replay: re-queue a subscription's stored
// deliveries of a time range, in their original order, as new deliveries of the same CloudEvents (same ids).
import type { Principal } from '@o2o/kit-grpc';
import { HttpProblem } from '../http/problem';
import { loadManaged } from './access';
import type { EventCatalog } from './event-catalog';
import { deliveryIdOf, newReplayTag } from './ids';
import type { Delivery, DeliveryStatus } from './model';
import { replayOrder } from './ordering';
import { pageOf, readCursor } from './paging';
import type { DeliveryStore, NewDelivery, SubscriptionStore } from './ports';
import { deliveryView, type WebhookDelivery } from './rest-mapping';
import { onlyFields, readBody, readBoolean, readDeliveryStatus, readPage, readTime, Violations } from './validation';
import type { WebhookMetrics } from './webhook-metrics';

/** Query of the delivery log. */
export interface ListWebhookDeliveriesRequest {
  status?: DeliveryStatus;
  eventType?: string;
  pageSize?: number;
  pageToken?: string;
}

/** A page of the delivery log, newest first. */
export interface ListWebhookDeliveriesResponse {
  deliveries: WebhookDelivery[];
  nextPageToken: string;
}

/** Body of replay. */
export interface ReplayWebhookRequest {
  /** Events from this time (RFC 3339, inclusive)... */
  from: string;
  /** ...to this time (inclusive; default now). */
  to?: string;
  /** Only events whose latest delivery is DEAD. */
  onlyDead?: boolean;
}

/** Answer of replay. */
export interface ReplayWebhookResponse {
  /** Deliveries queued. */
  queued: number;
}

/** What the delivery use cases need. */
export interface DeliveryDeps {
  subscriptions: SubscriptionStore;
  deliveries: DeliveryStore;
  catalog: EventCatalog;
  replayMax: number;
  /** Tells this replica's worker that deliveries are due. */
  kick: () => void;
  metrics?: Pick<WebhookMetrics, 'queued'>;
  now?: () => Date;
}

/** Delivery log and replay use cases over their dependencies. */
export function deliveryUseCases(deps: DeliveryDeps) {
  const { subscriptions, deliveries, catalog } = deps;
  const now = deps.now ?? (() => new Date());

  return {
    /** A subscription's deliveries, newest first, optionally of one status or event type. */
    async listDeliveries(
      principal: Principal,
      subscriptionId: string,
      query: ListWebhookDeliveriesRequest = {},
    ): Promise<ListWebhookDeliveriesResponse> {
      const v = new Violations();
      const q = readBody(query, v);
      onlyFields(q, ['status', 'eventType', 'pageSize', 'pageToken'], v);
      const status = readDeliveryStatus(q.status, v);
      const eventType = q.eventType;
      if (eventType !== undefined && (typeof eventType !== 'string' || !catalog.domainOf(eventType))) {
        v.add('eventType', 'must be an event type, e.g. o2o.orders.v1.OrderConfirmed');
      }
      const page = readPage(q, v);
      const filters = { subscriptionId, status: status ?? '', eventType: eventType ?? '' };
      const after = readCursor(page.token, filters, v);
      if (!v.empty) throw HttpProblem.invalid('The delivery list request is not valid', v.list);
      const subscription = await loadManaged(subscriptions, principal, subscriptionId);
      const found = await deliveries.list({
        subscriptionId: subscription.id,
        ...(status ? { status } : {}),
        ...(typeof eventType === 'string' ? { eventType } : {}),
        after,
        limit: page.size + 1,
      });
      const { items, nextPageToken } = pageOf(found, page.size, filters, (d) => ({ time: d.createTime, id: d.id }));
      return { deliveries: items.map(deliveryView), nextPageToken };
    },

    /** One delivery of a subscription, with its attempts. */
    async getDelivery(principal: Principal, subscriptionId: string, deliveryId: string): Promise<WebhookDelivery> {
      const subscription = await loadManaged(subscriptions, principal, subscriptionId);
      const found =
        typeof deliveryId === 'string' && deliveryId.length <= 64 ? await deliveries.find(deliveryId) : undefined;
      if (!found || found.subscriptionId !== subscription.id) {
        throw HttpProblem.notFound(`No delivery "${String(deliveryId).slice(0, 64)}" of this subscription`);
      }
      return deliveryView(found);
    },

    /**
     * Re-queues the subscription's deliveries of events in [from, to] (one per event, its latest copy; only the dead
     * ones with `onlyDead`), in their original order per key, behind anything pending. Answers how many were queued.
     */
    async replay(
      principal: Principal,
      subscriptionId: string,
      body: ReplayWebhookRequest,
    ): Promise<ReplayWebhookResponse> {
      const v = new Violations();
      const b = readBody(body, v);
      onlyFields(b, ['from', 'to', 'onlyDead'], v);
      const time = now();
      const from = readTime(b.from, 'from', v, true);
      const to = readTime(b.to, 'to', v, false) ?? time;
      const onlyDead = readBoolean(b.onlyDead, 'onlyDead', v) ?? false;
      if (from && from.getTime() > to.getTime()) v.add('to', 'must not be before from');
      if (!v.empty || !from) throw HttpProblem.invalid('The replay request is not valid', v.list);
      const subscription = await loadManaged(subscriptions, principal, subscriptionId);
      // Earlier replays' copies are in range too: read enough to find every event's latest copy.
      const limit = deps.replayMax * 4;
      const copies = await deliveries.inRange({ subscriptionId: subscription.id, from, to, limit: limit + 1 });
      const events = replayOrder(copies).filter((d) => !onlyDead || d.status === 'DEAD');
      if (events.length > deps.replayMax || copies.length > limit) {
        throw HttpProblem.invalid('The replay range is too large', [
          { name: 'to', reason: `the range holds more than ${deps.replayMax} events: choose an earlier time` },
        ]);
      }
      const queued = await queueCopies(deliveries, events, time);
      if (queued > 0) {
        deps.metrics?.queued('replay', queued);
        deps.kick();
      }
      return { queued };
    },
  };
}

/** Writes one new PENDING copy per delivery, with fresh sequences reserved per key in the given order. */
async function queueCopies(store: DeliveryStore, originals: Delivery[], time: Date): Promise<number> {
  const tag = newReplayTag();
  const byKey = new Map<string, Delivery[]>();
  for (const d of originals) byKey.set(d.orderingKey, [...(byKey.get(d.orderingKey) ?? []), d]);
  let queued = 0;
  for (const [key, list] of byKey) {
    const first = list[0];
    if (!first) continue;
    const start = await store.nextSequence(first.subscriptionId, key, list.length);
    const copies: NewDelivery[] = list.map((d, i) => ({
      id: deliveryIdOf(d.subscriptionId, d.eventId, tag),
      subscriptionId: d.subscriptionId,
      eventId: d.eventId,
      eventType: d.eventType,
      eventTime: d.eventTime,
      orderingKey: key,
      sequence: start + i,
      originalSequence: d.originalSequence,
      body: d.body,
      nextAttemptTime: time,
      createTime: time,
      replayOf: d.id,
    }));
    await store.insertMany(copies);
    queued += copies.length;
  }
  return queued;
}

/** The delivery use cases' functions. */
export type DeliveryUseCases = ReturnType<typeof deliveryUseCases>;
