// Fulfilments in MongoDB/FerretDB: one document per order group holding the task, the pick-up or shipment, the
// unsent events (outbox), and the live-tracking snapshot. State changes are version-checked single-document updates;
// tracking writes touch only the `tracking` field, so they never race with them.
import type { Connection } from '@o2o/kit-mongo';
import { isDuplicateKeyError } from '@o2o/kit-mongo';
import { type OutboxEntry, outboxPush } from '@o2o/kit-outbox';
import type { Filter } from 'mongodb';
import type { FulfilmentRepository } from '../app/ports';
import type { StoredTracking } from '../app/tracking-ports';
import { DeliveryError } from '../domain/errors';
import { Fulfilment, fulfilmentIdOfShipment } from '../domain/fulfilment';
import type { FulfilmentPolicy, FulfilmentState } from '../domain/types';
import type { DeliveryEventEncoder } from './event-encoder';

/** How often update() reloads and re-applies after losing a version race before answering ABORTED. */
const UPDATE_ATTEMPTS = 12;

/** The collection fulfilments and their outbox live in (the relay reads it). */
export const FULFILMENTS_COLLECTION = 'fulfilments';

/** The stored document. */
export interface FulfilmentDocument extends Omit<FulfilmentState, 'id'> {
  _id: string;
  outbox: OutboxEntry[];
  tracking?: StoredTracking;
}

/** The repository, plus the tracking reads and writes and index creation. */
export interface MongoFulfilments extends FulfilmentRepository {
  ensureIndexes(): Promise<void>;
  storedTracking(shipmentId: string): Promise<StoredTracking | undefined>;
  saveTracking(shipmentId: string, tracking: StoredTracking, options: { announce: boolean }): Promise<void>;
}

