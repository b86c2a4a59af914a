// Which relay may publish which aggregate document right now. The leases live in their own collection, one document
// per leased aggregate with `_id` = the aggregate's `_id`: a duplicate `_id` insert is refused atomically on every
// server (FerretDB without the project's write gate included), and claims never touch the aggregate documents.
import type { mongo } from 'mongoose';

/** An aggregate document id as the services store it. */
export type DocumentId = string | number | mongo.ObjectId;

interface LeaseDocument {
  _id: DocumentId;
  owner: string;
  until: Date;
}

/** The leases of one relay instance. */
export interface Leases {
  /** Ids leased by any relay and not expired: the candidates query skips them. */
  held(): Promise<DocumentId[]>;
  /** Deletes leases whose holder died (expired); their documents become claimable. */
  expire(): Promise<void>;
  /** Tries to lease each id; returns those this relay now holds. */
  acquire(ids: DocumentId[]): Promise<DocumentId[]>;
  /** Pushes the expiry of this relay's leases forward (while a slow send is in flight). */
  renew(ids: DocumentId[]): Promise<void>;
  release(ids: DocumentId[]): Promise<void>;
}

/** Leases in `collection` for the relay `owner`, each valid for `leaseMs` unless renewed. */
export function createLeases(
  collection: mongo.Collection<mongo.Document>,
  options: { owner: string; leaseMs: number },
): Leases {
  const leases = collection as unknown as mongo.Collection<LeaseDocument>;
  const { owner, leaseMs } = options;
  const until = () => new Date(Date.now() + leaseMs);
  return {
    async held() {
      const rows = await leases.find({ until: { $gte: new Date() } }, { projection: { _id: 1 } }).toArray();
      return rows.map((r) => r._id);
    },
    async expire() {
      // On FerretDB this delete is not atomic with a takeover by another relay in the same instant; the worst case is
      // two relays publishing one document's events once each (duplicates, deduped by ce_id), never a loss.
      await leases.deleteMany({ until: { $lt: new Date() } });
    },
    async acquire(ids) {
      if (ids.length === 0) return [];
      const expiry = until();
      try {
        await leases.insertMany(
          ids.map((_id) => ({ _id, owner, until: expiry })),
          { ordered: false },
        );
        return ids;
      } catch (error) {
        const taken = duplicateIndexes(error);
        if (!taken) throw error;
        return ids.filter((_, index) => !taken.has(index));
      }
    },
    async renew(ids) {
      if (ids.length > 0) await leases.updateMany({ _id: { $in: ids }, owner }, { $set: { until: until() } });
    },
    async release(ids) {
      if (ids.length > 0) await leases.deleteMany({ _id: { $in: ids }, owner });
    },
  };
}

// The indexes of an unordered insertMany that failed only because those ids were already leased; undefined when
// anything else went wrong.
function duplicateIndexes(error: unknown): Set<number> | undefined {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const list = (Array.isArray(writeErrors) ? writeErrors : [writeErrors]) as { index?: number; code?: number }[];
  if (list.length === 0 || list.some((e) => e?.code !== 11000 || typeof e.index !== 'number')) return undefined;
  return new Set(list.map((e) => e.index as number));
}
