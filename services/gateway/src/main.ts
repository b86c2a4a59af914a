import { setTimeout as sleep } from 'node:timers/promises';
import { runService } from '@o2o/kit-grpc';
import { createLogger, type Logger } from '@o2o/kit-log';
import { connectMongo } from '@o2o/kit-mongo';
import { gatewayApi } from './api';
import { mongoApiKeyStore } from './auth/api-keys';
import { createAuthenticator } from './auth/authenticate';
import { createRateLimiter } from './auth/rate-limit';
import type { GatewayConfig } from './config';
import { startHttpServer } from './http/server';
import { createValidators } from './http/validation';
import { loadContract } from './rest/contract';
import { grpcGateway } from './rest/grpc-call';

/** A running gateway. */
export interface GatewayService {
  port: number;
  logger: Logger;
  /** Graceful stop: readiness fails, drain, end tracking streams, close the HTTP server, then the rest. */
  stop(): Promise<void>;
}

/** Composition root: builds and starts everything by hand. Tests call it with port 0. */
export async function start(
  config: Readonly<GatewayConfig>,
  options: { logger?: Logger } = {},
): Promise<GatewayService> {
  const logger = options.logger ?? createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const connection = await connectMongo({ url: config.MONGO_URL, dbName: config.MONGO_DB, appName: 'o2o-gateway' });
  const keys = mongoApiKeyStore(connection, { cacheMs: config.API_KEY_CACHE_MS });
  if (config.BOOTSTRAP_ADMIN_KEY) {
    // No scopes of its own: an admin key gets every scope.
    await keys.create({
      principal: { role: 'admin', subject: 'bootstrap-admin', storeIds: [], scopes: [] },
      rateLimitPerMinute: 0,
      description: 'bootstrap admin key (BOOTSTRAP_ADMIN_KEY)',
      key: config.BOOTSTRAP_ADMIN_KEY,
    });
  }
  const grpc = grpcGateway(loadContract(), {
    'o2o.catalogue.v1.CatalogueService': config.CATALOGUE_ADDRESS,
    'o2o.inventory.v1.InventoryService': config.INVENTORY_ADDRESS,
    'o2o.orders.v1.OrdersService': config.ORDERS_ADDRESS,
    'o2o.payments.v1.PaymentsService': config.PAYMENTS_ADDRESS,
    'o2o.delivery.v1.DeliveryService': config.DELIVERY_ADDRESS,
  });
  const { routes, openapi } = gatewayApi({
    grpc,
    keys,
    deadlineMs: config.DOWNSTREAM_DEADLINE_MS,
    defaultRateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    sseHeartbeatMs: config.SSE_HEARTBEAT_MS,
  });
  const authenticate = await createAuthenticator({
    keys,
    defaultRateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    jwt: {
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      jwksUrl: config.JWT_JWKS_URL,
      publicKeyPem: config.JWT_PUBLIC_KEY,
      sharedSecret: config.JWT_HS256_SECRET,
      clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_S,
    },
  });
  let ready = true;
  const http = await startHttpServer({
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    routes,
    validators: createValidators(openapi),
    authenticate,
    limiter: createRateLimiter(),
    logger,
    maxBodyBytes: config.MAX_BODY_BYTES,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    openapi,
    ready: () => ready,
  });
  logger.info({ port: http.port, routes: routes.length }, 'gateway listening');

  let stopping: Promise<void> | undefined;
  return {
    port: http.port,
    logger,
    stop: () =>
      (stopping ??= (async () => {
        ready = false;
        await sleep(config.SHUTDOWN_DRAIN_DELAY_MS);
        await Promise.race([http.close(), sleep(config.SHUTDOWN_GRACE_MS)]);
        http.server.closeAllConnections();
        grpc.close();
        await connection.close();
      })()),
  };
}

/** Process entry: stop gracefully on SIGTERM/SIGINT, then run `onStopped` (telemetry flush). */
export function run(config: Readonly<GatewayConfig>, onStopped?: () => Promise<void>): void {
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  runService(() => start(config, { logger }), logger, onStopped);
}
