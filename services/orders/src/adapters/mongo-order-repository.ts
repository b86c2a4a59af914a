import type { Connection } from '@o2o/kit-mongo';
import { isDuplicateKeyError } from '@o2o/kit-mongo';
import { type OutboxEntry, outboxPush } from '@o2o/kit-outbox';
import type { Filter } from 'mongodb';
import type { OrderFilter, OrderRepository, Page } from '../app/ports';
import { OrderError } from '../domain/errors';
import { Order } from '../domain/order';
import type { OrderEvent, OrderState, RecordedEvent } from '../domain/types';

/** How often update() reloads and re-applies after losing a version race before answering ABORTED. */
const UPDATE_ATTEMPTS = 12;

/** Top-level fields of an order that may be absent; a change that clears one removes it from the document. */
const OPTIONAL_FIELDS = [
  'customerId',
  'storeId',
  'associateId',
  'marketplace',
  'statusReason',
  'nextRunAt',
] as const satisfies readonly (keyof OrderState)[];

/** The collection the orders and their outbox live in (the relay reads it). */
export const ORDERS_COLLECTION = 'orders';

/** The stored document: the order's state (tasks and timeline included), its outbox, and the runner's claim. */
export interface OrderDocument extends Omit<OrderState, 'id'> {
  _id: string;
  /** `rq:<request id>` or `mp:<partner>:<external id>`: unique, so a placement is stored once. */
  placementKey: string;
  fingerprint: string;
  /** The store of sale and every fulfilling location, for ListOrders by store. */
  storeIds: string[];
  outbox: OutboxEntry[];
  leaseOwner?: string;
  leaseUntil?: Date;
}

/** Turns domain events (with the order after them) into outbox entries. */
export type EventEncoder = (events: RecordedEvent[]) => OutboxEntry[];

