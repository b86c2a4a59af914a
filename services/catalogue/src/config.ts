import { env, kafkaEnv, parseConfig, z } from '@o2o/kit-config';

const schema = z.object({
  GRPC_HOST: z.string().default('127.0.0.1'),
  GRPC_PORT: env.port().default(50051),
  MONGO_URL: z.string().startsWith('mongodb').default('mongodb://127.0.0.1:27017'),
  MONGO_DB: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,60}$/)
    .default('o2o_catalogue'),
  KAFKA_BROKERS: env.list().default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().default('o2o-catalogue'),
  /** Prepended to topic names; empty in production, unique per test run so tests never share topics. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .default(''),
  ...kafkaEnv,
  LOG_LEVEL: env.logLevel().default('info'),
  /** After SIGTERM: how long health says NOT_SERVING before new calls are refused (probes must notice). */
  SHUTDOWN_DRAIN_DELAY_MS: env.millis().default(0),
  /** After SIGTERM: how long in-flight calls may take before they are cancelled. */
  SHUTDOWN_GRACE_MS: env.millis().default(20_000),
  /** Idle poll for unsent events (other replicas' writes, crash leftovers); this process's own writes kick the relay at once. */
  OUTBOX_POLL_INTERVAL_MS: env.millis().default(1000),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none', 'memory']).default('none'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().default('catalogue'),
});

/** The catalogue's configuration, parsed once at boot. */
export type CatalogueConfig = z.infer<typeof schema>;

/** Reads and checks the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: Record<string, string | undefined>): Readonly<CatalogueConfig> {
  return parseConfig(schema, source);
}
