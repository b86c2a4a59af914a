import type { SkuFacts, SkuRegistry } from './ports';

/** What inventory takes from a catalogue event: a product's SKUs, whether it is discontinued, its version. */
export interface ProductFacts {
  productId: string;
  skuCodes: string[];
  discontinued: boolean;
  productVersion: number;
}

/** Records a product's SKUs from a catalogue event; the registry ignores versions older than it holds. */
export async function recordProduct(skus: SkuRegistry, facts: ProductFacts): Promise<void> {
  const list: SkuFacts[] = facts.skuCodes.map((skuCode) => ({
    skuCode,
    productId: facts.productId,
    discontinued: facts.discontinued,
    productVersion: facts.productVersion,
  }));
  if (list.length > 0) await skus.record(list);
}
