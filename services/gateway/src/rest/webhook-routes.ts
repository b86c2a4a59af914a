import type { Role } from '@o2o/kit-grpc';
import type { JsonSchema, Route } from '../http/route';
import { WEBHOOK_QUERY_PARAMS, WEBHOOK_SCHEMAS, type WebhookUseCases } from '../webhooks';
import type {
  CreateWebhookSubscriptionRequest,
  ListWebhookDeliveriesRequest,
  ReplayWebhookRequest,
  RotateWebhookSecretRequest,
  UpdateWebhookSubscriptionRequest,
} from '../webhooks';
import { schemaRef } from './contract';

const OWNERS: readonly Role[] = ['partner', 'admin'];
const SCOPES = ['webhooks:manage'];
const TAG = 'Webhooks';
const BASE = '/v1/webhooks/subscriptions';

/** The schemas the webhook routes reference, for the OpenAPI document. */
export const WEBHOOK_ROUTE_SCHEMAS: Record<string, JsonSchema> = { ...WEBHOOK_SCHEMAS };

/**
 * Partner webhook subscriptions over REST (docs/webhooks.md). The use cases are the authority: they check the body
 * again, and answer 404 for another partner's subscription. `useCases` is resolved at call time, so the document can
 * be generated without running anything.
 */
export function webhookRoutes(useCases: () => WebhookUseCases): Route[] {
  const id = (params: Record<string, string>) => params.subscriptionId ?? '';
  return [
    {
      method: 'POST',
      path: BASE,
      operationId: 'createWebhookSubscription',
      summary: 'Subscribe an endpoint to event types (the signing secret is shown once)',
      tag: TAG,
      roles: OWNERS,
      scopes: SCOPES,
      requestBody: schemaRef('CreateWebhookSubscriptionRequest'),
      success: {
        status: 201,
        description: 'The subscription and its secret',
        schema: schemaRef('CreateWebhookSubscriptionResponse'),
      },
      errors: [409],
      async handle(ctx) {
        return {
          status: 201,
          body: await useCases().createSubscription(ctx.principal, ctx.body as CreateWebhookSubscriptionRequest),
        };
      },
    },
    {
      method: 'GET',
      path: BASE,
      operationId: 'listWebhookSubscriptions',
      summary: 'List your subscriptions',
      tag: TAG,
      roles: OWNERS,
      scopes: SCOPES,
      query: WEBHOOK_QUERY_PARAMS.listSubscriptions,
      success: {
        status: 200,
        description: 'A page of subscriptions',
        schema: schemaRef('ListWebhookSubscriptionsResponse'),
      },
      async handle(ctx) {
        return { status: 200, body: await useCases().listSubscriptions(ctx.principal, ctx.query) };
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{subscriptionId}`,
      operationId: 'getWebhookSubscription',
      summary: 'Get a subscription',
      tag: TAG,
      roles: OWNERS,
      scopes: SCOPES,
      success: { status: 200, description: 'The subscription', schema: schemaRef('WebhookSubscription') },
      errors: [404],
      async handle(ctx) {
        return { status: 200, body: await useCases().getSubscription(ctx.principal, id(ctx.params)) };
      },
    },
    {
      method: 'PATCH',
      path: `${BASE}/{subscriptionId}`,
      operationId: 'updateWebhookSubscription',
      summary: 'Change the endpoint, event types, filters or status (PAUSED / ACTIVE)',
      tag: TAG,
      roles: OWNERS,
      scopes: SCOPES,
      requestBody: schemaRef('UpdateWebhookSubscriptionRequest'),
      success: { status: 200, description: 'The subscription', schema: schemaRef('WebhookSubscription') },
      errors: [404, 409],
      async handle(ctx) {
        const body = ctx.body as UpdateWebhookSubscriptionRequest;
        return { status: 200, body: await useCases().updateSubscription(ctx.principal, id(ctx.params), body) };
      },
    },
    {
      method: 'DELETE',
      path: `${BASE}/{subscriptionId}`,
      operationId: 'deleteWebhookSubscription',
      summary: 'Delete a subscription (its delivery log goes with it)',
      tag: TAG,
      roles: OWNERS,
      scopes: SCOPES,
      success: { status: 204, description: 'Deleted' },
      errors: [404],
      async handle(ctx) {
        await useCases().deleteSubscription(ctx.principal, id(ctx.params));
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: `${BASE}/{subscriptionId}/rotate-secret`,
      operationId: 'rotateWebhookSecret',
      summary: 'A new signing secret; the previous one stays valid for the overlap',
      tag: TAG,
      roles: OWNERS,
      scopes: SCOPES,
      requestBody: schemaRef('RotateWebhookSecretRequest'),
      success: {
        status: 200,
        description: 'The new secret, shown once',
        schema: schemaRef('RotateWebhookSecretResponse'),
      },
      errors: [404, 409],
      async handle(ctx) {
        const body = ctx.body as RotateWebhookSecretRequest;
        return { status: 200, body: await useCases().rotateSecret(ctx.principal, id(ctx.params), body) };
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{subscriptionId}/deliveries`,
      operationId: 'listWebhookDeliveries',
      summary: 'The delivery log: every delivery with its attempts, newest first',
      tag: TAG,
      roles: OWNERS,
      scopes: SCOPES,
      query: WEBHOOK_QUERY_PARAMS.listDeliveries,
      success: { status: 200, description: 'A page of deliveries', schema: schemaRef('ListWebhookDeliveriesResponse') },
      errors: [404],
      async handle(ctx) {
        const query = ctx.query as ListWebhookDeliveriesRequest;
        return { status: 200, body: await useCases().listDeliveries(ctx.principal, id(ctx.params), query) };
      },
    },
    {
      method: 'GET',
      path: `${BASE}/{subscriptionId}/deliveries/{deliveryId}`,
      operationId: 'getWebhookDelivery',
      summary: 'One delivery with its attempts',
      tag: TAG,
      roles: OWNERS,
      scopes: SCOPES,
      success: { status: 200, description: 'The delivery', schema: schemaRef('WebhookDelivery') },
      errors: [404],
      async handle(ctx) {
        const body = await useCases().getDelivery(ctx.principal, id(ctx.params), ctx.params.deliveryId ?? '');
        return { status: 200, body };
      },
    },
    {
      method: 'POST',
      path: `${BASE}/{subscriptionId}/replay`,
      operationId: 'replayWebhookDeliveries',
      summary: 'Send again, in their original order, the events of a time range (or only the dead letters)',
      tag: TAG,
      roles: OWNERS,
      scopes: SCOPES,
      requestBody: schemaRef('ReplayWebhookRequest'),
      success: { status: 202, description: 'How many were queued', schema: schemaRef('ReplayWebhookResponse') },
      errors: [404],
      async handle(ctx) {
        return {
          status: 202,
          body: await useCases().replay(ctx.principal, id(ctx.params), ctx.body as ReplayWebhookRequest),
        };
      },
    },
  ];
}
