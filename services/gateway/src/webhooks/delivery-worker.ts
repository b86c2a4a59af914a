// The delivery worker of one replica: finds due PENDING deliveries, keeps each key's order (a delivery waits while
// an earlier one of its subscription and key is pending: it is parked, and woken when that one ends), claims the
// delivery under a lease so no other replica sends it at the same time, signs and POSTs it, and records the attempt:
// DELIVERED on a 2xx, otherwise a retry after the backoff, or DEAD after the last attempt.
import { randomUUID } from 'node:crypto';
import type { Logger } from '@o2o/kit-log';
import { afterFailure, type RetryPolicy } from './backoff';
import type { WebhookSender } from './http-sender';
import type { Delivery } from './model';
import { mayAttempt } from './ordering';
import type { AttemptOutcome, DeliveryStore } from './ports';
import { signatureHeader, SIGNATURE_HEADER, WEBHOOK_ID_HEADER, WEBHOOK_TIMESTAMP_HEADER } from './signing';
import { type SubscriptionCache, validSecrets } from './subscription-cache';
import type { WebhookMetrics } from './webhook-metrics';

/** The content type of a structured-mode JSON CloudEvent. */
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';

/** How many times one wake-up reads more due deliveries when a whole batch was parked or taken by others. */
const MAX_ROUNDS = 10;

/** What the worker needs. */
export interface WorkerDeps {
  deliveries: DeliveryStore;
  cache: SubscriptionCache;
  send: WebhookSender;
  retry: RetryPolicy;
  /** Requests in flight at most. */
  concurrency: number;
  /** Idle poll: other replicas' writes and due retries are found at least this often. */
  pollIntervalMs: number;
  /** A paused subscription's (or one without a usable secret) deliveries are looked at again after this. */
  holdMs: number;
  logger: Logger;
  metrics?: WebhookMetrics;
  now?: () => Date;
  random?: () => number;
}

/** A running worker. */
export interface DeliveryWorker {
  /** Something is due now: look without waiting for the poll. */
  kick(): void;
  /** Stops looking, waits for the requests in flight to end and be recorded. */
  stop(): Promise<void>;
}

