import type { Connection } from '@o2o/kit-mongo';
import { isDuplicateKeyError } from '@o2o/kit-mongo';
import type { Filter } from 'mongodb';
import type { LocationRepository } from '../app/ports';
import type { Location } from '../domain/location';

/** A location as stored: the domain shape with its id as `_id`. */
export type LocationDocument = Omit<Location, 'id'> & { _id: string };

/** Locations in MongoDB/FerretDB, one document each; replaced by a version-checked update. */
export function mongoLocationRepository(
  connection: Connection,
): LocationRepository & { ensureIndexes(): Promise<void> } {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const locations = db.collection<LocationDocument>('locations');
  const fromDoc = ({ _id, ...rest }: LocationDocument): Location => ({ id: _id, ...rest });
  const toDoc = ({ id, ...rest }: Location): LocationDocument => ({ _id: id, ...rest });

  return {
    async ensureIndexes() {
      await locations.createIndex({ status: 1 }, { name: 'status' });
    },
    async insert(location) {
      try {
        await locations.insertOne(toDoc(location));
        return 'inserted';
      } catch (error) {
        if (isDuplicateKeyError(error)) return 'exists';
        throw error;
      }
    },
    async find(id) {
      const doc = await locations.findOne({ _id: id });
      return doc ? fromDoc(doc) : undefined;
    },
    async replace(location, storedVersion) {
      const { _id, ...fields } = toDoc(location);
      const result = await locations.updateOne({ _id, version: storedVersion }, { $set: fields });
      return result.matchedCount === 1;
    },
    async list(filter, page) {
      const query: Filter<LocationDocument> = {};
      if (filter.kinds.length > 0) query.kind = { $in: filter.kinds };
      if (filter.statuses.length > 0) query.status = { $in: filter.statuses };
      if (page.after) query._id = { $gt: page.after };
      const docs = await locations
        .find(query)
        .sort({ _id: 1 })
        .limit(page.size + 1)
        .toArray();
      const items = docs.slice(0, page.size).map(fromDoc);
      return { items, after: docs.length > page.size ? items[items.length - 1]?.id : undefined };
    },
    async all() {
      return (await locations.find({}).sort({ _id: 1 }).toArray()).map(fromDoc);
    },
  };
}
