import { createHash } from 'node:crypto';
import { Product, type ProductInput, type ProductState } from '../domain/product';
import type { Clock, ProductRepository } from './ports';
import { keyReused, requestKey } from './request-key';

/** The product id a create request gets: derived from its key, so a retried create can only ever make one product. */
export function productIdFor(requestId: string): string {
  return `prd_${createHash('sha256').update(`create-product:${requestId}`).digest('hex').slice(0, 24)}`;
}

/** CreateProduct: a new DRAFT product, idempotent by request id. */
export async function createProduct(
  deps: { products: ProductRepository; clock: Clock },
  request: { requestId: string; input: ProductInput },
): Promise<ProductState> {
  const key = requestKey(request.requestId, request.input);
  const id = productIdFor(request.requestId);
  const replay = async (): Promise<ProductState | undefined> => {
    const existing = await deps.products.find(id);
    if (!existing) return undefined;
    if (existing.createRequestHash !== key.requestHash) throw keyReused(request.requestId);
    return existing.product.snapshot();
  };
  const earlier = await replay();
  if (earlier) return earlier;

  const { product, events } = Product.create(id, request.input, deps.clock.now());
  const outcome = await deps.products.insert(product, events, key);
  if (outcome === 'exists') {
    // A concurrent identical request won the race; answer as it did.
    const winner = await replay();
    if (winner) return winner;
  }
  return product.snapshot();
}
