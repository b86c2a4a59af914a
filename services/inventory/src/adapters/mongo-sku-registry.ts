import type { Connection } from '@o2o/kit-mongo';
import { isDuplicateKeyError } from '@o2o/kit-mongo';
import type { SkuFacts, SkuRegistry } from '../app/ports';

interface SkuDocument {
  _id: string;
  productId: string;
  discontinued: boolean;
  productVersion: number;
}

/** The SKUs inventory has learnt from catalogue events, one document per SKU code. */
export function mongoSkuRegistry(connection: Connection): SkuRegistry {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const skus = db.collection<SkuDocument>('skus');
  return {
    async find(codes) {
      const docs =
        codes.length === 1
          ? await skus.find({ _id: codes[0] ?? '' }).toArray()
          : await skus.find({ _id: { $in: codes } }).toArray();
      return new Map(
        docs.map((d) => [
          d._id,
          { skuCode: d._id, productId: d.productId, discontinued: d.discontinued, productVersion: d.productVersion },
        ]),
      );
    },
    async record(list: SkuFacts[]) {
      for (const facts of list) {
        const fields = {
          productId: facts.productId,
          discontinued: facts.discontinued,
          productVersion: facts.productVersion,
        };
        // Newer versions only: events of one product arrive in order, but a replay must not roll a SKU back.
        const updated = await skus.updateOne(
          { _id: facts.skuCode, productVersion: { $lt: facts.productVersion } },
          { $set: fields },
        );
        if (updated.matchedCount === 1) continue;
        try {
          await skus.insertOne({ _id: facts.skuCode, ...fields });
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error; // already at this version or newer
        }
      }
    },
  };
}
