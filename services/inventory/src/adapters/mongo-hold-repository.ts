import type { Connection } from '@o2o/kit-mongo';
import { isDuplicateKeyError } from '@o2o/kit-mongo';
import type { OutboxEntry } from '@o2o/kit-outbox';
import type { HoldRepository } from '../app/ports';
import type { Hold } from '../domain/hold';
import type { EventEncoder } from './mongo-stock-repository';

/** How long a settled hold waits for its events to be published before the sweeper tries to archive it again. */
const ARCHIVE_RETRY_MS = 2_000;

/**
 * A hold as stored. `sweepAt` is when the sweeper should look at it next (its expiry, crash recovery, or its
 * archiving) and is null when never; `settled` says every stock line has been given back or taken out.
 */
export type HoldDocument = Omit<Hold, 'id'> & {
  _id: string;
  sweepAt: Date | null;
  settled: boolean;
  outbox: OutboxEntry[];
};
type ArchivedHold = Omit<HoldDocument, 'outbox' | 'sweepAt'>;

/**
 * Holds in MongoDB/FerretDB. Open holds live in `holds`; settled final holds move to `holds_archive` once their
 * events are out, so the working set (which the sweeper queries and every version check scans on FerretDB) stays
 * the size of the open holds, not of every hold ever taken.
 */
export function mongoHoldRepository(
  connection: Connection,
  encode: EventEncoder,
): HoldRepository & { ensureIndexes(): Promise<void> } {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const holds = db.collection<HoldDocument>('holds');
  const archive = db.collection<ArchivedHold>('holds_archive');

  return {
    async ensureIndexes() {
      await holds.createIndex({ sweepAt: 1 }, { name: 'sweep_at' });
      await archive.createIndex({ ownerId: 1 }, { name: 'owner' });
    },
    async insert(hold, sweepAt) {
      const { id, ...fields } = hold;
      try {
        await holds.insertOne({ _id: id, ...fields, sweepAt, settled: false, outbox: [] });
        return 'inserted';
      } catch (error) {
        if (isDuplicateKeyError(error)) return 'exists';
        throw error;
      }
    },
    async find(id) {
      const doc = (await holds.findOne({ _id: id })) ?? (await archive.findOne({ _id: id }));
      return doc ? toHold(doc) : undefined;
    },
    async save(hold, storedVersion, events, sweepAt) {
      const { id, ...fields } = hold;
      const result = await holds.updateOne(
        { _id: id, version: storedVersion },
        { $set: { ...fields, sweepAt: sweepAt ?? null, settled: false }, $push: { outbox: { $each: encode(events) } } },
      );
      return result.matchedCount === 1;
    },
    async markSettled(id) {
      await holds.updateOne({ _id: id }, { $set: { settled: true, sweepAt: new Date() } });
    },
    async due(now, limit) {
      const docs = await holds
        .find({ sweepAt: { $lte: now } })
        .sort({ sweepAt: 1 })
        .limit(limit)
        .toArray();
      return docs.map((doc) => ({ hold: toHold(doc), settled: doc.settled }));
    },
    async archive(id) {
      const doc = await holds.findOne({ _id: id });
      if (!doc?.settled) return false;
      if (doc.outbox.length > 0) {
        await holds.updateOne({ _id: id }, { $set: { sweepAt: new Date(Date.now() + ARCHIVE_RETRY_MS) } });
        return false;
      }
      const { outbox: _outbox, sweepAt: _sweepAt, ...kept } = doc;
      try {
        await archive.insertOne(kept);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error; // archived before a crash: finish the move
      }
      const removed = await holds.deleteOne({ _id: id, 'outbox.0': { $exists: false } });
      return removed.deletedCount === 1;
    },
  };
}

function toHold(doc: ArchivedHold): Hold {
  return {
    id: doc._id,
    ownerId: doc.ownerId,
    lines: doc.lines.map((l) => ({ skuCode: l.skuCode, locationId: l.locationId, quantity: l.quantity })),
    status: doc.status,
    expiresAt: doc.expiresAt,
    reason: doc.reason,
    shortages: doc.shortages.map((s) => ({ ...s })),
    version: doc.version,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}
