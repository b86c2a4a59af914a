// Every subscription in memory, with its secrets opened: the dispatcher matches each event against it without a
// query, and the worker signs with it. Reloaded every WEBHOOK_CACHE_REFRESH_MS and at once after this replica's own
// changes; another replica's change is seen within one refresh.
import { type Periodic, startPeriodic } from '@o2o/kit-grpc';
import type { Logger } from '@o2o/kit-log';
import type { Subscription } from './model';
import type { SubscriptionStore } from './ports';
import type { SecretBox } from './secret-box';

/** A subscription with its secrets in the clear (memory only). */
export interface CachedSubscription {
  subscription: Subscription;
  secrets: { value: string; expireTime?: Date }[];
}

/** The cache. */
export interface SubscriptionCache {
  /** The subscriptions as last loaded. */
  all(): readonly CachedSubscription[];
  /** One subscription: from memory, else from the store (created on another replica since the last refresh). */
  get(id: string): Promise<CachedSubscription | undefined>;
  /** Reloads now; a reload that started earlier never overwrites a later one. */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

/** The secrets that sign a delivery at `now`: the current one, and the previous one until its overlap ends. */
export function validSecrets(cached: CachedSubscription, now: Date): string[] {
  return cached.secrets.filter((s) => !s.expireTime || s.expireTime.getTime() > now.getTime()).map((s) => s.value);
}

/** Starts the cache: loads once, then every `refreshMs`. */
export async function startSubscriptionCache(options: {
  store: SubscriptionStore;
  box: SecretBox;
  refreshMs: number;
  logger: Logger;
}): Promise<SubscriptionCache> {
  const { store, box, logger } = options;
  let current: CachedSubscription[] = [];
  let byId = new Map<string, CachedSubscription>();
  let started = 0;
  let applied = 0;

  const open = (subscription: Subscription): CachedSubscription => {
    const secrets: CachedSubscription['secrets'] = [];
    for (const s of subscription.secrets) {
      try {
        secrets.push({
          value: box.open(s.sealed, subscription.id),
          ...(s.expireTime ? { expireTime: s.expireTime } : {}),
        });
      } catch (error) {
        // Left out: deliveries wait instead of going unsigned (see the worker). Usually a changed WEBHOOK_SECRET_KEY.
        logger.error({ err: error, subscriptionId: subscription.id }, 'cannot open a webhook signing secret');
      }
    }
    return { subscription, secrets };
  };

  const refresh = async () => {
    const ticket = ++started;
    const loaded = (await store.all()).map(open);
    if (ticket < applied) return;
    applied = ticket;
    current = loaded;
    byId = new Map(loaded.map((c) => [c.subscription.id, c]));
  };

  await refresh();
  const periodic: Periodic = startPeriodic(
    'webhook-subscriptions',
    options.refreshMs,
    async () => {
      await refresh();
      return 0;
    },
    logger,
  );

  return {
    all: () => current,
    async get(id) {
      const cached = byId.get(id);
      if (cached) return cached;
      const found = await store.find(id);
      return found ? open(found) : undefined;
    },
    refresh,
    stop: () => periodic.stop(),
  };
}
