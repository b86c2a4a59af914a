import { InventoryError } from './errors';

export type AdjustmentReason = 'RECEIPT' | 'COUNT' | 'DAMAGE' | 'STORE_SALE' | 'RETURN_RESTOCK';

/** One SKU at one location. Held includes every line of every hold not yet released, expired or committed. */
export interface StockLevel {
  skuCode: string;
  locationId: string;
  onHand: number;
  held: number;
  safetyStock: number;
  /** StockLow is announced when available falls below this; 0 disables it. */
  lowStockThreshold: number;
  version: number;
  updatedAt: Date;
}

/** Most units one adjustment may move, and most units one stock record may hold. */
export const MAX_ADJUSTMENT = 1_000_000;
export const MAX_ON_HAND = 1_000_000_000;

/** What can be promised: on hand less held less safety stock, never negative. */
export function available(stock: Pick<StockLevel, 'onHand' | 'held' | 'safetyStock'>): number {
  return Math.max(0, stock.onHand - stock.held - stock.safetyStock);
}

/** The id of one SKU's stock at one location ("@" never occurs in either code). */
export function stockId(skuCode: string, locationId: string): string {
  return `${skuCode}@${locationId}`;
}

/** An empty stock record, for the first adjustment of a SKU at a location. */
export function emptyStock(skuCode: string, locationId: string, now: Date): StockLevel {
  return { skuCode, locationId, onHand: 0, held: 0, safetyStock: 0, lowStockThreshold: 0, version: 0, updatedAt: now };
}

/**
 * The on-hand quantity after an adjustment, and the signed change. Refuses to take on hand below zero or past
 * {@link MAX_ON_HAND} (FAILED_PRECONDITION: the request is fine, the stock is not).
 */
export function adjustOnHand(
  stock: StockLevel,
  reason: AdjustmentReason,
  quantity: number,
): { onHand: number; delta: number } {
  let onHand: number;
  switch (reason) {
    case 'RECEIPT':
    case 'RETURN_RESTOCK':
      onHand = stock.onHand + quantity;
      break;
    case 'DAMAGE':
    case 'STORE_SALE':
      onHand = stock.onHand - quantity;
      break;
    case 'COUNT':
      onHand = quantity;
      break;
  }
  const where = `SKU "${stock.skuCode}" at location "${stock.locationId}"`;
  if (onHand < 0) {
    throw new InventoryError(
      'failed-precondition',
      `Cannot remove ${quantity} of ${where}: only ${stock.onHand} on hand`,
    );
  }
  if (onHand > MAX_ON_HAND) {
    throw new InventoryError('failed-precondition', `Cannot hold more than ${MAX_ON_HAND} of ${where}`);
  }
  return { onHand, delta: onHand - stock.onHand };
}

/** True when a change took available from at or above the threshold to below it. */
export function crossedLow(threshold: number, before: number, after: number): boolean {
  return threshold > 0 && before >= threshold && after < threshold;
}

/** True when available is below a non-zero threshold. */
export function isLow(stock: StockLevel): boolean {
  return stock.lowStockThreshold > 0 && available(stock) < stock.lowStockThreshold;
}
