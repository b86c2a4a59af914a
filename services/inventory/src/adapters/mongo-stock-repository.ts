import type { Connection } from '@o2o/kit-mongo';
import { isDuplicateKeyError } from '@o2o/kit-mongo';
import type { OutboxEntry } from '@o2o/kit-outbox';
import type { Filter } from 'mongodb';
import type { StockRepository } from '../app/ports';
import { InventoryError } from '../domain/errors';
import type { InventoryEvent } from '../domain/events';
import type { HoldLine } from '../domain/hold';
import { available, emptyStock, isLow, type StockLevel, stockId } from '../domain/stock';

/** How many applied adjustment request ids each stock record remembers, to recognise repeats. */
const REMEMBERED_REQUESTS = 100;
const MAX_ATTEMPTS = 20;

/**
 * One SKU at one location. `free` = onHand − held − safetyStock is kept beside the counts so a hold can be the
 * single conditional update `{ free ≥ q, holding ∌ hold }` → `$inc`. `holding` lists holds whose line was held
 * and not yet confirmed by the hold document; `settling` lists "release:<hold>" / "commit:<hold>" markers of lines
 * given back or taken out and not yet confirmed. Both stay short: entries are forgotten once confirmed.
 */
export interface StockDocument {
  _id: string;
  skuCode: string;
  locationId: string;
  onHand: number;
  held: number;
  safetyStock: number;
  lowStockThreshold: number;
  free: number;
  version: number;
  updatedAt: Date;
  holding: string[];
  settling: string[];
  requests: string[];
  /** Set once StockLow was announced for the current dip below the threshold. */
  low: boolean;
  outbox: OutboxEntry[];
}

/** Turns domain events into outbox entries (protobuf payload, topic, key). */
export type EventEncoder = (events: InventoryEvent[]) => OutboxEntry[];

