import { setTimeout as sleep } from 'node:timers/promises';
import { Metadata, status } from '@grpc/grpc-js';
import type { JsonObject } from '@bufbuild/protobuf';
import { kafkaSasl } from '@o2o/kit-config';
import { runService } from '@o2o/kit-grpc';
import { createKafkaClient } from '@o2o/kit-kafka';
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
import { type LookupOrder, orderFactsFromJson, startWebhooks } from './webhooks';
import { webhookConfig } from './webhooks/config';

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
  const connection = await connectMongo({
    url: config.MONGO_URL,
    dbName: config.MONGO_DB,
    appName: 'o2o-gateway',
    logger,
  });
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
  const contract = loadContract();
  const grpc = grpcGateway(contract, {
    'o2o.catalogue.v1.CatalogueService': config.CATALOGUE_ADDRESS,
    'o2o.inventory.v1.InventoryService': config.INVENTORY_ADDRESS,
    'o2o.orders.v1.OrdersService': config.ORDERS_ADDRESS,
    'o2o.payments.v1.PaymentsService': config.PAYMENTS_ADDRESS,
    'o2o.delivery.v1.DeliveryService': config.DELIVERY_ADDRESS,
  });
  // Partner webhooks: the dispatcher reads the domain topics; an event that arrives before the order it is about is
  // attributed by asking orders (internal call, no principal). NOT_FOUND: an order that does not exist (yet).
  const getOrder = contract.method('o2o.orders.v1.OrdersService', 'GetOrder');
  const lookupOrder: LookupOrder = async (orderId) => {
    try {
      const answer = (await grpc.unary(
        getOrder,
        { orderId },
        {
          metadata: new Metadata(),
          deadlineMs: config.DOWNSTREAM_DEADLINE_MS,
        },
      )) as JsonObject;
      return orderFactsFromJson(answer.order)?.facts;
    } catch (error) {
      if ((error as { code?: number }).code === status.NOT_FOUND) return undefined;
      throw error;
    }
  };
  const kafka = createKafkaClient({
    clientId: config.KAFKA_CLIENT_ID,
    brokers: config.KAFKA_BROKERS,
    logger,
    sasl: kafkaSasl(config),
    ssl: config.KAFKA_SSL,
  });
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const webhooks = await startWebhooks({
    db,
    kafka,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    config: webhookConfig(config),
    logger,
    lookupOrder,
  });
  const { routes, openapi } = gatewayApi({
    grpc,
    keys,
    webhooks: () => webhooks.useCases,
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
    corsOrigins: config.CORS_ALLOWED_ORIGINS,
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
        await webhooks.stop();
        await kafka.close();
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
