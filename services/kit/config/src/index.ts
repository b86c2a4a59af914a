import { z } from 'zod';

/** Thrown at start-up when the environment does not satisfy the service's config schema. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** Parses the environment once, at boot, into a typed, deeply frozen object; lists every problem at once. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Schema helpers shared by every service's config: comma lists, ports, durations, booleans. */
export const env = {
  /** "a,b ,c" → ["a","b","c"]; empty entries rejected. */
  list: () =>
    z
      .string()
      .transform((s) => s.split(',').map((p) => p.trim()))
      .refine(
        (l) => l.length > 0 && l.every((p) => p.length > 0),
        'must be a comma-separated list of non-empty values',
      ),
  /** A TCP port, 0 meaning "any free port" (tests). */
  port: () => z.coerce.number().int().min(0).max(65535),
  /** A positive integer of milliseconds. */
  millis: () => z.coerce.number().int().min(0),
  /** "true"/"false"/"1"/"0". */
  bool: () => z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
};

/**
 * The Kafka variables every service reads besides its brokers and client id: SASL credentials (the cluster's
 * listeners use SCRAM-SHA-512; local runs use none), TLS, and the partition count topics are created with (it must
 * equal the count of topics that already exist, e.g. 12 where Strimzi declares them).
 */
export const kafkaEnv = {
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  KAFKA_SSL: env.bool().default(false),
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6),
};

/**
 * The variables every o2o service reads, with its own defaults: where gRPC listens, its database, Kafka (see
 * {@link kafkaEnv}), logging, the graceful-stop timeline, the outbox relay's idle poll, tracing and metrics. A service's
 * schema spreads this and adds its own.
 */
export function serviceEnv(service: string, grpcPort: number) {
  return {
    GRPC_HOST: z.string().default('127.0.0.1'),
    GRPC_PORT: env.port().default(grpcPort),
    MONGO_URL: z.string().startsWith('mongodb').default('mongodb://127.0.0.1:27017'),
    MONGO_DB: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,60}$/)
      .default(`o2o_${service}`),
    KAFKA_BROKERS: env.list().default(['127.0.0.1:9092']),
    KAFKA_CLIENT_ID: z.string().default(`o2o-${service}`),
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
    /** Idle poll for unsent events (other replicas' writes, crash leftovers); the service's own writes wake the relay. */
    OUTBOX_POLL_INTERVAL_MS: env.millis().default(1000),
    OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none', 'memory']).default('none'),
    OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
    OTEL_SERVICE_NAME: z.string().default(service),
    /** Where metrics go: a Prometheus /metrics endpoint on METRICS_PORT, OTLP to the collector, or nowhere. */
    OTEL_METRICS_EXPORTER: z.enum(['prometheus', 'otlp', 'none']).default('none'),
    /** Port of the Prometheus endpoint when OTEL_METRICS_EXPORTER=prometheus. */
    METRICS_PORT: env.port().default(9464),
    /** Interface of the Prometheus endpoint: all (a pod is scraped on its IP); tests and local runs use 127.0.0.1. */
    METRICS_HOST: z.string().min(1).default('0.0.0.0'),
    /** How old the values of database-backed gauges (backlogs) may be when scraped: at most one query per interval. */
    METRICS_QUERY_INTERVAL_MS: env.millis().default(15_000),
  };
}

/** SASL settings from {@link kafkaEnv} values: undefined without a mechanism; a mechanism needs both credentials. */
export function kafkaSasl(config: {
  KAFKA_SASL_MECHANISM?: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  KAFKA_SASL_USERNAME?: string;
  KAFKA_SASL_PASSWORD?: string;
}): { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | undefined {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
  if (!mechanism) return undefined;
  const missing = [!username && 'KAFKA_SASL_USERNAME', !password && 'KAFKA_SASL_PASSWORD'].filter(Boolean);
  if (!username || !password) {
    throw new ConfigError(missing.map((name) => `${String(name)}: required when KAFKA_SASL_MECHANISM is set`));
  }
  return { mechanism, username, password };
}

export { z };
