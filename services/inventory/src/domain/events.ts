import type { Hold } from './hold';
import type { AdjustmentReason, StockLevel } from './stock';

/** Everything inventory announces; adapters encode these as protobuf on o2o.inventory.v1. */
export type InventoryEvent =
  | {
      type: 'StockAdjusted';
      requestId: string;
      reason: AdjustmentReason | 'POLICY';
      delta: number;
      stock: StockLevel;
      note: string;
    }
  | { type: 'StockLow'; stock: StockLevel; detectedAt: Date }
  | { type: 'StockReserved'; hold: Hold }
  | { type: 'ReservationReleased'; hold: Hold }
  | { type: 'ReservationExpired'; hold: Hold }
  | { type: 'ReservationCommitted'; hold: Hold };
