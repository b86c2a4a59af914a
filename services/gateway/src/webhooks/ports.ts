// What the webhook use cases, the dispatcher and the worker need from storage and the outside world. The MongoDB
// adapters (mongo-*.ts) implement the stores with single-document atomic updates only (FerretDB has no transactions).
import type { Delivery, DeliveryAttempt, DeliveryStatus, OrderFacts, Subscription } from './model';

/** A position in a newest-first list: the last item's time and id. */
export interface ListCursor {
  time: Date;
  id: string;
}

/** Subscriptions. */
export interface SubscriptionStore {
  insert(subscription: Subscription): Promise<void>;
  find(id: string): Promise<Subscription | undefined>;
  /** Newest first; `ownerKey` limits it to one owner's (see {@link ownerKeyOf}). */
  list(options: { ownerKey?: string; after?: ListCursor; limit: number }): Promise<Subscription[]>;
  count(ownerKey: string): Promise<number>;
  /** Writes the new state if the stored version is still `expectedVersion`; false when it moved or is gone. */
  replace(subscription: Subscription, expectedVersion: number): Promise<boolean>;
  /** Deletes it with its deliveries and sequences; false when it did not exist. */
  delete(id: string): Promise<boolean>;
  /** Every subscription (the dispatcher's cache). */
  all(): Promise<Subscription[]>;
}

/** The fields a new delivery is written with. */
export type NewDelivery = Omit<Delivery, 'status' | 'attempts' | 'updateTime'>;

/** How an attempt ended, as the worker writes it. */
export interface AttemptOutcome {
  attempt: DeliveryAttempt;
  status: DeliveryStatus;
  /** When to retry (status PENDING). */
  nextAttemptTime?: Date;
}

/** Deliveries and their per-key sequences. */
export interface DeliveryStore {
  /**
   * Reserves `count` (default 1) consecutive sequences of (subscription, key) and returns the first: each greater than
   * every one reserved before, even after a sweep removed the counter.
   */
  nextSequence(subscriptionId: string, orderingKey: string, count?: number): Promise<number>;
  /** 'exists' when a delivery with that id was written before (a redelivered Kafka message). */
  insert(delivery: NewDelivery): Promise<'inserted' | 'exists'>;
  /** Writes new deliveries in order (replays: fresh ids). */
  insertMany(deliveries: NewDelivery[]): Promise<void>;
  find(id: string): Promise<Delivery | undefined>;
  /** Newest first. */
  list(options: {
    subscriptionId: string;
    status?: DeliveryStatus;
    eventType?: string;
    after?: ListCursor;
    limit: number;
  }): Promise<Delivery[]>;
  /** A subscription's deliveries of events in a time range, at most `limit` (the caller asks one more to detect excess). */
  inRange(options: { subscriptionId: string; from: Date; to: Date; limit: number }): Promise<Delivery[]>;
  /** PENDING deliveries due at `now`, earliest first. */
  due(now: Date, limit: number): Promise<Delivery[]>;
  /** The PENDING delivery of (subscription, key) with the smallest sequence. */
  earliestPending(subscriptionId: string, orderingKey: string): Promise<Delivery | undefined>;
  /** Moves an unclaimed delivery's next attempt from `seen` to `until`; false if it changed since it was read. */
  park(id: string, seen: Date | undefined, until: Date): Promise<boolean>;
  /** Claims a due PENDING delivery until `leaseUntil` under `token`; undefined when another replica has it. */
  claim(id: string, options: { now: Date; leaseUntil: Date; token: string }): Promise<Delivery | undefined>;
  /** Records an attempt under the claim; false when the claim was lost (the lease ran out, or it was deleted). */
  finish(id: string, token: string, outcome: AttemptOutcome): Promise<boolean>;
  /** Gives a claim back without an attempt (the subscription is paused): tried again at `nextAttemptTime`. */
  release(id: string, token: string, nextAttemptTime: Date): Promise<void>;
  /** Makes the next PENDING delivery of (subscription, key) after `sequence` due now, if it is parked. */
  wakeNext(subscriptionId: string, orderingKey: string, sequence: number, now: Date): Promise<void>;
  /** Deletes final deliveries created before `cutoff` and sequences unused since; returns how many deliveries. */
  sweep(cutoff: Date): Promise<number>;
}

/** The order projection: order id → who may see it, kept from orders events. */
export interface OrderFactsStore {
  /** Saves the facts unless newer ones (a higher version) are stored. */
  save(orderId: string, facts: OrderFacts): Promise<void>;
  find(orderId: string): Promise<OrderFacts | undefined>;
  /** Deletes entries not updated since `cutoff` (a later event of the order looks it up again). */
  sweep(cutoff: Date): Promise<number>;
}

/** Reads an order's facts from the orders service (GetOrder); undefined when no such order exists. */
export type LookupOrder = (orderId: string) => Promise<OrderFacts | undefined>;

/** The key of an owner in storage: role and subject. */
export function ownerKeyOf(owner: { role: string; subject: string }): string {
  return `${owner.role}:${owner.subject}`;
}
