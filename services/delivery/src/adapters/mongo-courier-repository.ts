// Couriers in MongoDB/FerretDB. A courier's free slots are a counter kept by conditional single-document updates,
// so two dispatchers can never give one courier more shipments than its capacity.
import type { Connection } from '@o2o/kit-mongo';
import type { Filter } from 'mongodb';
import type { CourierRepository } from '../app/ports';
import type { CourierFix } from '../app/tracking-ports';
import { boundingBox, type CourierState } from '../domain/courier';
import { DeliveryError } from '../domain/errors';

export const COURIERS_COLLECTION = 'couriers';

/** The stored courier; the position's coordinates are copied to top-level fields for the box query. */
interface CourierDocument extends Omit<CourierState, 'id'> {
  _id: string;
  lat?: number;
  lon?: number;
}

/** The repository, plus the position write tracking uses and index creation. */
export interface MongoCouriers extends CourierRepository {
  ensureIndexes(): Promise<void>;
  savePosition(courierId: string, fix: CourierFix): Promise<void>;
}

/** Couriers in MongoDB/FerretDB. */
export function mongoCourierRepository(connection: Connection): MongoCouriers {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const docs = db.collection<CourierDocument>(COURIERS_COLLECTION);

  const find = async (id: string) => {
    const doc = await docs.findOne({ _id: id });
    return doc ? fromDocument(doc) : undefined;
  };
  const mustFind = async (id: string) => {
    const found = await find(id);
    if (!found) throw new DeliveryError('not-found', `Courier "${id}" is not registered`);
    return found;
  };

  return {
    async ensureIndexes() {
      await docs.createIndex({ available: 1, lat: 1 }, { name: 'available_lat' });
      await docs.createIndex({ updatedAt: 1 }, { name: 'updated' });
    },

    async register(profile, now) {
      for (let attempt = 0; attempt < 12; attempt++) {
        const existing = await find(profile.id);
        if (!existing) {
          const inserted = await docs
            .insertOne({
              _id: profile.id,
              name: profile.name,
              phone: profile.phone,
              vehicle: profile.vehicle,
              capacity: profile.capacity,
              available: false,
              shipmentIds: [],
              free: profile.capacity,
              version: 1,
              createdAt: now,
              updatedAt: now,
            })
            .then(() => true)
            .catch(() => false);
          if (inserted) return mustFind(profile.id);
          continue;
        }
        const written = await docs.updateOne(
          { _id: profile.id, version: existing.version },
          {
            $set: {
              name: profile.name,
              phone: profile.phone,
              vehicle: profile.vehicle,
              capacity: profile.capacity,
              updatedAt: now,
            },
            $inc: { free: profile.capacity - existing.capacity, version: 1 },
          },
        );
        if (written.matchedCount === 1) return mustFind(profile.id);
      }
      throw new DeliveryError('aborted', `Courier "${profile.id}" is changing concurrently: retry`);
    },

    find,

    async setAvailability(id, available, fix, now) {
      const written = await docs.updateOne(
        { _id: id },
        { $set: { available, updatedAt: now, ...(fix ? positionFields(fix) : {}) }, $inc: { version: 1 } },
      );
      if (written.matchedCount === 0) throw new DeliveryError('not-found', `Courier "${id}" is not registered`);
      return mustFind(id);
    },

    async candidatesNear(origin, { radiusM, freshSince, limit }) {
      const box = boundingBox(origin, radiusM);
      const filter: Filter<CourierDocument> = {
        available: true,
        free: { $gte: 1 },
        lat: { $gte: box.minLat, $lte: box.maxLat },
        lon: { $gte: box.minLon, $lte: box.maxLon },
        'position.time': { $gte: freshSince },
      };
      const found = await docs.find(filter).limit(limit).toArray();
      return found.map(fromDocument);
    },

    async claim(courierId, shipmentId, now) {
      const written = await docs.updateOne(
        { _id: courierId, available: true, free: { $gte: 1 }, shipmentIds: { $ne: shipmentId } },
        { $inc: { free: -1, version: 1 }, $push: { shipmentIds: shipmentId }, $set: { updatedAt: now } },
      );
      return written.matchedCount === 1;
    },

    async release(courierId, shipmentId, now) {
      await docs.updateOne(
        { _id: courierId, shipmentIds: shipmentId },
        { $inc: { free: 1, version: 1 }, $pull: { shipmentIds: shipmentId }, $set: { updatedAt: now } },
      );
    },

    async holdingSlots(updatedBefore, limit) {
      const found = await docs
        .find({ 'shipmentIds.0': { $exists: true }, updatedAt: { $lt: updatedBefore } })
        .limit(limit)
        .toArray();
      return found.map(fromDocument);
    },

    async savePosition(courierId, fix) {
      // No version bump: a position is not a change other writers must see to stay correct.
      await docs.updateOne({ _id: courierId }, { $set: positionFields(fix) });
    },
  };
}

function positionFields(fix: CourierFix): Pick<CourierDocument, 'position' | 'lat' | 'lon'> {
  return { position: fix, lat: fix.point.latitude, lon: fix.point.longitude };
}

function fromDocument(doc: CourierDocument): CourierState {
  const { _id, lat: _lat, lon: _lon, ...rest } = doc;
  return { id: _id, ...rest };
}
