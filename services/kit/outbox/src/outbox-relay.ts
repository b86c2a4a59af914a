import { randomUUID } from 'node:crypto';
import type { EventProducer } from '@o2o/kit-kafka';
import type { Logger } from '@o2o/kit-log';
import type { Collection, mongo } from 'mongoose';
import { createLeases, type DocumentId, type Leases } from './outbox-leases';
import { countPublished, countPublishFailures, trackOutboxBacklog, type OutboxBacklog } from './outbox-metrics';
import { publishEntries, removeSent, type PendingDocument } from './outbox-publish';
import { readStoredEntries } from './stored-entry';

/** Options for {@link startOutboxRelay}. */
export interface OutboxRelayOptions {
  /** The aggregates' collection, as `connection.collection('products')` returns it. */
  collection: Collection;
  producer: EventProducer;
  logger: Logger;
  /** Where the leases live; default `<collection>_outbox_leases` in the same database. */
  leases?: mongo.Collection<mongo.Document>;
  /** Documents claimed and published per round (one producer send); default 50. */
  batchSize?: number;
  /** How often to look for work when idle (other replicas' writes, crash leftovers); default 250 ms. */
  pollIntervalMs?: number;
  /** How long a dead relay's claim keeps others off its documents (a live relay renews it); default 30 s. */
  leaseMs?: number;
  /** Delay after a failed round: exponential from initialMs, capped at maxMs, with jitter; default 200 ms → 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  /** Where the relay reports the backlog its scans see; default: its own, reported until stop(). */
  backlog?: OutboxBacklog;
}

/** A running relay. */
export interface OutboxRelay {
  /**
   * Looks for work now instead of at the next poll, e.g. right after this process wrote events. With the ids of the
   * documents written, the next round reads just those by `_id` instead of scanning the collection.
   */
  kick(ids?: readonly DocumentId[]): void;
  /** Lets the publish in flight finish (and be marked), then stops. */
  stop(): Promise<void>;
  /** How many documents still hold unsent events (for metrics and tests). */
  pending(): Promise<number>;
}

/** The filter for "this document has unsent events"; works on MongoDB and FerretDB 1.24. */
export const HAS_OUTBOX_ENTRIES = { 'outbox.0': { $exists: true } } as const;

type Round = 'idle' | 'busy' | 'hinted' | 'failed';

