import { env, parseConfig, serviceEnv, z } from '@o2o/kit-config';
import { webhookEnv, webhookProductionProblems } from './webhooks/config';

/** host:port, or dns:///host:port (a headless Service name: calls are spread over its pods). */
const address = z.string().regex(/^(dns:\/\/\/)?[^\s:/]+:\d{1,5}$/, 'must be host:port or dns:///host:port');

/** The admin key local runs use (scripts/run-local.sh prints it); refused in production. */
export const LOCAL_ADMIN_KEY = 'o2o_localadmin_local-admin-key-not-for-production';

const fields = z.object({
  NODE_ENV: z.string().default('development'),
  // The gRPC fields of serviceEnv are unused (the gateway serves HTTP); they keep the shared Kafka, Mongo,
  // telemetry and shutdown settings in one place.
  ...serviceEnv('gateway', 50050),
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: env.port().default(8080),
  CATALOGUE_ADDRESS: address.default('127.0.0.1:50051'),
  INVENTORY_ADDRESS: address.default('127.0.0.1:50052'),
  ORDERS_ADDRESS: address.default('127.0.0.1:50053'),
  PAYMENTS_ADDRESS: address.default('127.0.0.1:50054'),
  DELIVERY_ADDRESS: address.default('127.0.0.1:50055'),
  /** Deadline of each call to a service. */
  DOWNSTREAM_DEADLINE_MS: env.millis().min(100).default(10_000),
  /** A request (not a tracking stream) that takes longer is cancelled. */
  REQUEST_TIMEOUT_MS: env.millis().min(100).default(15_000),
  /** Larger bodies are refused with 413 before they are read. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1_024).max(10_485_760).default(65_536),
  /** Requests a minute per API key or token subject, unless a key sets its own. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(600),
  /** How long a verified API key is remembered (a revocation takes at most this long to apply). */
  API_KEY_CACHE_MS: env.millis().default(30_000),
  /** An admin API key (`o2o_<id>_<secret>`) written at start-up, so the first keys can be issued. */
  BOOTSTRAP_ADMIN_KEY: z
    .string()
    .regex(/^o2o_[A-Za-z0-9]{8,32}_[A-Za-z0-9_-]{16,128}$/, 'must look like o2o_<id>_<secret>')
    .optional(),
  /** JWTs: issuer and audience to require, and one of a JWKS URL, a PEM public key, or an HS256 secret. */
  JWT_ISSUER: z.string().default('o2o-local'),
  JWT_AUDIENCE: z.string().default('o2o-gateway'),
  JWT_JWKS_URL: z.string().url().optional(),
  JWT_PUBLIC_KEY: z.string().optional(),
  JWT_HS256_SECRET: z.string().min(32).optional(),
  JWT_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(30),
  /** Browser origins allowed to call the API (CORS), comma-separated, e.g. https://shop.example; `*` for any. */
  CORS_ALLOWED_ORIGINS: env.list().default([]),
  /** Comment lines sent on idle tracking streams, so proxies do not close them. */
  SSE_HEARTBEAT_MS: env.millis().min(100).default(15_000),
  /** Partner webhooks: the dispatcher's group, retries, limits and the key secrets are sealed under. */
  ...webhookEnv,
});

const schema = fields
  .refine((c) => c.NODE_ENV !== 'production' || c.BOOTSTRAP_ADMIN_KEY !== LOCAL_ADMIN_KEY, {
    path: ['BOOTSTRAP_ADMIN_KEY'],
    message: 'must not be the local development key in production',
  })
  .refine((c) => c.NODE_ENV !== 'production' || webhookProductionProblems(c).length === 0, {
    path: ['WEBHOOK_SECRET_KEY'],
    message: 'must be set to a real key in production (the default is for local runs only)',
  })
  .refine((c) => c.NODE_ENV !== 'production' || !c.JWT_HS256_SECRET, {
    path: ['JWT_HS256_SECRET'],
    message: 'shared-secret tokens are for local runs; use JWT_JWKS_URL or JWT_PUBLIC_KEY in production',
  });

/** The gateway's configuration, parsed once at boot. */
export type GatewayConfig = z.infer<typeof schema>;

/** Reads and checks the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: Record<string, string | undefined>): Readonly<GatewayConfig> {
  return parseConfig(schema, source);
}
