// Partner webhooks: subscriptions to domain events, delivered as signed JSON CloudEvents (see docs/webhooks.md).
// The HTTP layer calls the use cases of startWebhooks() and documents the routes with the schemas here.
export { startWebhooks, type StartWebhooksOptions, type Webhooks, type WebhookUseCases } from './start-webhooks';
export {
  webhookEnv,
  webhookConfig,
  webhookConfigFromEnv,
  webhookProductionProblems,
  LOCAL_WEBHOOK_SECRET_KEY,
  type WebhookConfig,
  type WebhookEnv,
} from './config';
export type {
  CreateWebhookSubscriptionRequest,
  CreateWebhookSubscriptionResponse,
  UpdateWebhookSubscriptionRequest,
  RotateWebhookSecretRequest,
  RotateWebhookSecretResponse,
  ListWebhookSubscriptionsRequest,
  ListWebhookSubscriptionsResponse,
  SubscriptionUseCases,
} from './subscription-use-cases';
export type {
  ListWebhookDeliveriesRequest,
  ListWebhookDeliveriesResponse,
  ReplayWebhookRequest,
  ReplayWebhookResponse,
  DeliveryUseCases,
} from './delivery-use-cases';
export type { WebhookSubscription, WebhookDelivery, WebhookDeliveryAttempt } from './rest-mapping';
export * as webhookSchemas from './schemas';
export { WEBHOOK_SCHEMAS, WEBHOOK_QUERY_PARAMS } from './schemas';
export {
  verifyWebhookSignature,
  signatureHeader,
  SIGNATURE_HEADER,
  WEBHOOK_ID_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  type VerifyOptions,
  type VerifyResult,
} from './signing';
export { orderFactsFromJson } from './order-facts';
export type { OrderFacts } from './model';
export type { LookupOrder } from './ports';
export { CLOUDEVENTS_JSON } from './delivery-worker';
export { WEBHOOK_DELIVERIES, WEBHOOK_ATTEMPTS, WEBHOOK_ATTEMPT_DURATION, WEBHOOK_QUEUED } from './webhook-metrics';
