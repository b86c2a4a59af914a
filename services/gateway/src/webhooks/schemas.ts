// JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the webhook request bodies and answers, named for the OpenAPI
// document's components. Each is self-contained (no $ref), so it validates as it is. The use cases remain the
// authority: they check what a schema cannot (known event types and channels, the partner's own stores, ranges).
import type { JsonSchema, QueryParam } from '../http/route';
import { LIMITS } from './validation';

const TIME = { type: 'string', format: 'date-time' } as const;
const EVENT_TYPE = {
  type: 'string',
  pattern: '^o2o\\.(orders|delivery|payments|catalogue)\\.v1\\.([A-Z][A-Za-z0-9]*|\\*)$',
  description: 'A full event type, e.g. o2o.orders.v1.OrderConfirmed, or every event of a domain: o2o.orders.v1.*',
} as const;
const ID = { type: 'string', minLength: 1, maxLength: LIMITS.idLength } as const;

const filters = {
  type: 'object',
  additionalProperties: false,
  description: 'Narrows order-scoped events (orders, delivery, payments); catalogue events are not filtered.',
  properties: {
    storeIds: {
      type: 'array',
      items: ID,
      maxItems: LIMITS.filterValues,
      uniqueItems: true,
      description: "The order's selling store or one of its fulfilling locations is one of these (a partner: its own).",
    },
    channels: {
      type: 'array',
      items: { type: 'string', pattern: '^CHANNEL_[A-Z_]+$' },
      maxItems: LIMITS.filterValues,
      uniqueItems: true,
      description: "The order's channel is one of these o2o.orders.v1.Channel names, e.g. CHANNEL_MARKETPLACE.",
    },
  },
} as const;

const url = {
  type: 'string',
  format: 'uri',
  maxLength: LIMITS.urlLength,
  pattern: '^https?://',
  description: 'Absolute http(s) URL without credentials; redirects are not followed.',
} as const;
const eventTypes = { type: 'array', items: EVENT_TYPE, minItems: 1, maxItems: LIMITS.eventTypes, uniqueItems: true };
const description = { type: 'string', maxLength: LIMITS.descriptionLength } as const;
const subscriptionStatus = { type: 'string', enum: ['ACTIVE', 'PAUSED'] } as const;
const secret = {
  type: 'string',
  pattern: '^whsec_[A-Za-z0-9_-]{43}$',
  description: 'The signing secret. Shown only in this answer: store it now.',
} as const;

/** A subscription (never with its secret). */
export const WebhookSubscription: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'owner',
    'url',
    'eventTypes',
    'filters',
    'description',
    'status',
    'createTime',
    'updateTime',
    'version',
  ],
  properties: {
    id: { type: 'string', description: 'Opaque id.' },
    owner: {
      type: 'object',
      additionalProperties: false,
      required: ['role', 'subject', 'storeIds'],
      properties: {
        role: { type: 'string', enum: ['partner', 'admin'] },
        subject: { type: 'string' },
        storeIds: { type: 'array', items: { type: 'string' } },
      },
    },
    url,
    eventTypes,
    filters,
    description,
    status: subscriptionStatus,
    createTime: TIME,
    updateTime: TIME,
    version: { type: 'integer', minimum: 1, description: 'Grows with every change.' },
    previousSecretExpireTime: {
      ...TIME,
      description: 'While a rotation overlap lasts: when the previous secret stops signing.',
    },
  },
};

/** Body of POST /v1/webhooks/subscriptions. */
export const CreateWebhookSubscriptionRequest: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'eventTypes'],
  properties: { url, eventTypes, filters, description, status: { ...subscriptionStatus, default: 'ACTIVE' } },
};

/** Answer of create: the subscription and its secret (shown once). */
export const CreateWebhookSubscriptionResponse: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['subscription', 'secret'],
  properties: { subscription: WebhookSubscription, secret },
};

/** Body of PATCH /v1/webhooks/subscriptions/{subscriptionId}. */
export const UpdateWebhookSubscriptionRequest: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    url,
    eventTypes,
    filters: { ...filters, description: 'Replaces the filters as a whole.' },
    description,
    status: subscriptionStatus,
    version: { type: 'integer', minimum: 1, description: 'Apply only if the subscription is at this version (409).' },
  },
};

/** A page of subscriptions. */
export const ListWebhookSubscriptionsResponse: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['subscriptions', 'nextPageToken'],
  properties: {
    subscriptions: { type: 'array', items: WebhookSubscription },
    nextPageToken: { type: 'string', description: 'Empty on the last page.' },
  },
};

