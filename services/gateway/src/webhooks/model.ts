// The webhook model: subscriptions, deliveries and the facts an event is matched on. Plain types shared by the
// use cases, the dispatcher, the worker and the store; REST shapes (ISO times, no internals) are in rest-mapping.ts.
import type { OrderAttribution, Role } from '@o2o/kit-grpc';

/** ACTIVE subscriptions receive events; PAUSED ones receive nothing new and hold their pending deliveries. */
export type SubscriptionStatus = 'ACTIVE' | 'PAUSED';
export const SUBSCRIPTION_STATUSES: readonly SubscriptionStatus[] = ['ACTIVE', 'PAUSED'];

/** PENDING until a 2xx answer (DELIVERED) or the last failed attempt (DEAD, the dead letter). */
export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'DEAD';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['PENDING', 'DELIVERED', 'DEAD'];

/** Who registered a subscription, as they were when they last wrote it: the ownership rule is applied to this. */
export interface SubscriptionOwner {
  role: Role;
  subject: string;
  storeIds: string[];
}

/** Optional narrowing of order-scoped events; catalogue events are not attributed to stores or channels. */
export interface SubscriptionFilters {
  /** The order's selling store or one of its fulfilling locations is one of these. */
  storeIds?: string[];
  /** The order's channel is one of these (o2o.orders.v1.Channel names, e.g. CHANNEL_MARKETPLACE). */
  channels?: string[];
}

/** One signing secret, sealed with the gateway key; the previous one carries its end of validity. */
export interface StoredSecret {
  sealed: string;
  createTime: Date;
  expireTime?: Date;
}

/** A subscription as stored (the `_id` is the opaque subscription id). */
export interface Subscription {
  id: string;
  owner: SubscriptionOwner;
  url: string;
  eventTypes: string[];
  filters: SubscriptionFilters;
  description: string;
  status: SubscriptionStatus;
  createTime: Date;
  updateTime: Date;
  version: number;
  /** The current secret first, then the previous one while its rotation overlap lasts. */
  secrets: StoredSecret[];
}

/** One HTTP attempt of a delivery. */
export interface DeliveryAttempt {
  time: Date;
  durationMs: number;
  /** The receiver's status, when it answered. */
  httpStatus?: number;
  /** Why the attempt failed without a 2xx (timeout, connection refused, a redirect...). */
  error?: string;
}

/** One event to one subscription: the exact body sent, its place in its key's order, and its log. */
export interface Delivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  eventTime: Date;
  /** The Kafka key (order id, product id): deliveries of one subscription and key are sent in sequence order. */
  orderingKey: string;
  /** Position within (subscription, orderingKey); grows with every delivery written, replays included. */
  sequence: number;
  /** The sequence of the event's first delivery: replays are queued in this order. */
  originalSequence: number;
  /** The JSON CloudEvent exactly as POSTed (the same on every attempt and replay). */
  body: string;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  /** When the worker may next try it; while claimed, the end of the claim's lease. Unset once final. */
  nextAttemptTime?: Date;
  createTime: Date;
  updateTime: Date;
  /** For a replayed delivery: the delivery it copies. */
  replayOf?: string;
}

/** What decides which partners may see an order's events, plus its channel for the channel filter. */
export interface OrderFacts extends OrderAttribution {
  /** o2o.orders.v1.Channel name, e.g. CHANNEL_WEB; empty when unknown. */
  channel: string;
  /** The order's version, when known: an older snapshot never replaces a newer one. */
  version?: number;
}

/** A consumed event as matching sees it. */
export interface MatchableEvent {
  type: string;
  time: Date;
  /** True for orders, delivery and payments events: they are delivered only to those who may see the order. */
  orderScoped: boolean;
  /** The order's facts; undefined when the order is unknown (then only admins' subscriptions get it). */
  order?: OrderFacts;
}
