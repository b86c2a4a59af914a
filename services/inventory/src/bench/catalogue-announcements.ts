// Catalogue events exactly as the catalogue publishes them (CloudEvents headers, protobuf value), for the benchmark
// and the component tests, which need SKUs inventory knows without running the catalogue itself.
import { randomUUID } from 'node:crypto';
import { ProductStatus } from '@o2o/contracts/gen/o2o/catalogue/v1/catalogue';
import { ProductCreated, ProductDiscontinued } from '@o2o/contracts/gen/o2o/catalogue/v1/events';
import { toCloudEventHeaders } from '@o2o/kit-kafka';

/** A Kafka message of the catalogue topic. */
export interface CatalogueMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** ProductCreated (an ACTIVE product with these SKUs), or ProductDiscontinued for them. */
export function catalogueAnnouncement(
  productId: string,
  skuCodes: string[],
  options: { discontinued?: boolean } = {},
): CatalogueMessage {
  const now = new Date();
  const value = options.discontinued
    ? ProductDiscontinued.encode({ productId, skuCodes, reason: 'end of line', productVersion: '9' }).finish()
    : ProductCreated.encode({
        product: {
          id: productId,
          name: `Product ${productId}`,
          description: '',
          brand: '',
          categories: [],
          attributes: {},
          imageUrls: [],
          skus: skuCodes.map((code) => ({
            code,
            name: code,
            attributes: {},
            prices: [],
            sellableChannels: [],
            barcode: '',
            imageUrls: [],
          })),
          status: ProductStatus.PRODUCT_STATUS_ACTIVE,
          version: '1',
          createTime: now,
          updateTime: now,
        },
      }).finish();
  const type = options.discontinued ? 'ProductDiscontinued' : 'ProductCreated';
  return {
    key: productId,
    value: Buffer.from(value),
    headers: toCloudEventHeaders({
      id: randomUUID(),
      type: `o2o.catalogue.v1.${type}`,
      source: '/o2o/catalogue',
      subject: productId,
      time: now,
    }),
  };
}
