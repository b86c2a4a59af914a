import * as events from '@o2o/contracts/gen/o2o/catalogue/v1/events';
import { outboxEntry, type OutboxEntry } from '@o2o/kit-outbox';
import type { CatalogueEvent } from '../domain/events';
import { moneyToPb, priceChannelToPb, productToPb } from './proto-mapping';

/** The catalogue's topic; partners subscribe to it. */
export const CATALOGUE_TOPIC = 'o2o.catalogue.v1';
/** CloudEvents source of every catalogue event. */
export const CATALOGUE_SOURCE = '/o2o/catalogue';

/** An encoder of domain events into protobuf outbox entries for `topic`, keyed by product id, with the trace context. */
export function catalogueEventEncoder(topic: string): (list: CatalogueEvent[]) => OutboxEntry[] {
  return (list) =>
    list.map((event) => {
      const { type, productId, payload } = encode(event);
      return outboxEntry({
        topic,
        key: productId,
        type: `o2o.catalogue.v1.${type}`,
        source: CATALOGUE_SOURCE,
        subject: productId,
        payload,
      });
    });
}

function encode(event: CatalogueEvent): { type: string; productId: string; payload: Buffer } {
  switch (event.type) {
    case 'ProductCreated':
      return {
        type: event.type,
        productId: event.product.id,
        payload: Buffer.from(events.ProductCreated.encode({ product: productToPb(event.product) }).finish()),
      };
    case 'ProductUpdated':
      return {
        type: event.type,
        productId: event.product.id,
        payload: Buffer.from(
          events.ProductUpdated.encode({
            product: productToPb(event.product),
            changedFields: event.changedFields,
          }).finish(),
        ),
      };
    case 'PriceChanged':
      return {
        type: event.type,
        productId: event.productId,
        payload: Buffer.from(
          events.PriceChanged.encode({
            productId: event.productId,
            skuCode: event.skuCode,
            channel: priceChannelToPb(event.channel),
            previousPrice: event.previousPrice ? moneyToPb(event.previousPrice) : undefined,
            price: moneyToPb(event.price),
            productVersion: String(event.productVersion),
          }).finish(),
        ),
      };
    case 'ProductDiscontinued':
      return {
        type: event.type,
        productId: event.productId,
        payload: Buffer.from(
          events.ProductDiscontinued.encode({
            productId: event.productId,
            skuCodes: event.skuCodes,
            reason: event.reason,
            productVersion: String(event.productVersion),
          }).finish(),
        ),
      };
  }
}