/** Stock records in MongoDB/FerretDB. */
export function mongoStockRepository(
  connection: Connection,
  encode: EventEncoder,
): StockRepository & { ensureIndexes(): Promise<void> } {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const stock = db.collection<StockDocument>('stock');

  const resetLowIfRecovered = async (doc: StockDocument) => {
    if (doc.low && !isLow(toStock(doc))) await stock.updateOne({ _id: doc._id, low: true }, { $set: { low: false } });
  };

  return {
    async ensureIndexes() {
      await stock.createIndex({ skuCode: 1, locationId: 1 }, { name: 'sku_location' });
    },

    async find(skuCode, locationId) {
      const doc = await stock.findOne({ _id: stockId(skuCode, locationId) });
      return doc ? toStock(doc) : undefined;
    },

    async findMany(skuCodes, locationIds) {
      const query: Filter<StockDocument> = { skuCode: { $in: skuCodes } };
      if (locationIds.length > 0) query.locationId = { $in: locationIds };
      return (
        await stock.find(query, { projection: { outbox: 0, holding: 0, settling: 0, requests: 0 } }).toArray()
      ).map(toStock);
    },

    async change(key, change) {
      const _id = stockId(key.skuCode, key.locationId);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (attempt > 0) await pause(attempt);
        const doc = await stock.findOne({ _id });
        if (doc?.requests.includes(key.requestId)) return { stock: toStock(doc), applied: false };
        const current = doc ? toStock(doc) : emptyStock(key.skuCode, key.locationId, new Date(0));
        const { next, events } = change(current);
        const fields = {
          onHand: next.onHand,
          safetyStock: next.safetyStock,
          lowStockThreshold: next.lowStockThreshold,
          free: next.onHand - current.held - next.safetyStock,
          version: next.version,
          updatedAt: next.updatedAt,
          low: isLow(next),
        };
        if (!doc) {
          try {
            await stock.insertOne({
              _id,
              skuCode: key.skuCode,
              locationId: key.locationId,
              held: 0,
              ...fields,
              holding: [],
              settling: [],
              requests: [key.requestId],
              outbox: encode(events),
            });
            return { stock: next, applied: true };
          } catch (error) {
            if (isDuplicateKeyError(error)) continue;
            throw error;
          }
        }
        const requests = [...doc.requests, key.requestId].slice(-REMEMBERED_REQUESTS);
        const result = await stock.updateOne(
          { _id, version: doc.version },
          { $set: { ...fields, requests }, $push: { outbox: { $each: encode(events) } } },
        );
        if (result.matchedCount === 1) return { stock: next, applied: true };
      }
      throw new InventoryError('aborted', `Stock of SKU "${key.skuCode}" at "${key.locationId}" is busy: retry`);
    },

    async holdLine(holdId, line) {
      const _id = stockId(line.skuCode, line.locationId);
      const doc = await stock.findOneAndUpdate(
        { _id, free: { $gte: line.quantity }, holding: { $ne: holdId } },
        {
          $inc: { free: -line.quantity, held: line.quantity, version: 1 },
          $set: { updatedAt: new Date() },
          $push: { holding: holdId },
        },
        { returnDocument: 'after' },
      );
      if (doc) return { held: true, stock: toStock(doc) };
      const now = await stock.findOne({ _id });
      return { held: false, available: now ? available(toStock(now)) : 0 };
    },

    async isHeld(holdId, line) {
      const doc = await stock.findOne({ _id: stockId(line.skuCode, line.locationId) });
      return doc?.holding.includes(holdId) ?? false;
    },

    async undoLine(holdId, line) {
      const doc = await stock.findOneAndUpdate(
        { _id: stockId(line.skuCode, line.locationId), holding: holdId },
        {
          $inc: { free: line.quantity, held: -line.quantity, version: 1 },
          $set: { updatedAt: new Date() },
          $pullAll: { holding: [holdId] },
        },
        { returnDocument: 'after' },
      );
      if (doc) await resetLowIfRecovered(doc);
      return doc ? toStock(doc) : undefined;
    },

    async settleLine(holdId, line, mode) {
      const _id = stockId(line.skuCode, line.locationId);
      const marker = `${mode}:${holdId}`;
      const changes = {
        $set: { updatedAt: new Date() },
        $push: { settling: marker },
        // The hold's own marker may still be there if a crash came between activation and forgetting it.
        $pullAll: { holding: [holdId] },
      };
      if (mode === 'release') {
        const doc = await stock.findOneAndUpdate(
          { _id, settling: { $ne: marker } },
          { ...changes, $inc: { free: line.quantity, held: -line.quantity, version: 1 } },
          { returnDocument: 'after' },
        );
        if (doc) await resetLowIfRecovered(doc);
        return doc ? toStock(doc) : undefined;
      }
      const doc = await stock.findOneAndUpdate(
        { _id, settling: { $ne: marker }, onHand: { $gte: line.quantity } },
        { ...changes, $inc: { onHand: -line.quantity, held: -line.quantity, version: 1 } },
        { returnDocument: 'after' },
      );
      if (doc) return toStock(doc);
      return commitShortLine(holdId, line);
    },

    async forgetLine(holdId, line) {
      await stock.updateOne(
        { _id: stockId(line.skuCode, line.locationId) },
        { $pullAll: { holding: [holdId], settling: [`release:${holdId}`, `commit:${holdId}`] } },
      );
    },

    async flagLow(level, event) {
      const result = await stock.updateOne(
        { _id: stockId(level.skuCode, level.locationId), low: { $ne: true } },
        { $set: { low: true }, $push: { outbox: { $each: encode([event]) } } },
      );
      return result.matchedCount === 1;
    },
  };

  /**
   * Committing a line when damage or a count left less on hand than the hold took: the goods that left are what
   * there was, so on hand stops at zero. Rare, so a version-checked read-modify-write.
   */
  async function commitShortLine(holdId: string, line: HoldLine): Promise<StockLevel | undefined> {
    const _id = stockId(line.skuCode, line.locationId);
    const marker = `commit:${holdId}`;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const doc = await stock.findOne({ _id });
      if (!doc || doc.settling.includes(marker)) return doc ? toStock(doc) : undefined;
      const onHand = Math.max(0, doc.onHand - line.quantity);
      const held = doc.held - line.quantity;
      const result = await stock.updateOne(
        { _id, version: doc.version },
        {
          $set: {
            onHand,
            held,
            free: onHand - held - doc.safetyStock,
            version: doc.version + 1,
            updatedAt: new Date(),
          },
          $push: { settling: marker },
          $pullAll: { holding: [holdId] },
        },
      );
      if (result.matchedCount === 1) return { ...toStock(doc), onHand, held, version: doc.version + 1 };
      await pause(attempt + 1);
    }
    throw new InventoryError('aborted', `Stock of SKU "${line.skuCode}" at "${line.locationId}" is busy: retry`);
  }
}

function toStock(doc: StockDocument): StockLevel {
  return {
    skuCode: doc.skuCode,
    locationId: doc.locationId,
    onHand: doc.onHand,
    held: doc.held,
    safetyStock: doc.safetyStock,
    lowStockThreshold: doc.lowStockThreshold,
    version: doc.version,
    updatedAt: doc.updatedAt,
  };
}

/** Jittered backoff between optimistic retries, so contenders spread out. */
function pause(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
}
