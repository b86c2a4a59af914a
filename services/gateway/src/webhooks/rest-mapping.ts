// The REST shapes of subscriptions and deliveries (schemas.ts describes them): lowerCamelCase like the proto3 JSON
// mapping the rest of the API uses, RFC 3339 times, and no internals (sealed secrets, sequences, claims).
import type { Role } from '@o2o/kit-grpc';
import type { Delivery, DeliveryStatus, Subscription, SubscriptionFilters, SubscriptionStatus } from './model';

/** A subscription as the API shows it (never with a secret). */
export interface WebhookSubscription {
  id: string;
  owner: { role: Role; subject: string; storeIds: string[] };
  url: string;
  eventTypes: string[];
  filters: SubscriptionFilters;
  description: string;
  status: SubscriptionStatus;
  createTime: string;
  updateTime: string;
  version: number;
  /** While a rotation's overlap lasts: when the previous secret stops signing. */
  previousSecretExpireTime?: string;
}

/** One attempt as the API shows it. */
export interface WebhookDeliveryAttempt {
  time: string;
  durationMs: number;
  httpStatus?: number;
  error?: string;
}

/** A delivery as the API shows it. */
export interface WebhookDelivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  eventTime: string;
  orderingKey: string;
  status: DeliveryStatus;
  attempts: WebhookDeliveryAttempt[];
  nextAttemptTime?: string;
  createTime: string;
  updateTime: string;
  replayOf?: string;
}

/** The API view of a subscription. */
export function subscriptionView(s: Subscription, now: Date = new Date()): WebhookSubscription {
  const previous = s.secrets.slice(1).find((x) => x.expireTime && x.expireTime.getTime() > now.getTime());
  const filters: SubscriptionFilters = {};
  if (s.filters.storeIds?.length) filters.storeIds = [...s.filters.storeIds];
  if (s.filters.channels?.length) filters.channels = [...s.filters.channels];
  return {
    id: s.id,
    owner: { role: s.owner.role, subject: s.owner.subject, storeIds: [...s.owner.storeIds] },
    url: s.url,
    eventTypes: [...s.eventTypes],
    filters,
    description: s.description,
    status: s.status,
    createTime: s.createTime.toISOString(),
    updateTime: s.updateTime.toISOString(),
    version: s.version,
    ...(previous?.expireTime ? { previousSecretExpireTime: previous.expireTime.toISOString() } : {}),
  };
}

/** The API view of a delivery. */
export function deliveryView(d: Delivery): WebhookDelivery {
  return {
    id: d.id,
    subscriptionId: d.subscriptionId,
    eventId: d.eventId,
    eventType: d.eventType,
    eventTime: d.eventTime.toISOString(),
    orderingKey: d.orderingKey,
    status: d.status,
    attempts: d.attempts.map((a) => ({
      time: a.time.toISOString(),
      durationMs: a.durationMs,
      ...(a.httpStatus !== undefined && a.httpStatus !== null ? { httpStatus: a.httpStatus } : {}),
      ...(a.error ? { error: a.error } : {}),
    })),
    ...(d.status === 'PENDING' && d.nextAttemptTime ? { nextAttemptTime: d.nextAttemptTime.toISOString() } : {}),
    createTime: d.createTime.toISOString(),
    updateTime: d.updateTime.toISOString(),
    ...(d.replayOf ? { replayOf: d.replayOf } : {}),
  };
}
