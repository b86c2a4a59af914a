import * as catalogue from '@o2o/contracts/gen/o2o/catalogue/v1/events';
import { ProductStatus } from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import type { IncomingMessage } from '@o2o/kit-kafka';
import type { Logger } from '@o2o/kit-log';
import { type ProductFacts, recordProduct } from '../app/catalogue-skus';
import type { SkuRegistry } from '../app/ports';

/** The catalogue's topic (without the deployment's prefix). */
export const CATALOGUE_TOPIC = 'o2o.catalogue.v1';

/**
 * Handles one catalogue event: records the product's SKUs (and whether it is discontinued), so inventory knows
 * which SKUs exist and refuses holds on discontinued ones. Price events are not inventory's concern.
 * Idempotent by state (versions only move forward), so redeliveries are harmless even without the inbox.
 */
export function catalogueEventHandler(skus: SkuRegistry, logger: Logger): (message: IncomingMessage) => Promise<void> {
  return async (message) => {
    const facts = readFacts(message);
    if (facts) await recordProduct(skus, facts);
    else if (!message.headers.ce_type?.endsWith('.PriceChanged')) {
      logger.debug({ type: message.headers.ce_type }, 'catalogue event ignored');
    }
  };
}

function readFacts(message: IncomingMessage): ProductFacts | undefined {
  switch (message.headers.ce_type ?? '') {
    case 'o2o.catalogue.v1.ProductCreated':
    case 'o2o.catalogue.v1.ProductUpdated': {
      const event =
        message.headers.ce_type === 'o2o.catalogue.v1.ProductCreated'
          ? catalogue.ProductCreated.decode(message.value)
          : catalogue.ProductUpdated.decode(message.value);
      const product = event.product;
      if (!product) return undefined;
      return {
        productId: product.id,
        skuCodes: product.skus.map((s) => s.code),
        discontinued: product.status === ProductStatus.PRODUCT_STATUS_DISCONTINUED,
        productVersion: Number(product.version),
      };
    }
    case 'o2o.catalogue.v1.ProductDiscontinued': {
      const event = catalogue.ProductDiscontinued.decode(message.value);
      return {
        productId: event.productId,
        skuCodes: event.skuCodes,
        discontinued: true,
        productVersion: Number(event.productVersion),
      };
    }
    default:
      return undefined;
  }
}
