// Opaque ids. A delivery's id is derived from its subscription and event, so a redelivered Kafka message (same
// CloudEvent id) finds its delivery already written and creates no second one; a replayed copy adds the replay's tag.
import { createHash, randomBytes } from 'node:crypto';

/** A new subscription id: `whs_` + 16 random bytes, base64url. */
export function newSubscriptionId(): string {
  return `whs_${randomBytes(16).toString('base64url')}`;
}

/** A tag distinguishing one replay call's copies from every other's. */
export function newReplayTag(): string {
  return randomBytes(9).toString('base64url');
}

/** The id of the delivery of an event to a subscription (or of its copy in one replay). */
export function deliveryIdOf(subscriptionId: string, eventId: string, replayTag?: string): string {
  const hash = createHash('sha256').update(`${subscriptionId}\n${eventId}`);
  if (replayTag) hash.update(`\nreplay:${replayTag}`);
  return `whd_${hash.digest('base64url').slice(0, 32)}`;
}