/** Body of POST .../rotate-secret. */
export const RotateWebhookSecretRequest: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    overlapSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: LIMITS.maxOverlapSeconds,
      default: LIMITS.defaultOverlapSeconds,
      description: 'How long the previous secret keeps signing too (0: it stops now).',
    },
  },
};

/** Answer of rotate-secret: the new secret (shown once). */
export const RotateWebhookSecretResponse: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['subscription', 'secret'],
  properties: { subscription: WebhookSubscription, secret, previousSecretExpireTime: TIME },
};

const attempt = {
  type: 'object',
  additionalProperties: false,
  required: ['time', 'durationMs'],
  properties: {
    time: TIME,
    durationMs: { type: 'integer', minimum: 0 },
    httpStatus: { type: 'integer', minimum: 100, maximum: 599, description: "The receiver's answer, if any." },
    error: { type: 'string', description: 'Why there was no 2xx: a timeout, a connection error, a redirect.' },
  },
} as const;

/** A delivery of one event to one subscription, with its attempts. */
export const WebhookDelivery: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'subscriptionId',
    'eventId',
    'eventType',
    'eventTime',
    'orderingKey',
    'status',
    'attempts',
    'createTime',
    'updateTime',
  ],
  properties: {
    id: { type: 'string' },
    subscriptionId: { type: 'string' },
    eventId: { type: 'string', description: 'The CloudEvent id (and webhook-id header): the same on every retry.' },
    eventType: { type: 'string' },
    eventTime: TIME,
    orderingKey: { type: 'string', description: 'Order id (product id for catalogue events): order is kept per key.' },
    status: { type: 'string', enum: ['PENDING', 'DELIVERED', 'DEAD'] },
    attempts: { type: 'array', items: attempt },
    nextAttemptTime: { ...TIME, description: 'PENDING: when it is tried next (at the earliest).' },
    createTime: TIME,
    updateTime: TIME,
    replayOf: { type: 'string', description: 'For a replayed copy: the delivery it re-sends.' },
  },
};

/** A page of the delivery log. */
export const ListWebhookDeliveriesResponse: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['deliveries', 'nextPageToken'],
  properties: {
    deliveries: { type: 'array', items: WebhookDelivery },
    nextPageToken: { type: 'string', description: 'Empty on the last page.' },
  },
};

/** Body of POST .../replay. */
export const ReplayWebhookRequest: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['from'],
  properties: {
    from: { ...TIME, description: 'Events from this time (inclusive).' },
    to: { ...TIME, description: 'Events up to this time (inclusive); default now.' },
    onlyDead: { type: 'boolean', default: false, description: 'Only events whose latest delivery is DEAD.' },
  },
};

/** Answer of replay. */
export const ReplayWebhookResponse: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['queued'],
  properties: { queued: { type: 'integer', minimum: 0, description: 'Deliveries queued.' } },
};

/** Every webhook schema by its component name. */
export const WEBHOOK_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  WebhookSubscription,
  CreateWebhookSubscriptionRequest,
  CreateWebhookSubscriptionResponse,
  UpdateWebhookSubscriptionRequest,
  ListWebhookSubscriptionsResponse,
  RotateWebhookSecretRequest,
  RotateWebhookSecretResponse,
  WebhookDelivery,
  ListWebhookDeliveriesResponse,
  ReplayWebhookRequest,
  ReplayWebhookResponse,
};

/** Query parameters of the two list routes (route.ts QueryParam shape). */
export const WEBHOOK_QUERY_PARAMS = {
  listSubscriptions: [
    {
      name: 'pageSize',
      description: 'At most this many (1..100, default 50).',
      schema: { type: 'integer', minimum: 1, maximum: LIMITS.pageSizeMax },
    },
    {
      name: 'pageToken',
      description: 'nextPageToken of the previous page.',
      schema: { type: 'string', maxLength: 512 },
    },
  ],
  listDeliveries: [
    {
      name: 'status',
      description: 'Only deliveries in this status.',
      schema: { type: 'string', enum: ['PENDING', 'DELIVERED', 'DEAD'] },
    },
    {
      name: 'eventType',
      description: 'Only deliveries of this event type.',
      schema: { type: 'string', pattern: '^o2o\\.(orders|delivery|payments|catalogue)\\.v1\\.[A-Z][A-Za-z0-9]*$' },
    },
    {
      name: 'pageSize',
      description: 'At most this many (1..100, default 50).',
      schema: { type: 'integer', minimum: 1, maximum: LIMITS.pageSizeMax },
    },
    {
      name: 'pageToken',
      description: 'nextPageToken of the previous page.',
      schema: { type: 'string', maxLength: 512 },
    },
  ],
} satisfies Record<string, readonly QueryParam[]>;
