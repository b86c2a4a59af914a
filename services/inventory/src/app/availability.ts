import { CODE_PATTERN, checkPattern, InventoryError, Violations } from '../domain/errors';
import { distanceMetres, type GeoPoint, isValidPoint } from '../domain/geo';
import { checkQuantity } from '../domain/hold';
import { type Capability, hasCapability, type Location } from '../domain/location';
import { type ItemQuantity, type Plan, planFulfilment, type PlanRequest } from '../domain/sourcing';
import { available, stockId, type StockLevel } from '../domain/stock';
import type { InventoryDeps } from './ports';

const MAX_ITEMS = 200;
const MAX_RADIUS_M = 200_000;
/** At most this many locations may be excluded from a plan. */
const MAX_EXCLUDED = 50;

export interface SkuAvailability {
  skuCode: string;
  networkAvailable: number;
  locations: { location: Location; stock: StockLevel; available: number }[];
}

/** Available-to-promise per SKU: per location, and the sum over OPEN locations. */
export async function getAvailability(
  deps: Pick<InventoryDeps, 'stock' | 'locations'>,
  skuCodes: string[],
  locationIds: string[],
): Promise<SkuAvailability[]> {
  const v = new Violations();
  if (skuCodes.length === 0 || skuCodes.length > MAX_ITEMS) v.add('sku_codes', `must list 1..${MAX_ITEMS} SKU codes`);
  skuCodes.forEach((c, i) => checkPattern(v, `sku_codes[${i}]`, c, CODE_PATTERN, 'a SKU code'));
  if (locationIds.length > 1000) v.add('location_ids', 'must list at most 1000 locations');
  locationIds.forEach((c, i) => checkPattern(v, `location_ids[${i}]`, c, CODE_PATTERN, 'a location id'));
  v.check();
  const [records, locations] = await Promise.all([deps.stock.findMany(skuCodes, locationIds), deps.locations.all()]);
  const byId = new Map(locations.map((l) => [l.id, l]));
  return [...new Set(skuCodes)].map((skuCode) => {
    const rows = records
      .filter((s) => s.skuCode === skuCode && byId.has(s.locationId))
      .sort((a, b) => (a.locationId < b.locationId ? -1 : 1))
      .map((stock) => ({ location: byId.get(stock.locationId) as Location, stock, available: available(stock) }));
    const networkAvailable = rows.filter((r) => r.location.status === 'OPEN').reduce((n, r) => n + r.available, 0);
    return { skuCode, networkAvailable, locations: rows };
  });
}

export interface NearbyRequest {
  items: ItemQuantity[];
  point: GeoPoint;
  radiusM: number;
  limit: number;
  capability?: Capability;
}

/** Open locations within the radius that have every item, nearest first (ties by id). */
export async function findNearbyStock(
  deps: Pick<InventoryDeps, 'stock' | 'locations'>,
  request: NearbyRequest,
): Promise<{ location: Location; distanceM: number; available: ItemQuantity[] }[]> {
  const v = new Violations();
  const items = checkItems(v, request.items);
  if (!isValidPoint(request.point)) v.add('point', 'must be a latitude in -90..90 and a longitude in -180..180');
  if (!Number.isInteger(request.radiusM) || request.radiusM < 1 || request.radiusM > MAX_RADIUS_M) {
    v.add('radius_m', `must be 1..${MAX_RADIUS_M}`);
  }
  const limit = request.limit === 0 ? 10 : request.limit;
  if (!Number.isInteger(limit) || limit < 1 || limit > 50) v.add('limit', 'must be 1..50');
  v.check();
  const near = (await deps.locations.all())
    .filter((l) => l.status === 'OPEN' && (!request.capability || hasCapability(l, request.capability)))
    .map((location) => ({ location, distanceM: distanceMetres(request.point, location.point) }))
    .filter((c) => c.distanceM <= request.radiusM);
  if (near.length === 0) return [];
  const stockAt = await stockLookup(
    deps,
    items,
    near.map((c) => c.location.id),
  );
  return near
    .map((c) => ({
      ...c,
      available: items.map((i) => ({ skuCode: i.skuCode, quantity: stockAt(c.location.id, i.skuCode) })),
    }))
    .filter((c) => c.available.every((a, i) => a.quantity >= (items[i]?.quantity ?? 0)))
    .sort((a, b) => a.distanceM - b.distanceM || (a.location.id < b.location.id ? -1 : 1))
    .slice(0, limit);
}

/** A sourcing plan over the current stock and locations (see domain/sourcing.ts for the rules). */
export async function planFulfilmentFor(
  deps: Pick<InventoryDeps, 'stock' | 'locations'>,
  request: PlanRequest,
): Promise<Plan> {
  const v = new Violations();
  const items = checkItems(v, request.items);
  const needsPoint = request.type === 'HOME_DELIVERY' || request.type === 'SHIP_FROM_STORE';
  if (needsPoint && (!request.deliveryPoint || !isValidPoint(request.deliveryPoint))) {
    v.add('delivery_point', `is required for ${request.type} and must be a valid point`);
  }
  if (!needsPoint) checkPattern(v, 'store_location_id', request.storeLocationId ?? '', CODE_PATTERN, 'a location id');
  if (!Number.isInteger(request.maxDistanceM) || request.maxDistanceM < 0 || request.maxDistanceM > 5_000_000) {
    v.add('max_distance_m', 'must be 0..5000000');
  }
  const excluded = request.excludeLocationIds ?? [];
  if (excluded.length > MAX_EXCLUDED) v.add('exclude_location_ids', `must list at most ${MAX_EXCLUDED} locations`);
  excluded
    .slice(0, MAX_EXCLUDED)
    .forEach((id, i) => checkPattern(v, `exclude_location_ids[${i}]`, id, CODE_PATTERN, 'a location id'));
  v.check();
  const locations = await deps.locations.all();
  if (!needsPoint && !locations.some((l) => l.id === request.storeLocationId)) {
    throw new InventoryError('not-found', `Location "${request.storeLocationId}" does not exist`);
  }
  const ids = needsPoint ? locations.map((l) => l.id) : [request.storeLocationId ?? ''];
  const stockAt = await stockLookup(deps, items, ids);
  return planFulfilment({ ...request, items }, locations, stockAt);
}

async function stockLookup(deps: Pick<InventoryDeps, 'stock'>, items: ItemQuantity[], locationIds: string[]) {
  const records = await deps.stock.findMany(
    items.map((i) => i.skuCode),
    locationIds.length > 1000 ? [] : locationIds,
  );
  const free = new Map(records.map((s) => [stockId(s.skuCode, s.locationId), available(s)]));
  return (locationId: string, skuCode: string) => free.get(stockId(skuCode, locationId)) ?? 0;
}

/** Checks items and merges repeats of a SKU. */
function checkItems(v: Violations, items: ItemQuantity[]): ItemQuantity[] {
  if (items.length === 0 || items.length > MAX_ITEMS) v.add('items', `must have 1..${MAX_ITEMS} items`);
  const merged = new Map<string, number>();
  items.slice(0, MAX_ITEMS).forEach((item, i) => {
    checkPattern(v, `items[${i}].sku_code`, item.skuCode, CODE_PATTERN, 'a SKU code');
    checkQuantity(v, `items[${i}].quantity`, item.quantity);
    merged.set(item.skuCode, (merged.get(item.skuCode) ?? 0) + item.quantity);
  });
  return [...merged].map(([skuCode, quantity]) => ({ skuCode, quantity }));
}
