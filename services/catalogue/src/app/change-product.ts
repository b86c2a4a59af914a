import { CatalogueError } from '../domain/errors';
import type { CatalogueEvent } from '../domain/events';
import type { Money } from '../domain/money';
import type { PriceChannel, Product, ProductInput, ProductState, UpdatableField } from '../domain/product';
import { UPDATABLE_FIELDS } from '../domain/product';
import type { Clock, ProductRepository } from './ports';
import { requestKey } from './request-key';

type Deps = { products: ProductRepository; clock: Clock };

/** What every change to an existing product carries: the client's key, the product, the version it last read. */
export interface ChangeRequest {
  requestId: string;
  productId: string;
  expectedVersion: number;
}

async function change(
  deps: Deps,
  request: ChangeRequest,
  content: unknown,
  apply: (product: Product, now: Date) => CatalogueEvent[],
): Promise<ProductState> {
  const key = requestKey(request.requestId, {
    productId: request.productId,
    version: request.expectedVersion,
    content,
  });
  const violations = [];
  if (request.productId.length === 0 || request.productId.length > 64) {
    violations.push({ field: 'product_id', description: 'must be 1..64 characters' });
  }
  if (!Number.isSafeInteger(request.expectedVersion) || request.expectedVersion < 1) {
    violations.push({ field: 'expected_version', description: 'must be the version last read (1 or more)' });
  }
  if (violations.length > 0) throw CatalogueError.invalid(violations);
  return deps.products.update(request.productId, { expectedVersion: request.expectedVersion, key }, (product) =>
    apply(product, deps.clock.now()),
  );
}

/** UpdateProduct: replaces the fields named in the mask. */
export async function updateProduct(
  deps: Deps,
  request: ChangeRequest & { input: ProductInput; fields: string[] },
): Promise<ProductState> {
  const unknown = request.fields.filter((f) => !(UPDATABLE_FIELDS as readonly string[]).includes(f));
  if (unknown.length > 0) {
    throw CatalogueError.invalid([
      {
        field: 'update_mask',
        description: `unknown field(s) ${unknown.join(', ')}; allowed: ${UPDATABLE_FIELDS.join(', ')}`,
      },
    ]);
  }
  const fields = [...new Set(request.fields)] as UpdatableField[];
  return change(deps, request, { input: request.input, fields }, (p, now) => p.update(request.input, fields, now));
}

/** SetPrice: one SKU's price for one channel and currency. */
export async function setPrice(
  deps: Deps,
  request: ChangeRequest & { skuCode: string; channel: PriceChannel; price: Money },
): Promise<ProductState> {
  const { skuCode, channel, price } = request;
  return change(deps, request, { skuCode, channel, price }, (p, now) => p.setPrice(skuCode, channel, price, now));
}

/** ActivateProduct: DRAFT → ACTIVE. */
export async function activateProduct(deps: Deps, request: ChangeRequest): Promise<ProductState> {
  return change(deps, request, { op: 'activate' }, (p, now) => p.activate(now));
}

/** DiscontinueProduct: → DISCONTINUED, for good. */
export async function discontinueProduct(
  deps: Deps,
  request: ChangeRequest & { reason: string },
): Promise<ProductState> {
  return change(deps, request, { op: 'discontinue', reason: request.reason }, (p, now) =>
    p.discontinue(request.reason, now),
  );
}