/** Fulfilments in MongoDB/FerretDB. */
export function mongoFulfilmentRepository(
  connection: Connection,
  options: { encoder: DeliveryEventEncoder; policy: FulfilmentPolicy },
): MongoFulfilments {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const docs = db.collection<FulfilmentDocument>(FULFILMENTS_COLLECTION);
  const { encoder, policy } = options;

  const find = async (id: string) => {
    const doc = await docs.findOne({ _id: id });
    return doc ? fromDocument(doc) : undefined;
  };

  return {
    async ensureIndexes() {
      await docs.createIndex({ locationId: 1, createdAt: 1, _id: 1 }, { name: 'location_created' });
      await docs.createIndex({ dueAt: 1 }, { name: 'due', sparse: true });
      // For the backlog gauges (tasks not accepted in time, pick-ups waiting, shipments without a courier).
      await docs.createIndex({ 'task.status': 1, 'task.acceptBy': 1 }, { name: 'task_status_accept' });
      await docs.createIndex(
        { 'shipment.status': 1, 'shipment.createdAt': 1 },
        { name: 'shipment_status', sparse: true },
      );
    },

    async insert(fulfilment) {
      const state = fulfilment.snapshot();
      const events = fulfilment.pullEvents();
      try {
        await docs.insertOne({ ...toDocument(state), outbox: encoder.events(state, events) });
        return 'inserted';
      } catch (error) {
        if (isDuplicateKeyError(error)) return 'exists';
        throw error;
      }
    },

    find,

    async findByShipment(shipmentId) {
      const id = fulfilmentIdOfShipment(shipmentId);
      const state = id === undefined ? undefined : await find(id);
      return state?.shipment?.id === shipmentId ? state : undefined;
    },

    async findMany(ids) {
      if (ids.length === 0) return [];
      const found = await docs.find({ _id: { $in: [...ids] } }).toArray();
      return found.map(fromDocument);
    },

    async update(id, change) {
      for (let attempt = 1; attempt <= UPDATE_ATTEMPTS; attempt++) {
        const doc = await docs.findOne({ _id: id });
        if (!doc) throw new DeliveryError('not-found', `Fulfilment "${id}" does not exist`);
        const before = fromDocument(doc);
        const fulfilment = Fulfilment.fromState(before, policy);
        const result = change(fulfilment);
        const events = fulfilment.pullEvents();
        const state = fulfilment.snapshot();
        // Methods that changed nothing leave updatedAt alone: nothing to write.
        if (state.updatedAt.getTime() === before.updatedAt.getTime() && events.length === 0) {
          return { result, state, events };
        }
        state.version = before.version + 1;
        const { _id, ...fields } = toDocument(state);
        const unset = absentFields(before, state);
        const written = await docs.updateOne(
          { _id: id, version: before.version },
          {
            $set: fields,
            ...(unset.length > 0 ? { $unset: Object.fromEntries(unset.map((k) => [k, ''])) } : {}),
            ...(events.length > 0 ? { $push: outboxPush(encoder.events(state, events)) } : {}),
          },
        );
        if (written.matchedCount === 1) return { result, state, events };
        await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
      throw new DeliveryError('aborted', `Fulfilment "${id}" is changing concurrently: retry`);
    },

    async listByLocation(locationId, filter, page) {
      const query: Filter<FulfilmentDocument> = { locationId };
      if (filter.statuses.length > 0) query['task.status'] = { $in: filter.statuses };
      if (page.after) {
        const colon = page.after.indexOf(':');
        const time = new Date(Number(page.after.slice(0, colon)));
        const after = page.after.slice(colon + 1);
        query.$or = [{ createdAt: { $gt: time } }, { createdAt: time, _id: { $gt: after } }];
      }
      const found = await docs
        .find(query)
        .sort({ createdAt: 1, _id: 1 })
        .limit(page.size + 1)
        .toArray();
      const items = found.slice(0, page.size).map(fromDocument);
      const last = items[items.length - 1];
      return found.length > page.size && last ? { items, after: `${last.createdAt.getTime()}:${last.id}` } : { items };
    },

    async due(now, limit) {
      const found = await docs
        .find({ dueAt: { $lte: now } }, { projection: { _id: 1 } })
        .sort({ dueAt: 1 })
        .limit(limit)
        .toArray();
      return found.map((d) => d._id);
    },

    async storedTracking(shipmentId) {
      const id = fulfilmentIdOfShipment(shipmentId);
      if (id === undefined) return undefined;
      const doc = await docs.findOne({ _id: id }, { projection: { tracking: 1 } });
      return doc?.tracking;
    },

    async saveTracking(shipmentId, tracking, { announce }) {
      const id = fulfilmentIdOfShipment(shipmentId);
      if (id === undefined) return;
      if (!announce) {
        await docs.updateOne({ _id: id }, { $set: { tracking } });
        return;
      }
      const state = await find(id);
      if (!state) return;
      await docs.updateOne({ _id: id }, { $set: { tracking }, $push: outboxPush([encoder.position(state, tracking)]) });
    },
  };
}

function toDocument(state: FulfilmentState): Omit<FulfilmentDocument, 'outbox'> {
  const { id, ...rest } = state;
  return { _id: id, ...dropUndefined(rest) };
}

function fromDocument(doc: FulfilmentDocument): FulfilmentState {
  const { _id, outbox: _outbox, tracking: _tracking, ...rest } = doc;
  return { id: _id, ...rest };
}

// Top-level fields the change removed (e.g. dueAt once nothing is due): $set cannot remove them.
function absentFields(before: FulfilmentState, after: FulfilmentState): string[] {
  return (Object.keys(before) as (keyof FulfilmentState)[]).filter(
    (k) => before[k] !== undefined && after[k] === undefined,
  );
}

// The driver would store undefined as null: members that are undefined are left out, at every depth. Only plain
// objects are rebuilt (a Date made by structuredClone in another realm, e.g. under jest, fails `instanceof Date`).
function dropUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => dropUndefined(v)) as T;
  if (value === null || typeof value !== 'object' || Object.prototype.toString.call(value) !== '[object Object]') {
    return value;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = dropUndefined(v);
  return out as T;
}
