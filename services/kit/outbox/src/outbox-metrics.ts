// The outbox's metrics: how many documents wait to be published (a gauge), and what the relays sent or failed to
// send (counters). The backlog comes from what the relay reads anyway whenever it can; a count query runs only when
// the relay cannot know (a backlog beyond one batch, or no relay running because Kafka is down), at most once per
// COUNT_INTERVAL_MS per collection, and only when a metric reader collects.
import { metrics, type Counter, type MeterProvider, type ObservableResult } from '@opentelemetry/api';
import type { mongo } from 'mongoose';

/** Documents holding unsent events, per collection (gauge). */
export const OUTBOX_BACKLOG = 'o2o.outbox.backlog';
/** Events the relays published, per collection and CloudEvents type (counter). */
export const OUTBOX_PUBLISHED = 'o2o.outbox.events.published';
/** Events whose publish failed and will be retried, per collection (counter). */
export const OUTBOX_PUBLISH_FAILURES = 'o2o.outbox.publish.failures';

/** A relay's view older than this is not trusted: the relay may be stuck in a long backoff, or gone. */
const FRESH_MS = 15_000;
/** How often at most the backlog is counted with a query, per collection. */
const COUNT_INTERVAL_MS = 15_000;
/** A count slower than this does not hold up a scrape; its result serves the next one. */
const COUNT_WAIT_MS = 2_000;

/** The backlog of one outbox collection, as relays see it. */
export interface OutboxBacklog {
  /** What a relay's scan found: `pending` documents, `exact` when the scan saw all of them (not cut by its limit). */
  observed(pending: number, exact: boolean): void;
  /** Stops reporting this collection. */
  untrack(): void;
}

interface Tracked {
  collection: mongo.Collection<mongo.Document>;
  filter: mongo.Filter<mongo.Document>;
  name: string;
  seen?: { pending: number; at: number };
  counted?: { pending: number; at: number };
  counting?: Promise<void>;
}

const tracked = new Set<Tracked>();

/** Reports the collection's backlog in {@link OUTBOX_BACKLOG} until untracked. */
export function trackOutboxBacklog(
  collection: mongo.Collection<mongo.Document>,
  filter: mongo.Filter<mongo.Document>,
): OutboxBacklog {
  const entry: Tracked = { collection, filter, name: collection.collectionName };
  tracked.add(entry);
  ensureInstruments();
  const backlog: OutboxBacklog = {
    observed(pending, exact) {
      entry.seen = exact ? { pending, at: Date.now() } : undefined;
      // A scan cut by its limit is a lower bound: a count is due unless one is recent and at least as high.
      if (!exact && (entry.counted?.pending ?? 0) < pending) entry.counted = undefined;
    },
    untrack: () => void tracked.delete(entry),
  };
  return backlog;
}

async function observeBacklog(result: ObservableResult): Promise<void> {
  await Promise.all(
    [...tracked].map(async (entry) => {
      const now = Date.now();
      if (entry.seen && now - entry.seen.at < FRESH_MS) {
        result.observe(entry.seen.pending, { 'o2o.outbox.collection': entry.name });
        return;
      }
      if (!entry.counted || now - entry.counted.at >= COUNT_INTERVAL_MS) {
        entry.counting ??= count(entry).finally(() => (entry.counting = undefined));
        await Promise.race([entry.counting, new Promise((resolve) => setTimeout(resolve, COUNT_WAIT_MS).unref())]);
      }
      if (entry.counted) result.observe(entry.counted.pending, { 'o2o.outbox.collection': entry.name });
    }),
  );
}

async function count(entry: Tracked): Promise<void> {
  try {
    const pending = await entry.collection.countDocuments(entry.filter, { maxTimeMS: COUNT_WAIT_MS * 5 });
    entry.counted = { pending, at: Date.now() };
  } catch {
    // The database is unreachable: nothing new to report (the SDK repeats the last value; RPC errors say why).
  }
}

// Instruments belong to the meter provider current when they are used: telemetry starts before the services load
// this module in production, but tests install and remove providers at will.
let instruments: { provider: MeterProvider; published: Counter; failures: Counter } | undefined;
function ensureInstruments() {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider !== provider) {
    const meter = provider.getMeter('@o2o/kit-outbox');
    meter
      .createObservableGauge(OUTBOX_BACKLOG, {
        description: 'Aggregate documents holding outbox events not yet published to Kafka',
        unit: '{document}',
      })
      .addCallback(observeBacklog);
    instruments = {
      provider,
      published: meter.createCounter(OUTBOX_PUBLISHED, {
        description: 'Outbox events published to Kafka and acknowledged (at least once: a crash may resend)',
        unit: '{event}',
      }),
      failures: meter.createCounter(OUTBOX_PUBLISH_FAILURES, {
        description: 'Outbox events whose publish failed; they stay in the outbox and are retried with backoff',
        unit: '{event}',
      }),
    };
  }
  return instruments;
}

/** Counts published events by collection and CloudEvents type (e.g. `o2o.inventory.v1.StockLow`). */
export function countPublished(collection: string, types: string[]): void {
  const { published } = ensureInstruments();
  const byType = new Map<string, number>();
  for (const type of types) byType.set(type, (byType.get(type) ?? 0) + 1);
  for (const [type, n] of byType) {
    published.add(n, { 'o2o.outbox.collection': collection, 'cloudevents.event_type': type });
  }
}

/** Counts events whose publish failed. */
export function countPublishFailures(collection: string, events: number): void {
  ensureInstruments().failures.add(events, { 'o2o.outbox.collection': collection });
}
