import * as events from '@o2o/contracts/gen/o2o/inventory/v1/events';
import { outboxEntry, type OutboxEntry } from '@o2o/kit-outbox';
import type { InventoryEvent } from '../domain/events';
import { stockId } from '../domain/stock';
import { holdToPb, reasonToPb, stockToPb } from './proto-mapping';

/** Inventory's topic; partners and the orders service subscribe to it. */
export const INVENTORY_TOPIC = 'o2o.inventory.v1';
/** CloudEvents source of every inventory event. */
export const INVENTORY_SOURCE = '/o2o/inventory';

/** An encoder of domain events into protobuf outbox entries for `topic`: stock events keyed by "<sku>@<location>", hold events by hold id. */
export function inventoryEventEncoder(topic: string): (list: InventoryEvent[]) => OutboxEntry[] {
  return (list) =>
    list.map((event) => {
      const { key, payload } = encode(event);
      return outboxEntry({
        topic,
        key,
        type: `o2o.inventory.v1.${event.type}`,
        source: INVENTORY_SOURCE,
        subject: key,
        payload: Buffer.from(payload),
      });
    });
}

function encode(event: InventoryEvent): { key: string; payload: Uint8Array } {
  switch (event.type) {
    case 'StockAdjusted':
      return {
        key: stockId(event.stock.skuCode, event.stock.locationId),
        payload: events.StockAdjusted.encode({
          requestId: event.requestId,
          reason: reasonToPb(event.reason),
          delta: String(event.delta),
          stock: stockToPb(event.stock),
          note: event.note,
        }).finish(),
      };
    case 'StockLow':
      return {
        key: stockId(event.stock.skuCode, event.stock.locationId),
        payload: events.StockLow.encode({ stock: stockToPb(event.stock), detectTime: event.detectedAt }).finish(),
      };
    case 'StockReserved':
      return { key: event.hold.id, payload: events.StockReserved.encode({ hold: holdToPb(event.hold) }).finish() };
    case 'ReservationReleased':
      return {
        key: event.hold.id,
        payload: events.ReservationReleased.encode({ hold: holdToPb(event.hold) }).finish(),
      };
    case 'ReservationExpired':
      return { key: event.hold.id, payload: events.ReservationExpired.encode({ hold: holdToPb(event.hold) }).finish() };
    case 'ReservationCommitted':
      return {
        key: event.hold.id,
        payload: events.ReservationCommitted.encode({ hold: holdToPb(event.hold) }).finish(),
      };
  }
}
