import { env, parseConfig, serviceEnv, z } from '@o2o/kit-config';

/** host:port, or dns:///host:port (a headless Service name: calls are spread over its pods). */
const address = z.string().regex(/^(dns:\/\/\/)?[^\s:/]+:\d{1,5}$/, 'must be host:port or dns:///host:port');

/** The code secret local runs and tests use; refused in production. */
const LOCAL_CODE_SECRET = 'local-handover-code-secret';

const fields = z.object({
  NODE_ENV: z.string().default('development'),
  ...serviceEnv('delivery', 50055),
  /** Consumer group that reads the orders events (tasks come from OrderConfirmed). */
  KAFKA_GROUP_ID: z.string().default('o2o-delivery'),
  /** Inventory owns the locations: delivery reads where a location is from it. */
  INVENTORY_ADDRESS: address.default('127.0.0.1:50052'),
  DOWNSTREAM_DEADLINE_MS: env.millis().min(100).default(5_000),
  /** Secret the pick-up and delivery codes are derived from (HMAC-SHA256); at least 16 characters. */
  HANDOVER_CODE_SECRET: z.string().min(16).default(LOCAL_CODE_SECRET),
  /** A location must accept a task within this time, or it is announced overdue (orders may re-route it). */
  TASK_ACCEPT_MS: env
    .millis()
    .min(1_000)
    .default(5 * 60_000),
  /** Picking must be done this long after acceptance. */
  TASK_PICK_MS: env
    .millis()
    .min(1_000)
    .default(15 * 60_000),
  /** Packing must be done this long after picking. */
  TASK_PACK_MS: env
    .millis()
    .min(1_000)
    .default(10 * 60_000),
  /** An uncollected pick-up expires this long after it was ready. */
  PICKUP_EXPIRY_MS: env
    .millis()
    .min(1_000)
    .default(3 * 24 * 3_600_000),
  /** Wrong codes in a row before verification is locked, and for how long. */
  CODE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  CODE_LOCK_MS: env
    .millis()
    .min(1_000)
    .default(15 * 60_000),
  /** How long a courier has to answer an offer before dispatch offers the shipment to another. */
  OFFER_TIMEOUT_MS: env.millis().min(1_000).default(60_000),
  /** Couriers farther than this from the location are not offered its shipments. */
  DISPATCH_RADIUS_M: z.coerce.number().int().min(100).max(100_000).default(8_000),
  /** Each shipment a courier already carries counts as this many extra metres when choosing the nearest. */
  DISPATCH_LOAD_PENALTY_M: z.coerce.number().int().min(0).max(100_000).default(1_500),
  /** A courier position older than this is not used for dispatch. */
  POSITION_FRESH_MS: env
    .millis()
    .min(1_000)
    .default(5 * 60_000),
  /** Reports above this rate per courier stream are dropped. */
  POSITION_MAX_PER_SECOND: z.coerce.number().int().min(1).max(100).default(20),
  /** The latest position is written to the database at most this often per courier. */
  POSITION_PERSIST_MS: env.millis().min(100).default(2_000),
  /** A ShipmentPosition event goes to Kafka at most this often per shipment. */
  POSITION_EVENT_MS: env.millis().min(1_000).default(15_000),
  /** Internal topic that carries live positions between replicas (not a partner contract). */
  TRACKING_TOPIC: z.string().default('o2o.delivery.tracking.v1'),
  /**
   * How often every replica looks for courier slots held by a shipment that does not name the courier (a crash between
   * claiming the slot and writing the offer), and how long a courier must have been unchanged to be looked at.
   */
  SLOT_RECONCILE_INTERVAL_MS: env.millis().default(30_000),
  SLOT_RECONCILE_AFTER_MS: env.millis().min(1_000).default(30_000),
  /** How often the sweeper looks for overdue tasks, expired pick-ups, unanswered offers and waiting shipments. */
  SWEEP_INTERVAL_MS: env.millis().default(1_000),
});

const schema = fields.refine((c) => c.NODE_ENV !== 'production' || c.HANDOVER_CODE_SECRET !== LOCAL_CODE_SECRET, {
  path: ['HANDOVER_CODE_SECRET'],
  message: 'must be set to a real secret in production (the default is for local runs only)',
});

/** The delivery service's configuration, parsed once at boot. */
export type DeliveryConfig = z.infer<typeof schema>;

/** Reads and checks the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: Record<string, string | undefined>): Readonly<DeliveryConfig> {
  return parseConfig(schema, source);
}
