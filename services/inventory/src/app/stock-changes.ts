import { CODE_PATTERN, checkPattern, InventoryError, KEY_PATTERN, Violations } from '../domain/errors';
import type { InventoryEvent } from '../domain/events';
import { type AdjustmentReason, adjustOnHand, isLow, MAX_ADJUSTMENT, type StockLevel } from '../domain/stock';
import type { InventoryDeps } from './ports';

export interface AdjustRequest {
  requestId: string;
  skuCode: string;
  locationId: string;
  reason: AdjustmentReason;
  quantity: number;
  note: string;
}

/** Changes on hand for a reason; idempotent by request id; announces StockAdjusted (and StockLow on a crossing). */
export async function adjustStock(
  deps: Pick<InventoryDeps, 'stock' | 'locations' | 'skus' | 'clock'>,
  request: AdjustRequest,
): Promise<{ stock: StockLevel; applied: boolean }> {
  const v = new Violations();
  checkTarget(v, request);
  const min = request.reason === 'COUNT' ? 0 : 1;
  if (!Number.isSafeInteger(request.quantity) || request.quantity < min || request.quantity > MAX_ADJUSTMENT) {
    v.add('quantity', `must be ${min}..${MAX_ADJUSTMENT}`);
  }
  if (request.note.length > 500) v.add('note', 'must be at most 500 characters');
  v.check();
  await assertKnown(deps, request.skuCode, request.locationId);
  return deps.stock.change(request, (current) => {
    const now = deps.clock.now();
    const { onHand, delta } = adjustOnHand(current, request.reason, request.quantity);
    const next: StockLevel = { ...current, onHand, version: current.version + 1, updatedAt: now };
    const events: InventoryEvent[] = [
      {
        type: 'StockAdjusted',
        requestId: request.requestId,
        reason: request.reason,
        delta,
        stock: next,
        note: request.note,
      },
    ];
    return { next, events: [...events, ...lowEvents(current, next, now)] };
  });
}

/** Sets safety stock and the low-stock threshold; idempotent by request id; announces StockAdjusted (reason POLICY). */
export async function setStockPolicy(
  deps: Pick<InventoryDeps, 'stock' | 'locations' | 'skus' | 'clock'>,
  request: { requestId: string; skuCode: string; locationId: string; safetyStock: number; lowStockThreshold: number },
): Promise<StockLevel> {
  const v = new Violations();
  checkTarget(v, request);
  for (const [field, value] of [
    ['safety_stock', request.safetyStock],
    ['low_stock_threshold', request.lowStockThreshold],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_ADJUSTMENT)
      v.add(field, `must be 0..${MAX_ADJUSTMENT}`);
  }
  v.check();
  await assertKnown(deps, request.skuCode, request.locationId);
  const { stock } = await deps.stock.change(request, (current) => {
    const now = deps.clock.now();
    const next: StockLevel = {
      ...current,
      safetyStock: request.safetyStock,
      lowStockThreshold: request.lowStockThreshold,
      version: current.version + 1,
      updatedAt: now,
    };
    const events: InventoryEvent[] = [
      { type: 'StockAdjusted', requestId: request.requestId, reason: 'POLICY', delta: 0, stock: next, note: '' },
    ];
    return { next, events: [...events, ...lowEvents(current, next, now)] };
  });
  return stock;
}

/** The stock of one SKU at one location; a known SKU never stocked there reads as zero. */
export async function getStock(
  deps: Pick<InventoryDeps, 'stock' | 'locations' | 'skus' | 'clock'>,
  skuCode: string,
  locationId: string,
): Promise<StockLevel> {
  const v = new Violations();
  checkTarget(v, { skuCode, locationId });
  v.check();
  const found = await deps.stock.find(skuCode, locationId);
  if (found) return found;
  await assertKnown(deps, skuCode, locationId);
  return {
    skuCode,
    locationId,
    onHand: 0,
    held: 0,
    safetyStock: 0,
    lowStockThreshold: 0,
    version: 0,
    updatedAt: deps.clock.now(),
  };
}

/** StockLow when the change takes a record below its threshold (the repository keeps it to once per crossing). */
function lowEvents(before: StockLevel, after: StockLevel, now: Date): InventoryEvent[] {
  const crossed = isLow(after) && (!isLow(before) || before.lowStockThreshold !== after.lowStockThreshold);
  return crossed ? [{ type: 'StockLow', stock: after, detectedAt: now }] : [];
}

function checkTarget(v: Violations, request: { requestId?: string; skuCode: string; locationId: string }): void {
  if (request.requestId !== undefined) {
    checkPattern(v, 'request_id', request.requestId, KEY_PATTERN, '1..128 of A-Z a-z 0-9 . _ : -');
  }
  checkPattern(v, 'sku_code', request.skuCode, CODE_PATTERN, 'a SKU code');
  checkPattern(v, 'location_id', request.locationId, CODE_PATTERN, 'a location id');
}

/** NOT_FOUND unless the catalogue has announced the SKU and the location exists. */
export async function assertKnown(
  deps: Pick<InventoryDeps, 'locations' | 'skus'>,
  skuCode: string,
  locationId: string,
): Promise<void> {
  const [skus, location] = await Promise.all([deps.skus.find([skuCode]), deps.locations.find(locationId)]);
  if (!skus.has(skuCode)) {
    throw new InventoryError('not-found', `SKU "${skuCode}" is not in the catalogue`);
  }
  if (!location) throw new InventoryError('not-found', `Location "${locationId}" does not exist`);
}
