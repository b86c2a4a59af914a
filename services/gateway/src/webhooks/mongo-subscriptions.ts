// Webhook subscriptions in the gateway's database, one document each; changes are version-checked single-document
// updates. Deleting one also deletes its deliveries and sequences.
import type { Db, Filter } from 'mongodb';
import type { Subscription } from './model';
import { DELIVERIES_COLLECTION, SEQUENCES_COLLECTION } from './mongo-deliveries';
import { ownerKeyOf, type SubscriptionStore } from './ports';

/** The collection of subscriptions. */
export const SUBSCRIPTIONS_COLLECTION = 'webhook_subscriptions';

interface SubscriptionDocument extends Omit<Subscription, 'id'> {
  _id: string;
  ownerKey: string;
}

/** Subscriptions in MongoDB/FerretDB, plus index creation. */
export function mongoSubscriptionStore(db: Db): SubscriptionStore & { ensureIndexes(): Promise<void> } {
  const docs = db.collection<SubscriptionDocument>(SUBSCRIPTIONS_COLLECTION);
  const toDocument = ({ id, ...rest }: Subscription): SubscriptionDocument => ({
    _id: id,
    ownerKey: ownerKeyOf(rest.owner),
    ...rest,
  });
  return {
    async ensureIndexes() {
      await docs.createIndex({ ownerKey: 1, createTime: -1, _id: -1 }, { name: 'owner_created' });
      await docs.createIndex({ createTime: -1, _id: -1 }, { name: 'created' });
    },
    async insert(subscription) {
      await docs.insertOne(toDocument(subscription));
    },
    async find(id) {
      const doc = await docs.findOne({ _id: id });
      return doc ? fromDocument(doc) : undefined;
    },
    async list({ ownerKey, after, limit }) {
      const query: Filter<SubscriptionDocument> = ownerKey ? { ownerKey } : {};
      if (after) query.$or = [{ createTime: { $lt: after.time } }, { createTime: after.time, _id: { $lt: after.id } }];
      const found = await docs.find(query).sort({ createTime: -1, _id: -1 }).limit(limit).toArray();
      return found.map(fromDocument);
    },
    count: (ownerKey) => docs.countDocuments({ ownerKey }),
    async replace(subscription, expectedVersion) {
      const { _id, ...fields } = toDocument(subscription);
      const written = await docs.updateOne({ _id, version: expectedVersion }, { $set: fields });
      return written.matchedCount === 1;
    },
    async delete(id) {
      const removed = await docs.deleteOne({ _id: id });
      // Left-overs of a crash between these are harmless: no subscription, so the worker drops its deliveries.
      await db.collection(DELIVERIES_COLLECTION).deleteMany({ subscriptionId: id });
      await db.collection(SEQUENCES_COLLECTION).deleteMany({ subscriptionId: id });
      return removed.deletedCount === 1;
    },
    async all() {
      return (await docs.find({}).toArray()).map(fromDocument);
    },
  };
}

function fromDocument({ _id, ownerKey: _ownerKey, ...rest }: SubscriptionDocument): Subscription {
  return { id: _id, ...rest, filters: rest.filters ?? {} };
}
