import { distanceMetres, type GeoPoint } from './geo';
import type { Location } from './location';

export type FulfilmentType = 'HOME_DELIVERY' | 'SHIP_FROM_STORE' | 'STORE_PICKUP' | 'IN_STORE_CARRY_OUT';

export interface ItemQuantity {
  skuCode: string;
  quantity: number;
}

/** What to plan: items, how they reach the shopper, and where. */
export interface PlanRequest {
  items: ItemQuantity[];
  type: FulfilmentType;
  /** Required for HOME_DELIVERY and SHIP_FROM_STORE. */
  deliveryPoint?: GeoPoint;
  /** Required for STORE_PICKUP and IN_STORE_CARRY_OUT. */
  storeLocationId?: string;
  /** 0: no limit. */
  maxDistanceM: number;
  /** Locations the caller rules out (e.g. where a re-routed group was); each is reported "excluded by the caller". */
  excludeLocationIds?: readonly string[];
}

/** The reason a location the caller ruled out is passed over. */
export const EXCLUDED_BY_CALLER = 'excluded by the caller';

export interface Allocation {
  locationId: string;
  items: ItemQuantity[];
  distanceM: number;
  sameDay: boolean;
}

export interface Consideration {
  locationId: string;
  chosen: boolean;
  reason: string;
  distanceM: number;
}

export interface Plan {
  feasible: boolean;
  allocations: Allocation[];
  unallocated: ItemQuantity[];
  considered: Consideration[];
}

/** Available units per SKU at one location. */
export type StockAt = (locationId: string, skuCode: string) => number;

interface Candidate {
  location: Location;
  distanceM: number;
  sameDay: boolean;
}

/**
 * Chooses where `request.items` come from. Prefers one location for everything (the nearest that can), else the
 * fewest locations: each round takes the location that covers the most remaining units (ties: more items, nearer,
 * smaller id). Locations the caller excluded are never used. Every location looked at is reported with the reason it
 * was chosen or passed over. Pure and
 * deterministic: the same locations and stock give the same plan.
 */
export function planFulfilment(request: PlanRequest, locations: Location[], stockAt: StockAt): Plan {
  const considered = new Map<string, Consideration>();
  const pass = (c: { location: Location; distanceM: number }, reason: string) =>
    considered.set(c.location.id, { locationId: c.location.id, chosen: false, reason, distanceM: c.distanceM });

  const excluded = new Set(request.excludeLocationIds ?? []);
  const candidates: Candidate[] = [];
  for (const location of sortedById(locations)) {
    const distanceM = request.deliveryPoint ? distanceMetres(request.deliveryPoint, location.point) : 0;
    const sameDay =
      request.deliveryPoint !== undefined &&
      location.capabilities.sameDayRadiusM > 0 &&
      distanceM <= location.capabilities.sameDayRadiusM;
    const c = { location, distanceM, sameDay };
    const refusal = eligibility(request, c);
    if (refusal === 'skip') continue;
    if (excluded.has(location.id)) pass(c, EXCLUDED_BY_CALLER);
    else if (refusal) pass(c, refusal);
    else candidates.push(c);
  }
  candidates.sort((a, b) => a.distanceM - b.distanceM || compareIds(a.location.id, b.location.id));

  const remaining = new Map(request.items.map((i) => [i.skuCode, i.quantity]));
  const allocations: Allocation[] = [];
  const whole = candidates.find((c) => request.items.every((i) => stockAt(c.location.id, i.skuCode) >= i.quantity));
  if (whole) {
    allocations.push(allocate(whole, remaining, stockAt));
    considered.set(whole.location.id, {
      locationId: whole.location.id,
      chosen: true,
      reason: candidates.length > 1 ? 'nearest location with every item' : 'has every item',
      distanceM: whole.distanceM,
    });
  } else {
    const open = [...candidates];
    for (;;) {
      const best = bestCover(open, remaining, stockAt);
      if (!best) break;
      const before = unitsLeft(remaining);
      allocations.push(allocate(best, remaining, stockAt));
      open.splice(open.indexOf(best), 1);
      considered.set(best.location.id, {
        locationId: best.location.id,
        chosen: true,
        reason: `covers ${before - unitsLeft(remaining)} of the ${before} units still needed`,
        distanceM: best.distanceM,
      });
      if (unitsLeft(remaining) === 0) break;
    }
  }
  for (const c of candidates) {
    if (considered.has(c.location.id)) continue;
    const hasAny = request.items.some((i) => stockAt(c.location.id, i.skuCode) > 0);
    const hasAll = request.items.every((i) => stockAt(c.location.id, i.skuCode) >= i.quantity);
    pass(
      c,
      !hasAny
        ? 'has none of the items available'
        : whole
          ? hasAll
            ? 'a nearer location has every item'
            : 'does not have every item'
          : 'not needed: the chosen locations cover more',
    );
  }

  const unallocated = request.items
    .map((i) => ({ skuCode: i.skuCode, quantity: remaining.get(i.skuCode) ?? 0 }))
    .filter((i) => i.quantity > 0);
  return {
    feasible: unallocated.length === 0,
    allocations,
    unallocated,
    considered: [...considered.values()].sort(
      (a, b) => a.distanceM - b.distanceM || compareIds(a.locationId, b.locationId),
    ),
  };
}

