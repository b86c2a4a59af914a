// Webhook metrics. SREs alert on failed attempts (a receiver in trouble) and dead letters (events a partner lost
// until they replay); the attempt duration shows slow receivers.
import { serviceMeter } from '@o2o/kit-telemetry';

/** Deliveries that reached a final state, by `outcome` (delivered, dead) (counter). */
export const WEBHOOK_DELIVERIES = 'o2o.gateway.webhook.deliveries';
/** HTTP attempts, by `outcome` (success, failure) (counter). */
export const WEBHOOK_ATTEMPTS = 'o2o.gateway.webhook.attempts';
/** Duration of HTTP attempts (histogram, ms). */
export const WEBHOOK_ATTEMPT_DURATION = 'o2o.gateway.webhook.attempt.duration';
/** Deliveries written by the dispatcher and by replays, by `origin` (event, replay) (counter). */
export const WEBHOOK_QUEUED = 'o2o.gateway.webhook.queued';

/** What the dispatcher and the worker report. */
export interface WebhookMetrics {
  queued(origin: 'event' | 'replay', count: number): void;
  attempt(outcome: 'success' | 'failure', durationMs: number): void;
  final(outcome: 'delivered' | 'dead'): void;
}

/** The webhook metrics on the gateway's meter. */
export function webhookMetrics(): WebhookMetrics {
  const meter = serviceMeter('o2o-gateway');
  const deliveries = meter.createCounter(WEBHOOK_DELIVERIES, {
    description: 'Webhook deliveries that reached a final state, by outcome',
    unit: '{delivery}',
  });
  const attempts = meter.createCounter(WEBHOOK_ATTEMPTS, {
    description: 'Webhook HTTP attempts, by outcome',
    unit: '{attempt}',
  });
  const duration = meter.createHistogram(WEBHOOK_ATTEMPT_DURATION, {
    description: 'Duration of webhook HTTP attempts',
    unit: 'ms',
  });
  const queued = meter.createCounter(WEBHOOK_QUEUED, {
    description: 'Webhook deliveries queued, by origin',
    unit: '{delivery}',
  });
  return {
    queued: (origin, count) => queued.add(count, { origin }),
    attempt(outcome, durationMs) {
      attempts.add(1, { outcome });
      duration.record(durationMs, { outcome });
    },
    final: (outcome) => deliveries.add(1, { outcome }),
  };
}