/**
 * Starts publishing the collection's outbox entries to Kafka: per document in array order, removed only after the
 * broker acknowledged them, retried with backoff forever. Delivery is at least once: consumers dedupe by ce_id.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const collection = options.collection as mongo.Collection<mongo.Document>;
  const name = options.collection.collectionName;
  const batchSize = options.batchSize ?? 50;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const leaseMs = options.leaseMs ?? 30_000;
  const backoff = options.backoff ?? { initialMs: 200, maxMs: 30_000 };
  const log = options.logger.child({ component: 'outbox-relay', collection: name });
  const leases = createLeases(options.leases ?? options.collection.conn.collection(`${name}_outbox_leases`), {
    owner: randomUUID(),
    leaseMs,
  });
  const sleeper = createSleeper();
  const backlog = options.backlog ?? trackOutboxBacklog(collection, HAS_OUTBOX_ENTRIES);
  let stopping = false;
  // Documents this process just wrote events to: read by _id (cheap everywhere, and on FerretDB the only indexed
  // read), so a busy service does not scan the collection once per write. Scans still run at every poll, and at
  // least once per poll interval under load, for other replicas' writes and anything a crash left behind.
  const hints = new Map<string, DocumentId>();
  let lastScan = 0;

  async function round(): Promise<Round> {
    sleeper.clearKick();
    const hinted = Date.now() - lastScan < pollIntervalMs ? [...hints.values()].slice(0, batchSize) : [];
    for (const id of hinted) hints.delete(String(id));
    if (hinted.length === 0) lastScan = Date.now();
    const claimed =
      hinted.length > 0
        ? await claimHinted(collection, leases, hinted, log)
        : await claim(collection, leases, { batchSize, backlog }, log);
    if (claimed.length === 0) return hinted.length > 0 ? 'hinted' : 'idle';
    const ids = claimed.map((c) => c.id);
    // A live relay never loses its claim, however slow the broker: the lease only times out a dead one.
    const renewal = setInterval(() => {
      leases.renew(ids).catch((err: unknown) => log.warn({ err }, 'Could not renew outbox leases'));
    }, leaseMs / 3);
    try {
      const entries = claimed.flatMap((c) => c.entries);
      try {
        await publishEntries(options.producer, entries);
        countPublished(
          name,
          entries.map((e) => e.type),
        );
      } catch (err) {
        countPublishFailures(name, entries.length);
        log.warn({ err, events: entries.length }, 'Publishing outbox events failed; they stay in the outbox');
        return 'failed';
      }
      for (const pending of claimed) await removeSent(collection, pending, log);
      return hinted.length > 0 ? 'hinted' : 'busy';
    } finally {
      clearInterval(renewal);
      await leases
        .release(ids)
        .catch((err: unknown) => log.warn({ err }, 'Could not release outbox leases; they expire'));
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      let outcome: Round;
      try {
        outcome = await round();
      } catch (err) {
        log.warn({ err }, 'Outbox relay round failed (database unavailable?); retrying');
        outcome = 'failed';
      }
      if (outcome === 'failed') {
        failures += 1;
        // Writes must not shorten this wait (kick is ignored), or a dead broker would be hammered.
        await sleeper.sleep(backoffDelay(failures, backoff), false);
        continue;
      }
      if (failures > 0) log.info({ failedRounds: failures }, 'Outbox relay recovered');
      failures = 0;
      if (outcome === 'idle') await sleeper.sleep(pollIntervalMs, true);
      // After hinted work, wait for the next write or the poll (which scans) unless more hints are waiting.
      else if (outcome === 'hinted' && hints.size === 0) await sleeper.sleep(pollIntervalMs, true);
    }
  }

  const running = run();
  return {
    kick(ids) {
      for (const id of ids ?? []) hints.set(String(id), id);
      // While the broker is down hints pile up; past a bound the scans (which find everything anyway) take over.
      if (hints.size > batchSize * 20) hints.clear();
      sleeper.kick();
    },
    async stop() {
      stopping = true;
      sleeper.stop();
      await running;
      if (!options.backlog) backlog.untrack();
    },
    pending: () => collection.countDocuments(HAS_OUTBOX_ENTRIES),
  };
}

// Leases the next documents with unsent events and reads them; a document another relay emptied meanwhile is dropped.
async function claim(
  collection: mongo.Collection<mongo.Document>,
  leases: Leases,
  scan: { batchSize: number; backlog: OutboxBacklog },
  log: Logger,
): Promise<PendingDocument[]> {
  const { batchSize } = scan;
  await leases.expire();
  const held = await leases.held();
  // Ids typed loosely: the driver's Filter<Document> assumes ObjectId, the services mostly use strings.
  const candidates = await collection
    .find({ ...HAS_OUTBOX_ENTRIES, _id: { $nin: held } } as mongo.Filter<mongo.Document>, { projection: { _id: 1 } })
    .limit(batchSize)
    .toArray();
  // The metric comes from this scan: the leased documents plus the candidates, exact unless the limit cut it.
  scan.backlog.observed(held.length + candidates.length, candidates.length < batchSize);
  const ids = await leases.acquire(candidates.map((c) => c._id as DocumentId));
  if (ids.length === 0) return [];
  // Read after leasing, so the entries are the ones no other relay is publishing.
  const documents = await collection
    .find({ _id: { $in: ids } } as mongo.Filter<mongo.Document>, { projection: { outbox: 1 } })
    .toArray();
  return keepPublishable(documents, ids, leases, log);
}

// Leases the hinted documents and reads each by _id; one another relay holds, or already emptied, is left to it.
async function claimHinted(
  collection: mongo.Collection<mongo.Document>,
  leases: Leases,
  hinted: DocumentId[],
  log: Logger,
): Promise<PendingDocument[]> {
  const ids = await leases.acquire(hinted);
  if (ids.length === 0) return [];
  const documents = await Promise.all(
    ids.map((_id) => collection.findOne({ _id } as mongo.Filter<mongo.Document>, { projection: { outbox: 1 } })),
  );
  return keepPublishable(documents, ids, leases, log);
}

// The claimed documents that have entries to publish; the leases of the others are released at once.
async function keepPublishable(
  documents: (mongo.WithId<mongo.Document> | null)[],
  ids: DocumentId[],
  leases: Leases,
  log: Logger,
): Promise<PendingDocument[]> {
  const claimed: PendingDocument[] = [];
  const unused: DocumentId[] = [];
  const found = new Set<string>();
  for (const document of documents) {
    if (!document) continue;
    found.add(String(document._id));
    const entries = readStoredEntries(document.outbox);
    if (entries instanceof Error) {
      // A repository bug. The lease is kept (not released) so the document is retried once per lease, not every round.
      log.error({ err: entries, documentId: document._id }, 'Outbox entries are malformed; not publishing them');
    } else if (entries.length === 0) {
      unused.push(document._id);
    } else {
      claimed.push({ id: document._id, entries });
    }
  }
  unused.push(...ids.filter((id) => !found.has(String(id))));
  await leases.release(unused);
  return claimed;
}

/** Exponential backoff with "equal jitter": between half and all of the capped exponential delay. */
function backoffDelay(failures: number, backoff: { initialMs: number; maxMs: number }): number {
  const capped = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failures - 1, 30));
  return capped / 2 + Math.random() * (capped / 2);
}

// The relay's waits: kick() ends an idle wait early (and makes the next one skip), stop() ends any wait.
function createSleeper() {
  let kicked = false;
  let stopped = false;
  let wake: ((byKick: boolean) => void) | undefined;
  return {
    clearKick: () => (kicked = false),
    kick() {
      kicked = true;
      wake?.(true);
    },
    stop() {
      stopped = true;
      wake?.(false);
    },
    async sleep(ms: number, wakeOnKick: boolean): Promise<void> {
      if (stopped || (wakeOnKick && kicked)) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = (byKick) => {
          if (!byKick || wakeOnKick) done();
        };
      });
    },
  };
}