/** Why a location cannot serve the request ('skip': not part of this plan at all), or undefined when it can. */
function eligibility(request: PlanRequest, c: Candidate): string | undefined {
  const { location } = c;
  switch (request.type) {
    case 'STORE_PICKUP':
    case 'IN_STORE_CARRY_OUT':
      if (location.id !== request.storeLocationId) return 'skip';
      if (location.status !== 'OPEN') return `location is ${location.status.toLowerCase()}`;
      if (request.type === 'STORE_PICKUP' && !location.capabilities.storePickup) return 'does not offer store pick-up';
      if (request.type === 'IN_STORE_CARRY_OUT' && location.kind !== 'STORE') return 'is not a store';
      return undefined;
    case 'SHIP_FROM_STORE':
    case 'HOME_DELIVERY':
      if (request.type === 'SHIP_FROM_STORE' && location.kind !== 'STORE') return 'is not a store';
      if (location.status !== 'OPEN') return `location is ${location.status.toLowerCase()}`;
      if (request.maxDistanceM > 0 && c.distanceM > request.maxDistanceM) {
        return `farther than ${request.maxDistanceM} m`;
      }
      if (!location.capabilities.shipsParcels && !c.sameDay) {
        return location.capabilities.sameDayRadiusM > 0
          ? 'outside its same-day radius and does not ship parcels'
          : 'does not ship parcels or deliver same day';
      }
      return undefined;
  }
}

function bestCover(open: Candidate[], remaining: Map<string, number>, stockAt: StockAt): Candidate | undefined {
  let best: { c: Candidate; units: number; items: number } | undefined;
  for (const c of open) {
    let units = 0;
    let items = 0;
    for (const [sku, need] of remaining) {
      const take = Math.min(need, stockAt(c.location.id, sku));
      if (take > 0) {
        units += take;
        items += 1;
      }
    }
    if (units === 0) continue;
    // `open` is nearest first, so a strict improvement keeps the nearer location on ties.
    if (!best || units > best.units || (units === best.units && items > best.items)) best = { c, units, items };
  }
  return best?.c;
}

function allocate(c: Candidate, remaining: Map<string, number>, stockAt: StockAt): Allocation {
  const items: ItemQuantity[] = [];
  for (const [sku, need] of remaining) {
    const take = Math.min(need, stockAt(c.location.id, sku));
    if (take <= 0) continue;
    items.push({ skuCode: sku, quantity: take });
    remaining.set(sku, need - take);
  }
  return { locationId: c.location.id, items, distanceM: c.distanceM, sameDay: c.sameDay };
}

function unitsLeft(remaining: Map<string, number>): number {
  let n = 0;
  for (const q of remaining.values()) n += q;
  return n;
}

function sortedById(locations: Location[]): Location[] {
  return [...locations].sort((a, b) => compareIds(a.id, b.id));
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
