// Per-key order. Each delivery has a sequence within (subscription, ordering key), given when it is written, in the
// order the dispatcher consumed the events (one partition at a time, so one key's events of one topic arrive in
// publish order). The rule: a delivery is attempted only when no delivery of the same subscription and key with a
// smaller sequence is still PENDING. A DEAD delivery no longer holds the ones behind it: they continue, and a replay
// re-sends the dead one (and, if asked, everything after it) in the original order, behind whatever is pending.

/** The fields the ordering rule reads. */
export interface Sequenced {
  orderingKey: string;
  sequence: number;
}

/** Whether `candidate` may be attempted, given the earliest PENDING delivery of its subscription and key. */
export function mayAttempt(candidate: Sequenced, earliestPending: Sequenced | undefined): boolean {
  return earliestPending === undefined || earliestPending.sequence >= candidate.sequence;
}

/** The fields a replay orders by. */
export interface ReplayCandidate extends Sequenced {
  eventId: string;
  originalSequence: number;
}

/**
 * The deliveries a replay re-queues: one per event (its latest copy, whose status says whether the event finally
 * got through), ordered per key by the sequence of the event's first delivery, i.e. as the events were consumed.
 */
export function replayOrder<T extends ReplayCandidate>(copies: readonly T[]): T[] {
  const latest = new Map<string, T>();
  for (const copy of copies) {
    const seen = latest.get(copy.eventId);
    if (!seen || copy.sequence > seen.sequence) latest.set(copy.eventId, copy);
  }
  return [...latest.values()].sort((a, b) =>
    a.orderingKey === b.orderingKey ? a.originalSequence - b.originalSequence : a.orderingKey < b.orderingKey ? -1 : 1,
  );
}
