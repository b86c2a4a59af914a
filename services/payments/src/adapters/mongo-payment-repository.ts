import type { Connection } from '@o2o/kit-mongo';
import { isDuplicateKeyError } from '@o2o/kit-mongo';
import { type OutboxEntry, outboxPush } from '@o2o/kit-outbox';
import type { Filter } from 'mongodb';
import type { Page, PaymentRepository, ProviderAttemptLog, StoredPayment } from '../app/ports';
import { PaymentError } from '../domain/errors';
import type { PaymentEvent } from '../domain/events';
import { Payment, type PaymentState } from '../domain/payment';
import type { ProviderBooks } from './simulated-accounts';

/** How often update() reloads and re-applies after losing a version race before answering ABORTED. */
const UPDATE_ATTEMPTS = 12;

/** The stored document: the payment's state (ledger and applied operation keys included), and its outbox. */
export interface PaymentDocument extends Omit<PaymentState, 'id'> {
  _id: string;
  authorizeHash: string;
  outbox: OutboxEntry[];
}

/** A failed provider call, for operators. */
interface AttemptDocument {
  _id: string;
  paymentId: string;
  key: string;
  operation: string;
  attempts: number;
  lastError: string;
  lastAt: Date;
}

/** Turns domain events into outbox entries (protobuf payload, topic, key). */
export type EventEncoder = (events: PaymentEvent[]) => OutboxEntry[];

/** The collection the payments and their outbox live in (the relay reads it). */
export const PAYMENTS_COLLECTION = 'payments';

/** Payments in MongoDB/FerretDB: one document per payment, state and outbox written by one conditional update. */
export function mongoPaymentRepository(
  connection: Connection,
  encode: EventEncoder,
): PaymentRepository & { ensureIndexes(): Promise<void> } {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const payments = db.collection<PaymentDocument>(PAYMENTS_COLLECTION);

  return {
    async ensureIndexes() {
      await payments.createIndex({ orderId: 1, createdAt: 1, _id: 1 }, { name: 'order_created' });
      await payments.createIndex({ status: 1, expiresAt: 1 }, { name: 'status_expires' });
    },

    async insert(payment, events, authorizeHash) {
      const state = payment.snapshot();
      try {
        await payments.insertOne({ ...toDocument(state), authorizeHash, outbox: encode(events) });
        return 'inserted';
      } catch (error) {
        if (isDuplicateKeyError(error)) return 'exists';
        throw error;
      }
    },

    async find(id) {
      const doc = await payments.findOne({ _id: id });
      return doc ? toStored(doc) : undefined;
    },

    async update(id, change) {
      for (let attempt = 1; attempt <= UPDATE_ATTEMPTS; attempt++) {
        const doc = await payments.findOne({ _id: id });
        if (!doc) throw new PaymentError('not-found', `Payment "${id}" does not exist`);
        const payment = Payment.fromState(fromDocument(doc));
        const result = change(payment);
        const state = payment.snapshot();
        if (result.events.length === 0) return { ...result, state };
        const written = await payments.updateOne(
          { _id: id, version: doc.version },
          { $set: changedFields(state), $push: outboxPush(encode(result.events)) },
        );
        if (written.matchedCount === 1) return { ...result, state };
        // Lost the race: someone else changed it since we read it. Back off a little, reload and re-apply.
        await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
      throw new PaymentError('aborted', `Payment "${id}" is changing concurrently: retry with the same key`);
    },

    async listByOrder(orderId, page) {
      let filter: Filter<PaymentDocument> = { orderId };
      if (page.after) {
        const colon = page.after.indexOf(':');
        const time = new Date(Number(page.after.slice(0, colon)));
        const id = page.after.slice(colon + 1);
        filter = { orderId, $or: [{ createdAt: { $gt: time } }, { createdAt: time, _id: { $gt: id } }] };
      }
      const docs = await payments
        .find(filter)
        .sort({ createdAt: 1, _id: 1 })
        .limit(page.size + 1)
        .toArray();
      const items = docs.slice(0, page.size).map(fromDocument);
      const last = items[items.length - 1];
      const result: Page<PaymentState> = { items };
      if (docs.length > page.size && last) result.after = `${last.createdAt.getTime()}:${last.id}`;
      return result;
    },

    async pendingWallet({ limit, createdBefore }) {
      const filter: Filter<PaymentDocument> = { status: 'PENDING' };
      if (createdBefore) filter.createdAt = { $lt: createdBefore };
      const docs = await payments.find(filter).sort({ expiresAt: 1, _id: 1 }).limit(limit).toArray();
      return docs.map(fromDocument);
    },
  };
}

/** Failed provider calls in their own small collection, one document per payment operation (upsert by _id). */
export function mongoProviderAttemptLog(connection: Connection): ProviderAttemptLog {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const attempts = db.collection<AttemptDocument>('provider_attempts');
  return {
    async record({ paymentId, key, operation, error, at }) {
      await attempts.updateOne(
        { _id: `${paymentId}/${operation}/${key}` },
        {
          $set: { paymentId, key, operation, lastError: error.slice(0, 500), lastAt: at },
          $inc: { attempts: 1 },
        },
        { upsert: true },
      );
    },
  };
}

function toDocument(state: PaymentState): Omit<PaymentDocument, 'authorizeHash' | 'outbox'> {
  return { _id: state.id, ...changedFields(state) };
}

// Everything but the id; absent optional fields stay absent (the driver would store undefined as null).
function changedFields(state: PaymentState): Omit<PaymentState, 'id'> {
  const { id: _id, ...rest } = state;
  for (const key of Object.keys(rest) as (keyof typeof rest)[]) {
    if (rest[key] === undefined) delete rest[key];
  }
  return rest;
}

function fromDocument(doc: PaymentDocument): PaymentState {
  const { _id, authorizeHash: _hash, outbox: _outbox, ...rest } = doc;
  return { id: _id, ...rest };
}

function toStored(doc: PaymentDocument): StoredPayment {
  return { payment: Payment.fromState(fromDocument(doc)), authorizeHash: doc.authorizeHash };
}

/**
 * The card simulator's books (its answers by idempotency key and its accounts) in a collection of their own: the
 * provider's side of the payments, which outlives a payments process as a real provider's books would.
 */
export function mongoProviderBooks(connection: Connection, collection = 'simulated_card_provider'): ProviderBooks {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const records = db.collection<{ _id: string; value: unknown }>(collection);
  return {
    async read<T>(id: string) {
      return (await records.findOne({ _id: id }))?.value as T | undefined;
    },
    async write(id, value) {
      await records.updateOne({ _id: id }, { $set: { value } }, { upsert: true });
    },
  };
}
