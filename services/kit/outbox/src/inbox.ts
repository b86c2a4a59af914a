import type { IncomingMessage } from '@o2o/kit-kafka';
import type { Connection } from 'mongoose';

/** The ids of events a consumer already processed, for dropping redeliveries (delivery is at least once). */
export interface Inbox {
  /** True if the event was already processed. */
  seen(eventId: string): Promise<boolean>;
  /** Records the event atomically (unique _id); false if it was already recorded. */
  record(eventId: string): Promise<boolean>;
  /** Deletes ids processed before the date (no TTL index on FerretDB); returns how many went. */
  prune(olderThan: Date): Promise<number>;
}

interface InboxDocument {
  _id: string;
  processedAt: Date;
}

/** An inbox in the collection `name` of the connection's database: `{ _id: eventId, processedAt }`. */
export function createInbox(connection: Connection, options: { name: string }): Inbox {
  const collection = connection.collection<InboxDocument>(options.name);
  return {
    async seen(eventId) {
      return (await collection.countDocuments({ _id: eventId }, { limit: 1 })) > 0;
    },
    async record(eventId) {
      try {
        await collection.insertOne({ _id: eventId, processedAt: new Date() });
        return true;
      } catch (error) {
        if ((error as { code?: unknown }).code === 11000) return false;
        throw error;
      }
    },
    async prune(olderThan) {
      const { deletedCount } = await collection.deleteMany({ processedAt: { $lt: olderThan } });
      return deletedCount;
    },
  };
}

/**
 * Wraps a handler so an event whose ce_id is in the inbox is skipped, and a handled one is recorded afterwards.
 * If the process dies between the handler and the record, the event is handled again: handlers must also be
 * idempotent by state checks. A message without ce_id is refused (thrown), never processed blind or skipped.
 */
export function dedupe(
  inbox: Inbox,
  handle: (message: IncomingMessage) => Promise<void>,
): (message: IncomingMessage) => Promise<void> {
  return async (message) => {
    const eventId = message.headers.ce_id;
    if (!eventId) {
      throw new Error(`Cannot deduplicate ${message.topic}[${message.partition}]@${message.offset}: no ce_id header`);
    }
    if (await inbox.seen(eventId)) return;
    await handle(message);
    await inbox.record(eventId);
  };
}
