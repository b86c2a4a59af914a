import { CatalogueError } from '../domain/errors';
import type { ProductState } from '../domain/product';
import type { Page, ProductFilter, ProductRepository, SkuView } from './ports';

/** GetProduct. */
export async function getProduct(deps: { products: ProductRepository }, id: string): Promise<ProductState> {
  if (id.length === 0 || id.length > 64) {
    throw CatalogueError.invalid([{ field: 'product_id', description: 'must be 1..64 characters' }]);
  }
  const stored = await deps.products.find(id);
  if (!stored) throw new CatalogueError('not-found', `Product "${id}" does not exist`);
  return stored.product.snapshot();
}

/** ListProducts. */
export async function listProducts(
  deps: { products: ProductRepository },
  filter: ProductFilter,
  page: { size: number; after?: string },
): Promise<Page<ProductState>> {
  if (filter.categoryPrefix !== undefined && filter.categoryPrefix.length > 200) {
    throw CatalogueError.invalid([{ field: 'category', description: 'must be at most 200 characters' }]);
  }
  if (filter.brand !== undefined && filter.brand.length > 100) {
    throw CatalogueError.invalid([{ field: 'brand', description: 'must be at most 100 characters' }]);
  }
  return deps.products.list(filter, page);
}

/** SearchProducts. */
export async function searchProducts(
  deps: { products: ProductRepository },
  query: string,
  page: { size: number; after?: string },
): Promise<Page<ProductState>> {
  const text = query.trim();
  if (text.length === 0 || text.length > 200) {
    throw CatalogueError.invalid([{ field: 'query', description: 'must be 1..200 characters' }]);
  }
  return deps.products.search(text, page);
}

/** BatchGetSkus: found SKUs in request order, and the codes not found. */
export async function batchGetSkus(
  deps: { products: ProductRepository },
  codes: string[],
): Promise<{ found: SkuView[]; missing: string[] }> {
  if (codes.length === 0 || codes.length > 500) {
    throw CatalogueError.invalid([{ field: 'sku_codes', description: 'must list 1..500 SKU codes' }]);
  }
  const bad = codes.findIndex((c) => c.length === 0 || c.length > 64);
  if (bad >= 0) throw CatalogueError.invalid([{ field: `sku_codes[${bad}]`, description: 'must be 1..64 characters' }]);
  const views = await deps.products.findSkus([...new Set(codes)]);
  const byCode = new Map(views.map((v) => [v.sku.code, v]));
  const found: SkuView[] = [];
  const missing: string[] = [];
  for (const code of codes) {
    const view = byCode.get(code);
    if (view) found.push(view);
    else missing.push(code);
  }
  return { found, missing };
}
