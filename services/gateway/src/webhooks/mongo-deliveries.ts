// Webhook deliveries in the gateway's database: one document per (subscription, event) — or per replayed copy — with
// the exact body, its place in its key's sequence, its attempts, and the claim a worker holds while sending it.
// A claim is a conditional update that moves `nextAttemptTime` to the end of a lease, so no other replica finds the
// delivery due while it is in flight, and a crashed replica's claim simply runs out.
import type { Db, Filter } from 'mongodb';
import { isDuplicateKeyError } from '@o2o/kit-mongo';
import type { Delivery } from './model';
import type { DeliveryStore, NewDelivery } from './ports';

/** The collection of deliveries. */
export const DELIVERIES_COLLECTION = 'webhook_deliveries';
/** The per-(subscription, key) sequence counters. */
export const SEQUENCES_COLLECTION = 'webhook_sequences';

interface DeliveryDocument extends Omit<Delivery, 'id'> {
  _id: string;
  /** Set while a worker holds the delivery (its lease ends at nextAttemptTime). */
  claimToken: string | null;
}

interface SequenceDocument {
  _id: string;
  subscriptionId: string;
  value: number;
  updateTime: Date;
}

/** Deliveries in MongoDB/FerretDB, plus index creation. */
export function mongoDeliveryStore(db: Db): DeliveryStore & { ensureIndexes(): Promise<void> } {
  const docs = db.collection<DeliveryDocument>(DELIVERIES_COLLECTION);
  const sequences = db.collection<SequenceDocument>(SEQUENCES_COLLECTION);

  return {
    async ensureIndexes() {
      await docs.createIndex({ status: 1, nextAttemptTime: 1 }, { name: 'due' });
      await docs.createIndex({ subscriptionId: 1, orderingKey: 1, status: 1, sequence: 1 }, { name: 'key_order' });
      await docs.createIndex({ subscriptionId: 1, createTime: -1, _id: -1 }, { name: 'log' });
      await docs.createIndex({ subscriptionId: 1, eventTime: 1 }, { name: 'event_time' });
      await docs.createIndex({ createTime: 1 }, { name: 'created' });
      await sequences.createIndex({ updateTime: 1 }, { name: 'updated' });
    },

    async nextSequence(subscriptionId, orderingKey, count = 1) {
      const _id = `${subscriptionId}|${orderingKey}`;
      for (;;) {
        const now = new Date();
        const bumped = await sequences.findOneAndUpdate(
          { _id },
          { $inc: { value: count }, $set: { updateTime: now } },
          { returnDocument: 'after' },
        );
        if (bumped) return bumped.value - count + 1;
        // A new counter starts above any counter this key had before a sweep removed it: time-based, in µs.
        const first = now.getTime() * 1000;
        try {
          await sequences.insertOne({ _id, subscriptionId, value: first + count - 1, updateTime: now });
          return first;
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
        }
      }
    },

    async insert(delivery) {
      try {
        await docs.insertOne(toDocument(delivery));
        return 'inserted';
      } catch (error) {
        if (isDuplicateKeyError(error)) return 'exists';
        throw error;
      }
    },

    async insertMany(deliveries) {
      if (deliveries.length > 0) await docs.insertMany(deliveries.map(toDocument), { ordered: true });
    },

    async find(id) {
      const doc = await docs.findOne({ _id: id });
      return doc ? fromDocument(doc) : undefined;
    },

    async list({ subscriptionId, status, eventType, after, limit }) {
      const query: Filter<DeliveryDocument> = { subscriptionId };
      if (status) query.status = status;
      if (eventType) query.eventType = eventType;
      if (after) query.$or = [{ createTime: { $lt: after.time } }, { createTime: after.time, _id: { $lt: after.id } }];
      const found = await docs.find(query).sort({ createTime: -1, _id: -1 }).limit(limit).toArray();
      return found.map(fromDocument);
    },

    async inRange({ subscriptionId, from, to, limit }) {
      const found = await docs
        .find({ subscriptionId, eventTime: { $gte: from, $lte: to } })
        .sort({ eventTime: 1, _id: 1 })
        .limit(limit)
        .toArray();
      return found.map(fromDocument);
    },

    async due(now, limit) {
      const found = await docs
        .find({ status: 'PENDING', nextAttemptTime: { $lte: now } })
        .sort({ nextAttemptTime: 1 })
        .limit(limit)
        .toArray();
      return found.map(fromDocument);
    },

    async earliestPending(subscriptionId, orderingKey) {
      const doc = await docs.findOne({ subscriptionId, orderingKey, status: 'PENDING' }, { sort: { sequence: 1 } });
      return doc ? fromDocument(doc) : undefined;
    },

    async park(id, seen, until) {
      const written = await docs.updateOne(
        { _id: id, status: 'PENDING', claimToken: null, nextAttemptTime: seen },
        { $set: { nextAttemptTime: until } },
      );
      return written.modifiedCount === 1;
    },

    async claim(id, { now, leaseUntil, token }) {
      const doc = await docs.findOneAndUpdate(
        { _id: id, status: 'PENDING', nextAttemptTime: { $lte: now } },
        { $set: { claimToken: token, nextAttemptTime: leaseUntil } },
        { returnDocument: 'after' },
      );
      return doc ? fromDocument(doc) : undefined;
    },

    async finish(id, token, { attempt, status, nextAttemptTime }) {
      const written = await docs.updateOne(
        { _id: id, claimToken: token },
        {
          $set: { status, claimToken: null, updateTime: attempt.time, ...(nextAttemptTime ? { nextAttemptTime } : {}) },
          ...(nextAttemptTime ? {} : { $unset: { nextAttemptTime: '' } }),
          $push: { attempts: attempt },
        },
      );
      return written.matchedCount === 1;
    },

    async release(id, token, nextAttemptTime) {
      await docs.updateOne({ _id: id, claimToken: token }, { $set: { claimToken: null, nextAttemptTime } });
    },

    async wakeNext(subscriptionId, orderingKey, sequence, now) {
      const next = await docs.findOne(
        { subscriptionId, orderingKey, status: 'PENDING', sequence: { $gt: sequence } },
        { sort: { sequence: 1 } },
      );
      // Only a parked one: never one in flight, and never cut short a retry's backoff.
      if (!next || next.claimToken !== null || next.attempts.length > 0) return;
      if (!next.nextAttemptTime || next.nextAttemptTime <= now) return;
      await docs.updateOne(
        { _id: next._id, claimToken: null, nextAttemptTime: next.nextAttemptTime },
        { $set: { nextAttemptTime: now } },
      );
    },

    async sweep(cutoff) {
      const removed = await docs.deleteMany({ status: { $in: ['DELIVERED', 'DEAD'] }, createTime: { $lt: cutoff } });
      await sequences.deleteMany({ updateTime: { $lt: cutoff } });
      return removed.deletedCount;
    },
  };
}

function toDocument({ id, ...fields }: NewDelivery): DeliveryDocument {
  return { _id: id, ...fields, status: 'PENDING', attempts: [], updateTime: fields.createTime, claimToken: null };
}

function fromDocument({ _id, claimToken: _claim, ...rest }: DeliveryDocument): Delivery {
  const delivery: Delivery = { id: _id, ...rest };
  if (rest.nextAttemptTime === null || rest.nextAttemptTime === undefined) delete delivery.nextAttemptTime;
  if (rest.replayOf === null || rest.replayOf === undefined) delete delivery.replayOf;
  return delivery;
}
