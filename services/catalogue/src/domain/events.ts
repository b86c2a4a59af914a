import type { Money } from './money';
import type { PriceChannel, ProductState } from './product';

/** Every event the catalogue publishes, as plain data; adapters encode them as o2o.catalogue.v1 protobuf. */
export type CatalogueEvent =
  | { type: 'ProductCreated'; product: ProductState }
  | { type: 'ProductUpdated'; product: ProductState; changedFields: string[] }
  | {
      type: 'PriceChanged';
      productId: string;
      skuCode: string;
      channel: PriceChannel;
      previousPrice: Money | undefined;
      price: Money;
      productVersion: number;
    }
  | { type: 'ProductDiscontinued'; productId: string; skuCodes: string[]; reason: string; productVersion: number };
