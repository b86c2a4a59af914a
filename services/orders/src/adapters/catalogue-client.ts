// The catalogue as the order sees it: prices and sellability of SKUs, over the catalogue's gRPC API.
import {
  CatalogueServiceClient,
  CatalogueServiceService,
  PriceChannel,
  ProductStatus,
  SalesChannel,
  type SkuView,
} from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import { asyncClient, channelCredentials, channelOptions } from '@o2o/kit-grpc';
import type { CataloguePort, PriceQuery } from '../app/ports';
import type { PricedSku } from '../domain/types';
import { answerMoney, DEFAULT_DEADLINE_MS, type DownstreamOptions, downstreamStatus } from './downstream-status';

/** BatchGetSkus takes at most this many codes per call. */
const BATCH_LIMIT = 500;

const PRICE_LIST_TO_PB: Record<PriceQuery['priceList'], PriceChannel> = {
  ONLINE: PriceChannel.PRICE_CHANNEL_ONLINE,
  STORE: PriceChannel.PRICE_CHANNEL_STORE,
};
const SALES_CHANNEL_TO_PB: Record<PriceQuery['salesChannel'], SalesChannel> = {
  ONLINE: SalesChannel.SALES_CHANNEL_ONLINE,
  IN_STORE: SalesChannel.SALES_CHANNEL_IN_STORE,
  STORE_KIOSK: SalesChannel.SALES_CHANNEL_STORE_KIOSK,
};

/** The catalogue port over gRPC, and close() for its channel. */
export function catalogueClient(options: DownstreamOptions): CataloguePort & { close(): void } {
  const raw = new CatalogueServiceClient(options.address, channelCredentials(), channelOptions());
  const client = asyncClient(raw, CatalogueServiceService);
  const call = { deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS };
  return {
    async priceSkus(query) {
      const codes = [...new Set(query.skuCodes)];
      const found = new Map<string, SkuView>();
      try {
        for (let at = 0; at < codes.length; at += BATCH_LIMIT) {
          const answer = await client.batchGetSkus({ skuCodes: codes.slice(at, at + BATCH_LIMIT) }, call);
          for (const view of answer.skus) if (view.sku) found.set(view.sku.code, view);
        }
      } catch (error) {
        return downstreamStatus('catalogue', error);
      }
      const problems: string[] = [];
      const skus: PricedSku[] = [];
      for (const code of codes) {
        // Codes in missing_sku_codes are simply not among the views found.
        const view = found.get(code);
        const priced = view ? priceOf(view, query) : `SKU "${code}" is not in the catalogue`;
        if (typeof priced === 'string') problems.push(priced);
        else skus.push(priced);
      }
      if (problems.length > 0) return { kind: 'refused', reason: problems.join('; ') };
      return { kind: 'priced', skus };
    },
    close: () => raw.close(),
  };
}

/** The SKU's price for the query, or why it cannot be sold on it (naming the SKU). */
function priceOf(view: SkuView, query: PriceQuery): PricedSku | string {
  const code = view.sku?.code ?? '';
  if (view.productStatus !== ProductStatus.PRODUCT_STATUS_ACTIVE) {
    const state = ProductStatus[view.productStatus]?.replace('PRODUCT_STATUS_', '').toLowerCase() ?? 'unknown';
    return `SKU "${code}" is not on sale (its product is ${state})`;
  }
  if (!view.sku?.sellableChannels.includes(SALES_CHANNEL_TO_PB[query.salesChannel])) {
    return `SKU "${code}" is not sellable on the ${query.salesChannel} channel`;
  }
  const price = view.sku.prices.find(
    (p) => p.channel === PRICE_LIST_TO_PB[query.priceList] && p.price?.currencyCode === query.currency,
  );
  if (!price) return `SKU "${code}" has no ${query.priceList} price in ${query.currency}`;
  return {
    skuCode: code,
    unitPrice: answerMoney(price.price, `sku "${code}" price`),
    productId: view.productId,
    productName: view.productName,
  };
}