/** Orders in MongoDB/FerretDB: one document per order; state, events and tasks written by one conditional update. */
export function mongoOrderRepository(
  connection: Connection,
  encode: EventEncoder,
): OrderRepository & { ensureIndexes(): Promise<void> } {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const orders = db.collection<OrderDocument>(ORDERS_COLLECTION);
  const outboxOf = (events: OrderEvent[], order: OrderState) => encode(events.map((event) => ({ event, order })));

  return {
    async ensureIndexes() {
      await orders.createIndex({ placementKey: 1 }, { name: 'placement_key', unique: true });
      await orders.createIndex({ nextRunAt: 1 }, { name: 'next_run' });
      await orders.createIndex({ customerId: 1, createdAt: -1, _id: -1 }, { name: 'customer_created' });
      await orders.createIndex({ storeIds: 1, createdAt: -1, _id: -1 }, { name: 'store_created' });
      await orders.createIndex({ 'marketplace.partnerId': 1, createdAt: -1, _id: -1 }, { name: 'partner_created' });
      await orders.createIndex({ channel: 1, createdAt: -1, _id: -1 }, { name: 'channel_created' });
      await orders.createIndex({ status: 1, createdAt: -1, _id: -1 }, { name: 'status_created' });
    },

    async insert(order, events, meta) {
      const state = order.snapshot();
      try {
        await orders.insertOne({
          _id: state.id,
          ...fields(state),
          placementKey: meta.placementKey,
          fingerprint: meta.fingerprint,
          outbox: outboxOf(events, state),
          leaseOwner: meta.lease.owner,
          leaseUntil: meta.lease.until,
        });
        return 'inserted';
      } catch (error) {
        if (isDuplicateKeyError(error)) return 'exists';
        throw error;
      }
    },

    async findByPlacementKey(key) {
      const doc = await orders.findOne({ placementKey: key });
      return doc ? { state: fromDocument(doc), fingerprint: doc.fingerprint } : undefined;
    },

    async get(id) {
      const doc = await orders.findOne({ _id: id });
      return doc ? fromDocument(doc) : undefined;
    },

    async update(id, change, known) {
      for (let attempt = 1; attempt <= UPDATE_ATTEMPTS; attempt++) {
        // A caller that holds the current state (a task runner) saves the read; a lost race reloads.
        let current = attempt === 1 ? known : undefined;
        if (!current) {
          const doc = await orders.findOne({ _id: id }, { projection: { outbox: 0 } });
          if (!doc) throw new OrderError('not-found', `Order "${id}" does not exist`);
          current = fromDocument(doc);
        }
        const order = Order.fromState(current);
        const { events, result } = change(order);
        const state = order.snapshot();
        if (state.version === current.version) return { state, result };
        const set = fields(state);
        // Fields the change removed (e.g. nextRunAt once no task is left) are removed from the document too.
        const unset = OPTIONAL_FIELDS.filter((f) => current[f] !== undefined && state[f] === undefined);
        const written = await orders.updateOne(
          { _id: id, version: current.version },
          {
            $set: set,
            ...(unset.length > 0 ? { $unset: Object.fromEntries(unset.map((f) => [f, ''])) } : {}),
            ...(events.length > 0 ? { $push: outboxPush(outboxOf(events, state)) } : {}),
          },
        );
        if (written.matchedCount === 1) return { state, result };
        // Lost the race: someone changed the order since we read it. Back off a little, reload and re-apply.
        await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
      throw new OrderError('aborted', `Order "${id}" is changing concurrently: retry`);
    },

    async claim(id, lease, now) {
      const written = await orders.updateOne(
        {
          _id: id,
          $or: [{ leaseOwner: lease.owner }, { leaseUntil: { $exists: false } }, { leaseUntil: { $lt: now } }],
        },
        { $set: { leaseOwner: lease.owner, leaseUntil: lease.until } },
      );
      return written.matchedCount === 1;
    },

    async unclaim(id, owner) {
      await orders.updateOne({ _id: id, leaseOwner: owner }, { $unset: { leaseOwner: '', leaseUntil: '' } });
    },

    async due(now, limit) {
      const docs = await orders
        .find(
          {
            nextRunAt: { $lte: now },
            $or: [{ leaseUntil: { $exists: false } }, { leaseUntil: { $lt: now } }],
          },
          { projection: { _id: 1 } },
        )
        .sort({ nextRunAt: 1 })
        .limit(limit)
        .toArray();
      return docs.map((d) => d._id);
    },

    async list(filter, page) {
      const query = listFilter(filter);
      if (page.after) {
        const colon = page.after.indexOf(':');
        const time = new Date(Number(page.after.slice(0, colon)));
        const id = page.after.slice(colon + 1);
        query.$or = [{ createdAt: { $lt: time } }, { createdAt: time, _id: { $lt: id } }];
      }
      const docs = await orders
        .find(query, { projection: { outbox: 0 } })
        .sort({ createdAt: -1, _id: -1 })
        .limit(page.size + 1)
        .toArray();
      const items = docs.slice(0, page.size).map(fromDocument);
      const last = items[items.length - 1];
      const result: Page<OrderState> = { items };
      if (docs.length > page.size && last) result.after = `${last.createdAt.getTime()}:${last.id}`;
      return result;
    },
  };
}

function listFilter(filter: OrderFilter): Filter<OrderDocument> {
  const query: Filter<OrderDocument> = {};
  if (filter.customerId) query.customerId = filter.customerId;
  if (filter.storeId) query.storeIds = filter.storeId;
  if (filter.partnerId) query['marketplace.partnerId'] = filter.partnerId;
  if (filter.channel) query.channel = filter.channel;
  if (filter.statuses && filter.statuses.length > 0) query.status = { $in: filter.statuses };
  if (filter.placedAfter || filter.placedBefore) {
    const range: { $gte?: Date; $lt?: Date } = {};
    if (filter.placedAfter) range.$gte = filter.placedAfter;
    if (filter.placedBefore) range.$lt = filter.placedBefore;
    query.createdAt = range;
  }
  return query;
}

// Everything but the id, plus the derived store list; absent optional fields stay absent (not stored as null).
function fields(state: OrderState): Omit<OrderDocument, '_id' | 'placementKey' | 'fingerprint' | 'outbox'> {
  const { id: _id, ...rest } = state;
  for (const key of Object.keys(rest) as (keyof typeof rest)[]) {
    if (rest[key] === undefined) delete rest[key];
  }
  // A location a group was re-routed away from no longer fulfils the order: it stops listing it.
  const stores = new Set(state.groups.filter((g) => g.status !== 'REROUTED').map((g) => g.locationId));
  if (state.storeId) stores.add(state.storeId);
  return { ...rest, storeIds: [...stores] };
}

function fromDocument(doc: OrderDocument): OrderState {
  const {
    _id,
    placementKey: _key,
    fingerprint: _fingerprint,
    storeIds: _stores,
    outbox: _outbox,
    leaseOwner: _owner,
    leaseUntil: _until,
    ...rest
  } = doc;
  return { id: _id, ...rest };
}
