import type { Connection } from '@o2o/kit-mongo';
import { isDuplicateKeyError } from '@o2o/kit-mongo';
import { type OutboxEntry } from '@o2o/kit-outbox';
import type { Collection, Filter } from 'mongodb';
import { keyReused } from '../app/request-key';
import type { Page, ProductRepository, SkuView, StoredProduct } from '../app/ports';
import { CatalogueError, type Violation } from '../domain/errors';
import type { CatalogueEvent } from '../domain/events';
import { Product, type ProductState, type Sku } from '../domain/product';

/** How many applied request ids each product remembers, to recognise repeated updates. */
const REMEMBERED_REQUESTS = 32;
/** A SKU claim whose product never appeared after this long is an orphan from a crash and may be taken over. */
const ORPHAN_CLAIM_MS = 60_000;

/** The stored document: the state, search helpers, idempotency facts and the outbox, all in one place. */
export interface ProductDocument {
  _id: string;
  name: string;
  nameLower: string;
  description: string;
  brand: string;
  categories: string[];
  attributes: { k: string; v: string }[];
  imageUrls: string[];
  skus: StoredSku[];
  skuCodes: string[];
  barcodes: string[];
  channels: string[];
  status: ProductState['status'];
  version: number;
  createdAt: Date;
  updatedAt: Date;
  createRequest: { id: string; hash: string };
  recentRequests: { id: string; hash: string }[];
  outbox: OutboxEntry[];
}

interface StoredSku extends Omit<Sku, 'attributes'> {
  attributes: { k: string; v: string }[];
}

/** Uniqueness of SKU codes and barcodes across products (FerretDB cannot enforce unique multikey indexes). */
interface ClaimDocument {
  _id: string;
  productId: string;
  claimedAt: Date;
}

/** Turns domain events into outbox entries (protobuf payload, topic, key). */
export type EventEncoder = (events: CatalogueEvent[]) => OutboxEntry[];

/** Products in MongoDB/FerretDB: one document per product, state and outbox written by one conditional update. */
export function mongoProductRepository(
  connection: Connection,
  encode: EventEncoder,
): ProductRepository & {
  ensureIndexes(): Promise<void>;
} {
  const db = connection.db;
  if (!db) throw new Error('Mongo connection is not open');
  const products = db.collection<ProductDocument>('products');
  const claims = db.collection<ClaimDocument>('sku_claims');

  const claimKeys = (state: Pick<ProductState, 'skus'>) => [
    ...state.skus.map((s) => `sku:${s.code}`),
    ...state.skus.filter((s) => s.barcode !== '').map((s) => `barcode:${s.barcode}`),
  ];

  /** Claims each key for the product; returns the keys held by another product (after releasing its own new claims). */
  async function claim(productId: string, keys: string[]): Promise<string[]> {
    const taken: string[] = [];
    const mine: string[] = [];
    for (const key of keys) {
      try {
        await claims.insertOne({ _id: key, productId, claimedAt: new Date() });
        mine.push(key);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        const holder = await claims.findOne({ _id: key });
        if (!holder || holder.productId === productId) continue;
        const orphan =
          Date.now() - holder.claimedAt.getTime() > ORPHAN_CLAIM_MS &&
          (await products.countDocuments({
            _id: holder.productId,
            [key.startsWith('sku:') ? 'skuCodes' : 'barcodes']: key.slice(key.indexOf(':') + 1),
          })) === 0;
        if (orphan) {
          const moved = await claims.updateOne(
            { _id: key, productId: holder.productId },
            { $set: { productId, claimedAt: new Date() } },
          );
          if (moved.modifiedCount === 1) {
            mine.push(key);
            continue;
          }
        }
        taken.push(key);
      }
    }
    if (taken.length > 0 && mine.length > 0) await claims.deleteMany({ _id: { $in: mine }, productId });
    return taken;
  }

  async function release(productId: string, keys: string[]): Promise<void> {
    if (keys.length > 0) await claims.deleteMany({ _id: { $in: keys }, productId });
  }

  function conflict(state: ProductState, taken: string[]): CatalogueError {
    const violations: Violation[] = [];
    state.skus.forEach((s, i) => {
      if (taken.includes(`sku:${s.code}`)) {
        violations.push({
          field: `product.skus[${i}].code`,
          description: `SKU code "${s.code}" belongs to another product`,
        });
      }
      if (s.barcode !== '' && taken.includes(`barcode:${s.barcode}`)) {
        violations.push({
          field: `product.skus[${i}].barcode`,
          description: `barcode "${s.barcode}" belongs to another product`,
        });
      }
    });
    return new CatalogueError('already-exists', violations[0]?.description ?? 'SKU already exists', violations);
  }

  return {
    async ensureIndexes() {
      await products.createIndex({ createdAt: 1, _id: 1 }, { name: 'created' });
      await products.createIndex({ skuCodes: 1 }, { name: 'sku_codes' });
      await products.createIndex({ barcodes: 1 }, { name: 'barcodes' });
      await products.createIndex({ status: 1, createdAt: 1 }, { name: 'status_created' });
    },

    async insert(product, events, key) {
      const state = product.snapshot();
      const keys = claimKeys(state);
      const taken = await claim(state.id, keys);
      if (taken.length > 0) throw conflict(state, taken);
      try {
        await products.insertOne({
          ...toDocument(state),
          createRequest: { id: key.requestId, hash: key.requestHash },
          recentRequests: [],
          outbox: encode(events),
        });
        return 'inserted';
      } catch (error) {
        if (isDuplicateKeyError(error)) return 'exists';
        await release(state.id, keys);
        throw error;
      }
    },

    async find(id) {
      const doc = await products.findOne({ _id: id });
      return doc ? toStored(doc) : undefined;
    },

    async update(id, { expectedVersion, key }, change) {
      const doc = await products.findOne({ _id: id });
      if (!doc) throw new CatalogueError('not-found', `Product "${id}" does not exist`);
      const repeat = doc.recentRequests.find((r) => r.id === key.requestId);
      if (repeat) {
        if (repeat.hash !== key.requestHash) throw keyReused(key.requestId);
        return fromDocument(doc);
      }
      if (doc.version !== expectedVersion) {
        throw new CatalogueError(
          'aborted',
          `Product "${id}" is at version ${doc.version}, not ${expectedVersion}: read it again and retry`,
        );
      }
      const product = Product.fromState(fromDocument(doc));
      const events = change(product);
      if (events.length === 0) return product.snapshot();
      const next = product.snapshot();
      const before = new Set(claimKeys(fromDocument(doc)));
      const after = claimKeys(next);
      const added = after.filter((k) => !before.has(k));
      const removed = [...before].filter((k) => !after.includes(k));
      const taken = await claim(id, added);
      if (taken.length > 0) throw conflict(next, taken);
      const recentRequests = [...doc.recentRequests, { id: key.requestId, hash: key.requestHash }].slice(
        -REMEMBERED_REQUESTS,
      );
      const result = await products.updateOne(
        { _id: id, version: expectedVersion },
        { $set: { ...toDocument(next), recentRequests }, $push: { outbox: { $each: encode(events) } } },
      );
      if (result.matchedCount === 0) {
        await release(id, added);
        throw new CatalogueError('aborted', `Product "${id}" changed concurrently: read it again and retry`);
      }
      await release(id, removed);
      return next;
    },

    async list(filter, page) {
      const query: Filter<ProductDocument> = {};
      if (filter.status) query.status = filter.status;
      if (filter.brand) query.brand = filter.brand;
      if (filter.sellableChannel) query.channels = filter.sellableChannel;
      if (filter.categoryPrefix) {
        query.categories = { $regex: `^${escapeRegex(filter.categoryPrefix)}(/|$)` };
      }
      return pageOf(products, query, page);
    },

    async search(text, page) {
      const query: Filter<ProductDocument> = {
        $or: [{ nameLower: { $regex: escapeRegex(text.toLowerCase()) } }, { skuCodes: text }, { barcodes: text }],
      };
      return pageOf(products, query, page);
    },

    async findSkus(codes) {
      const docs = await products.find({ skuCodes: { $in: codes } }).toArray();
      const views: SkuView[] = [];
      for (const doc of docs) {
        const state = fromDocument(doc);
        for (const sku of state.skus) {
          if (codes.includes(sku.code)) {
            views.push({
              sku,
              productId: state.id,
              productName: state.name,
              productStatus: state.status,
              productVersion: state.version,
            });
          }
        }
      }
      return views;
    },
  };
}