/** Starts the worker loop. */
export function startDeliveryWorker(deps: WorkerDeps): DeliveryWorker {
  const { deliveries, cache, retry, logger } = deps;
  const now = deps.now ?? (() => new Date());
  // Long enough that a request still running when the lease ends has certainly been aborted by its own timeout.
  const leaseMs = 2 * retry.attemptTimeoutMs + 5_000;
  const inFlight = new Map<string, Promise<void>>();
  let stopped = false;
  let kicked = false;
  let wake: (() => void) | undefined;

  const kick = () => {
    kicked = true;
    wake?.();
  };

  const sleep = () =>
    new Promise<void>((resolve) => {
      if (kicked || stopped) return resolve();
      const timer = setTimeout(done, deps.pollIntervalMs);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  /** Starts what is due; true when a full batch was read and slots are still free (read again at once). */
  const fill = async (): Promise<boolean> => {
    const free = deps.concurrency - inFlight.size;
    if (free <= 0 || stopped) return false;
    const time = now();
    const batch = free * 2;
    const due = await deliveries.due(time, batch);
    for (const candidate of due) {
      if (stopped || inFlight.size >= deps.concurrency) return false;
      if (inFlight.has(candidate.id)) continue;
      const earliest = await deliveries.earliestPending(candidate.subscriptionId, candidate.orderingKey);
      if (!mayAttempt(candidate, earliest)) {
        // Parked until the earlier one's next attempt at the latest; its end wakes this one sooner.
        const until = new Date(
          Math.max(earliest?.nextAttemptTime?.getTime() ?? 0, time.getTime() + deps.pollIntervalMs),
        );
        if (await deliveries.park(candidate.id, candidate.nextAttemptTime, until)) {
          // The earlier one may have ended meanwhile, before it could see this one parked: look again, so a
          // wake-up is never lost (its end is written before it looks for the next; the park before this look).
          const again = await deliveries.earliestPending(candidate.subscriptionId, candidate.orderingKey);
          if (mayAttempt(candidate, again) && (await deliveries.park(candidate.id, until, time))) kicked = true;
        }
        continue;
      }
      const token = randomUUID();
      const claimed = await deliveries.claim(candidate.id, {
        now: time,
        leaseUntil: new Date(time.getTime() + leaseMs),
        token,
      });
      if (!claimed) continue;
      const job = attempt(claimed, token)
        .catch((error: unknown) =>
          logger.warn({ err: error, deliveryId: claimed.id }, 'webhook attempt failed to record'),
        )
        .finally(() => {
          inFlight.delete(claimed.id);
          kick();
        });
      inFlight.set(claimed.id, job);
    }
    return due.length === batch && inFlight.size < deps.concurrency;
  };

  const attempt = async (delivery: Delivery, token: string) => {
    const cached = await cache.get(delivery.subscriptionId);
    const started = now();
    if (!cached) {
      await deliveries.finish(delivery.id, token, {
        status: 'DEAD',
        attempt: { time: started, durationMs: 0, error: 'the subscription was deleted' },
      });
      return;
    }
    const secrets = validSecrets(cached, started);
    if (cached.subscription.status !== 'ACTIVE' || secrets.length === 0) {
      if (secrets.length === 0)
        logger.error({ subscriptionId: delivery.subscriptionId }, 'webhook has no usable secret');
      await deliveries.release(delivery.id, token, new Date(started.getTime() + deps.holdMs));
      return;
    }
    const timestamp = Math.floor(started.getTime() / 1000);
    const response = await deps.send({
      url: cached.subscription.url,
      headers: {
        'content-type': CLOUDEVENTS_JSON,
        'user-agent': 'o2o-webhooks/1',
        [WEBHOOK_ID_HEADER]: delivery.eventId,
        [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signatureHeader(secrets, timestamp, delivery.body),
      },
      body: delivery.body,
      timeoutMs: retry.attemptTimeoutMs,
    });
    deps.metrics?.attempt(response.ok ? 'success' : 'failure', response.durationMs);
    const record = {
      time: started,
      durationMs: response.durationMs,
      ...(response.httpStatus !== undefined ? { httpStatus: response.httpStatus } : {}),
      ...(response.error ? { error: response.error } : {}),
    };
    const failures = delivery.attempts.length + 1;
    const step = response.ok ? undefined : afterFailure(failures, retry, { now: now(), random: deps.random });
    const outcome: AttemptOutcome = response.ok
      ? { status: 'DELIVERED', attempt: record }
      : step?.kind === 'retry'
        ? { status: 'PENDING', attempt: record, nextAttemptTime: step.at }
        : { status: 'DEAD', attempt: record };
    if (!(await deliveries.finish(delivery.id, token, outcome))) {
      logger.warn({ deliveryId: delivery.id }, 'webhook delivery claim was lost before its attempt was recorded');
      return;
    }
    if (outcome.status === 'PENDING') return;
    deps.metrics?.final(outcome.status === 'DELIVERED' ? 'delivered' : 'dead');
    if (outcome.status === 'DEAD') {
      logger.warn(
        {
          deliveryId: delivery.id,
          subscriptionId: delivery.subscriptionId,
          eventId: delivery.eventId,
          attempts: failures,
        },
        'webhook delivery is dead after its last attempt',
      );
    }
    // The next one of this key no longer waits.
    await deliveries.wakeNext(delivery.subscriptionId, delivery.orderingKey, delivery.sequence, now());
  };

  const loop = (async () => {
    while (!stopped) {
      kicked = false;
      try {
        for (let round = 0; round < MAX_ROUNDS && (await fill()); round++);
      } catch (error) {
        logger.warn({ err: error }, 'webhook worker could not read due deliveries; it tries again');
      }
      await sleep();
    }
  })();

  return {
    kick,
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await Promise.all(inFlight.values());
    },
  };
}
