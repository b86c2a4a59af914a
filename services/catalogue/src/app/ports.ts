import type { CatalogueEvent } from '../domain/events';
import type { Product, ProductState, ProductStatus, SalesChannel, Sku } from '../domain/product';

/** What a mutation was asked with, so a repeat can be recognised: the client's key and a hash of the request. */
export interface RequestKey {
  requestId: string;
  requestHash: string;
}

/** A stored product and the idempotency facts kept beside it. */
export interface StoredProduct {
  product: Product;
  /** The hash of the CreateProduct request that made it. */
  createRequestHash: string;
}

/** Filters of ListProducts; all optional. */
export interface ProductFilter {
  status?: ProductStatus;
  categoryPrefix?: string;
  sellableChannel?: SalesChannel;
  brand?: string;
}

/** One page of a query, and where the next starts. */
export interface Page<T> {
  items: T[];
  /** Opaque position after the last item, or undefined at the end. */
  after?: string;
}

/** A SKU with what a seller needs from its product. */
export interface SkuView {
  sku: Sku;
  productId: string;
  productName: string;
  productStatus: ProductStatus;
  productVersion: number;
}

/** Where products live. Every write stores the state and its events (outbox) in ONE document update. */
export interface ProductRepository {
  /** Inserts a new product with its events. Throws CatalogueError already-exists for a SKU code or barcode taken elsewhere. */
  insert(product: Product, events: CatalogueEvent[], key: RequestKey): Promise<'inserted' | 'exists'>;
  /** The product with that id, if any. */
  find(id: string): Promise<StoredProduct | undefined>;
  /**
   * Applies `change` to the product at `expectedVersion` and stores the result and its events atomically.
   * Throws not-found, aborted (version moved on), or invalid-argument (request id reused with other content).
   * A repeat of an applied request (same id and hash) changes nothing and returns the current state.
   */
  update(
    id: string,
    options: { expectedVersion: number; key: RequestKey },
    change: (product: Product) => CatalogueEvent[],
  ): Promise<ProductState>;
  /** Products matching the filter, oldest first, starting after `after`. */
  list(filter: ProductFilter, page: { size: number; after?: string }): Promise<Page<ProductState>>;
  /** Products whose name contains the text (any case) or whose SKU code or barcode equals it. */
  search(text: string, page: { size: number; after?: string }): Promise<Page<ProductState>>;
  /** SKUs by code; unknown codes are simply absent. */
  findSkus(codes: string[]): Promise<SkuView[]>;
}

/** The time, injectable for tests. Always UTC instants. */
export interface Clock {
  now(): Date;
}
