// The webhook variables, for the gateway's config schema to spread (`...webhookEnv`), and the typed settings the
// webhook module runs with. Nothing here reads process.env.
import { env, z } from '@o2o/kit-config';
import type { RetryPolicy } from './backoff';

/** The key local runs and tests use; refused in production by {@link webhookProductionProblems}. */
export const LOCAL_WEBHOOK_SECRET_KEY = 'local-webhook-secret-key-not-for-production';

/** The webhook environment variables with their defaults. */
export const webhookEnv = {
  /** Key the signing secrets are sealed under (AES-256-GCM): base64 of 32 bytes, or a passphrase (scrypt). */
  WEBHOOK_SECRET_KEY: z.string().min(16).default(LOCAL_WEBHOOK_SECRET_KEY),
  /** Consumer group of the dispatcher (one per deployment: replicas share it). */
  WEBHOOK_GROUP_ID: z.string().min(1).default('o2o-gateway-webhooks'),
  /** Delay after the first failed attempt; each further failure doubles it, up to WEBHOOK_RETRY_MAX_MS. */
  WEBHOOK_RETRY_BASE_MS: env.millis().min(1).default(5_000),
  WEBHOOK_RETRY_MAX_MS: env.millis().min(1).default(3_600_000),
  /** Attempts in all; after the last failed one the delivery is DEAD (a dead letter, replayable). */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(20),
  /** Time limit of one attempt (connect, send, response headers). */
  WEBHOOK_ATTEMPT_TIMEOUT_MS: env.millis().min(100).max(60_000).default(10_000),
  /** Requests in flight per replica. */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** How often the worker looks for due deliveries it was not told about (other replicas' writes, retries). */
  WEBHOOK_POLL_INTERVAL_MS: env.millis().min(10).default(1_000),
  /** How often each replica reloads the subscriptions (its own changes apply at once). */
  WEBHOOK_CACHE_REFRESH_MS: env.millis().min(50).default(5_000),
  WEBHOOK_MAX_SUBSCRIPTIONS_PER_OWNER: z.coerce.number().int().min(1).max(1_000).default(50),
  /** How long deliveries (and so the replay window) and order attributions are kept. */
  WEBHOOK_RETENTION_MS: env
    .millis()
    .min(60_000)
    .default(14 * 86_400_000),
  /** At most this many deliveries per replay call. */
  WEBHOOK_REPLAY_MAX: z.coerce.number().int().min(1).max(100_000).default(10_000),
  /** Allow endpoints on loopback/private/link-local addresses (tests, private deployments). */
  WEBHOOK_ALLOW_PRIVATE_URLS: env.bool().default(false),
};

/** The parsed variables (what `z.object(webhookEnv)` yields). */
export type WebhookEnv = z.infer<z.ZodObject<typeof webhookEnv>>;

/** The webhook module's settings. */
export interface WebhookConfig {
  secretKey: string;
  groupId: string;
  retry: RetryPolicy;
  concurrency: number;
  pollIntervalMs: number;
  cacheRefreshMs: number;
  maxSubscriptionsPerOwner: number;
  retentionMs: number;
  replayMax: number;
  allowPrivateUrls: boolean;
}

/** The settings from parsed variables. */
export function webhookConfig(parsed: WebhookEnv): WebhookConfig {
  return {
    secretKey: parsed.WEBHOOK_SECRET_KEY,
    groupId: parsed.WEBHOOK_GROUP_ID,
    retry: {
      baseDelayMs: parsed.WEBHOOK_RETRY_BASE_MS,
      maxDelayMs: Math.max(parsed.WEBHOOK_RETRY_MAX_MS, parsed.WEBHOOK_RETRY_BASE_MS),
      maxAttempts: parsed.WEBHOOK_MAX_ATTEMPTS,
      attemptTimeoutMs: parsed.WEBHOOK_ATTEMPT_TIMEOUT_MS,
    },
    concurrency: parsed.WEBHOOK_CONCURRENCY,
    pollIntervalMs: parsed.WEBHOOK_POLL_INTERVAL_MS,
    cacheRefreshMs: parsed.WEBHOOK_CACHE_REFRESH_MS,
    maxSubscriptionsPerOwner: parsed.WEBHOOK_MAX_SUBSCRIPTIONS_PER_OWNER,
    retentionMs: parsed.WEBHOOK_RETENTION_MS,
    replayMax: parsed.WEBHOOK_REPLAY_MAX,
    allowPrivateUrls: parsed.WEBHOOK_ALLOW_PRIVATE_URLS,
  };
}

/** The defaults with some variables overridden (tests, tools): parses like start-up does. */
export function webhookConfigFromEnv(vars: Record<string, string | undefined> = {}): WebhookConfig {
  return webhookConfig(z.object(webhookEnv).parse(vars));
}

/** Problems that must stop a production start (for the gateway schema's refine). */
export function webhookProductionProblems(parsed: Pick<WebhookEnv, 'WEBHOOK_SECRET_KEY'>): string[] {
  return parsed.WEBHOOK_SECRET_KEY === LOCAL_WEBHOOK_SECRET_KEY
    ? ['WEBHOOK_SECRET_KEY: must be set to a real key in production (the default is for local runs only)']
    : [];
}