async function pageOf(
  products: Collection<ProductDocument>,
  query: Filter<ProductDocument>,
  page: { size: number; after?: string },
): Promise<Page<ProductState>> {
  let filter = query;
  if (page.after) {
    const [time, id] = decodeAfter(page.after);
    filter = { $and: [query, { $or: [{ createdAt: { $gt: time } }, { createdAt: time, _id: { $gt: id } }] }] };
  }
  const docs = await products
    .find(filter)
    .sort({ createdAt: 1, _id: 1 })
    .limit(page.size + 1)
    .toArray();
  const items = docs.slice(0, page.size).map(fromDocument);
  const last = items[items.length - 1];
  return { items, after: docs.length > page.size && last ? `${last.createdAt.getTime()}:${last.id}` : undefined };
}

function decodeAfter(after: string): [Date, string] {
  const colon = after.indexOf(':');
  return [new Date(Number(after.slice(0, colon))), after.slice(colon + 1)];
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function toDocument(state: ProductState): Omit<ProductDocument, 'createRequest' | 'recentRequests' | 'outbox'> {
  return {
    _id: state.id,
    name: state.name,
    nameLower: state.name.toLowerCase(),
    description: state.description,
    brand: state.brand,
    categories: state.categories,
    attributes: pairs(state.attributes),
    imageUrls: state.imageUrls,
    skus: state.skus.map((s) => ({ ...s, attributes: pairs(s.attributes) })),
    skuCodes: state.skus.map((s) => s.code),
    barcodes: state.skus.map((s) => s.barcode).filter((b) => b !== ''),
    channels: [...new Set(state.skus.flatMap((s) => s.sellableChannels))],
    status: state.status,
    version: state.version,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
}

function fromDocument(doc: ProductDocument): ProductState {
  return {
    id: doc._id,
    name: doc.name,
    description: doc.description,
    brand: doc.brand,
    categories: doc.categories,
    attributes: record(doc.attributes),
    imageUrls: doc.imageUrls,
    skus: doc.skus.map((s) => ({ ...s, attributes: record(s.attributes), prices: s.prices.map((p) => ({ ...p })) })),
    status: doc.status,
    version: doc.version,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

function toStored(doc: ProductDocument): StoredProduct {
  return { product: Product.fromState(fromDocument(doc)), createRequestHash: doc.createRequest.hash };
}

// Attribute maps are stored as key/value pairs: user keys may contain "." or "$", which field names may not.
function pairs(record: Record<string, string>): { k: string; v: string }[] {
  return Object.entries(record).map(([k, v]) => ({ k, v }));
}

function record(list: { k: string; v: string }[]): Record<string, string> {
  return Object.fromEntries(list.map(({ k, v }) => [k, v]));
}
