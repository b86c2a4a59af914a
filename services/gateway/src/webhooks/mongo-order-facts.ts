// The dispatcher's order projection: order id → customer, selling store, partner, fulfilling locations and channel,
// kept from the orders topic (every orders event carries the whole order) and from GetOrder when a delivery or
// payments event arrives first. A snapshot never replaces one of a newer order version.
import type { Db } from 'mongodb';
import { isDuplicateKeyError } from '@o2o/kit-mongo';
import type { OrderFactsStore } from './ports';

/** The collection of the projection. */
export const ORDER_FACTS_COLLECTION = 'webhook_order_facts';

interface OrderFactsDocument {
  _id: string;
  customerId: string;
  storeId: string;
  partnerId: string;
  locationIds: string[];
  channel: string;
  /** -1 when read from GetOrder without a version. */
  version: number;
  updateTime: Date;
}

/** The projection in MongoDB/FerretDB, plus index creation. */
export function mongoOrderFactsStore(db: Db): OrderFactsStore & { ensureIndexes(): Promise<void> } {
  const docs = db.collection<OrderFactsDocument>(ORDER_FACTS_COLLECTION);
  return {
    async ensureIndexes() {
      await docs.createIndex({ updateTime: 1 }, { name: 'updated' });
    },
    async save(orderId, facts) {
      const version = facts.version ?? -1;
      try {
        // Matches only an older snapshot; when a newer (or the same) version is stored, the upsert's insert collides.
        await docs.updateOne(
          { _id: orderId, version: { $lt: version } },
          {
            $set: {
              customerId: facts.customerId,
              storeId: facts.storeId,
              partnerId: facts.partnerId,
              locationIds: [...facts.locationIds],
              channel: facts.channel,
              version,
              updateTime: new Date(),
            },
          },
          { upsert: true },
        );
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    },
    async find(orderId) {
      const doc = await docs.findOne({ _id: orderId });
      if (!doc) return undefined;
      const { customerId, storeId, partnerId, locationIds, channel, version } = doc;
      return { customerId, storeId, partnerId, locationIds, channel, ...(version >= 0 ? { version } : {}) };
    },
    async sweep(cutoff) {
      return (await docs.deleteMany({ updateTime: { $lt: cutoff } })).deletedCount;
    },
  };
}
