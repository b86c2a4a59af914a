import { env, parseConfig, serviceEnv, z } from '@o2o/kit-config';

/** The callback secret local runs and tests use; refused in production. */
const LOCAL_CALLBACK_SECRET = 'local-wallet-callback-secret';

const fields = z.object({
  NODE_ENV: z.string().default('development'),
  ...serviceEnv('payments', 50054),
  /** Host and port of the wallet providers' callback endpoint (HTTP); 0 picks a free port. */
  WALLET_CALLBACK_HOST: z.string().default('127.0.0.1'),
  WALLET_CALLBACK_PORT: env.port().default(50154),
  /** The URL providers are told to call back, when it differs from the listening address (behind an ingress). */
  WALLET_CALLBACK_URL: z.string().url().optional(),
  /** The shared secret wallet callbacks are signed with (HMAC-SHA256); at least 16 characters. */
  WALLET_CALLBACK_SECRET: z.string().min(16).default(LOCAL_CALLBACK_SECRET),
  /** How far a callback's signed timestamp may be from now before it is refused as stale (replay protection). */
  WALLET_CALLBACK_TOLERANCE_MS: env.millis().default(300_000),
  /** Default deadline of an unpaid wallet QR payment. */
  WALLET_PAYMENT_TTL_MS: env
    .millis()
    .min(1000)
    .default(15 * 60_000),
  /** How often PENDING wallet payments are queried at the provider (lost callbacks); 0 turns the timer off. */
  WALLET_RECONCILE_INTERVAL_MS: env.millis().default(30_000),
  /** Only payments PENDING for longer than this are queried (their callback should have come by now). */
  WALLET_RECONCILE_AFTER_MS: env.millis().default(60_000),
  /** How often unpaid wallet payments past their deadline are expired; 0 turns the timer off. */
  WALLET_EXPIRY_INTERVAL_MS: env.millis().default(5_000),
  /** Local runs only: serve the wallet simulator's "play the customer" HTTP API on this port (unset: off). */
  WALLET_SIMULATOR_PORT: env.port().optional(),
});

const schema = fields.refine((c) => c.NODE_ENV !== 'production' || c.WALLET_CALLBACK_SECRET !== LOCAL_CALLBACK_SECRET, {
  path: ['WALLET_CALLBACK_SECRET'],
  message: 'must be set to a real secret in production (the default is for local runs only)',
});

/** The payments service's configuration, parsed once at boot. */
export type PaymentsConfig = z.infer<typeof schema>;

/** Reads and checks the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: Record<string, string | undefined>): Readonly<PaymentsConfig> {
  return parseConfig(schema, source);
}
