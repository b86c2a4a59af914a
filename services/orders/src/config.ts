import { env, parseConfig, serviceEnv, z } from '@o2o/kit-config';

/** host:port, or dns:///host:port (a headless Service name: calls are spread over its pods). */
const address = z.string().regex(/^(dns:\/\/\/)?[^\s:/]+:\d{1,5}$/, 'must be host:port or dns:///host:port');

const schema = z.object({
  ...serviceEnv('orders', 50053),
  /** Consumer group that reads the payments and delivery events. */
  KAFKA_GROUP_ID: z.string().default('o2o-orders'),
  CATALOGUE_ADDRESS: address.default('127.0.0.1:50051'),
  INVENTORY_ADDRESS: address.default('127.0.0.1:50052'),
  PAYMENTS_ADDRESS: address.default('127.0.0.1:50054'),
  /** Deadline of each call to another service. */
  DOWNSTREAM_DEADLINE_MS: env.millis().min(100).default(5_000),
  /** A placement that cannot finish in this time is given up: compensated and REJECTED. */
  PLACEMENT_TIMEOUT_MS: env.millis().min(1_000).default(120_000),
  /** Stock is held this long while a card is authorised. */
  PLACEMENT_HOLD_TTL_MS: env
    .millis()
    .min(10_000)
    .default(15 * 60_000),
  /** Deadline of a wallet QR payment; the order waits in AWAITING_PAYMENT until then. */
  WALLET_PAY_TTL_MS: env
    .millis()
    .min(1_000)
    .default(15 * 60_000),
  /** Once confirmed, holds are extended this far (until the goods leave); inventory allows at most 7 days. */
  CONFIRMED_HOLD_TTL_MS: env
    .millis()
    .min(60_000)
    .max(7 * 24 * 3_600_000)
    .default(6 * 24 * 3_600_000),
  /** How often the recovery loop runs tasks a crashed or retrying runner left; 0 turns it off. */
  RECOVERY_INTERVAL_MS: env.millis().default(1_000),
  /** How long a runner's claim on an order lasts without renewal (a crashed runner's claim lapses after it). */
  TASK_LEASE_MS: env.millis().min(500).default(15_000),
  /** How many times an order's groups may be re-routed when their location does not accept in time; 0 turns it off. */
  ORDER_MAX_REROUTES: z.coerce.number().int().min(0).max(10).default(2),
});

/** The orders service's configuration, parsed once at boot. */
export type OrdersConfig = z.infer<typeof schema>;

/** Reads and checks the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: Record<string, string | undefined>): Readonly<OrdersConfig> {
  return parseConfig(schema, source);
}
