import { env, kafkaEnv, parseConfig, z } from '@o2o/kit-config';

const schema = z.object({
  GRPC_HOST: z.string().default('127.0.0.1'),
  GRPC_PORT: env.port().default(50052),
  MONGO_URL: z.string().startsWith('mongodb').default('mongodb://127.0.0.1:27017'),
  MONGO_DB: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,60}$/)
    .default('o2o_inventory'),
  KAFKA_BROKERS: env.list().default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().default('o2o-inventory'),
  /** Consumer group that reads the catalogue's events. */
  KAFKA_GROUP_ID: z.string().default('o2o-inventory'),
  /** Prepended to topic names (ours and the catalogue's); empty in production, unique per test run. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .default(''),
  ...kafkaEnv,
  LOG_LEVEL: env.logLevel().default('info'),
  SHUTDOWN_DRAIN_DELAY_MS: env.millis().default(0),
  SHUTDOWN_GRACE_MS: env.millis().default(20_000),
  OUTBOX_POLL_INTERVAL_MS: env.millis().default(1000),
  /** How often the sweeper looks for expired holds, interrupted holds and unsettled lines. */
  HOLD_SWEEP_INTERVAL_MS: env.millis().default(1000),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none', 'memory']).default('none'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().default('inventory'),
});

/** Inventory's configuration, parsed once at boot. */
export type InventoryConfig = z.infer<typeof schema>;

/** Reads and checks the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: Record<string, string | undefined>): Readonly<InventoryConfig> {
  return parseConfig(schema, source);
}
