import type { ApiKeyStore } from './auth/api-keys';
import type { JsonSchema, Route } from './http/route';
import { buildOpenApi } from './openapi';
import { API_KEY_SCHEMAS, apiKeyRoutes } from './rest/admin-routes';
import { type Contract, loadContract, SchemaBuilder } from './rest/contract';
import type { GrpcGateway } from './rest/grpc-call';
import { serviceRoutes } from './rest/routes';
import { WEBHOOK_ROUTE_SCHEMAS, webhookRoutes } from './rest/webhook-routes';
import type { WebhookUseCases } from './webhooks';

/** The gateway's version, as the OpenAPI document states it. */
export const API_VERSION = '1.0.0';

/** What the routes call; the OpenAPI generator passes stand-ins that are never called. */
export interface ApiDeps {
  grpc: GrpcGateway;
  keys: ApiKeyStore;
  /** Partner webhooks' use cases (resolved when a webhook route is called). */
  webhooks: () => WebhookUseCases;
  /** Routes contributed by other parts, with the schemas they reference. */
  extra?: { routes: Route[]; schemas: Record<string, JsonSchema> };
  deadlineMs: number;
  defaultRateLimitPerMinute: number;
  sseHeartbeatMs: number;
}

/** The route table and the OpenAPI document generated from it: one source for routing, checks and docs. */
export function gatewayApi(deps: ApiDeps): { routes: Route[]; openapi: Record<string, unknown>; contract: Contract } {
  const contract = loadContract();
  const schemas = new SchemaBuilder();
  const routes = [
    ...serviceRoutes({
      contract,
      grpc: deps.grpc,
      schemas,
      deadlineMs: deps.deadlineMs,
      sseHeartbeatMs: deps.sseHeartbeatMs,
    }),
    ...apiKeyRoutes(deps.keys, deps.defaultRateLimitPerMinute),
    ...webhookRoutes(deps.webhooks),
    ...(deps.extra?.routes ?? []),
  ];
  const openapi = buildOpenApi(
    routes,
    { ...schemas.schemas, ...API_KEY_SCHEMAS, ...WEBHOOK_ROUTE_SCHEMAS, ...(deps.extra?.schemas ?? {}) },
    API_VERSION,
  );
  return { routes, openapi, contract };
}
