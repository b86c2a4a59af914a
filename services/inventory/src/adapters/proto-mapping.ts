// Proto ↔ domain mapping for inventory. Generated types stay in adapters; the domain never sees them.
import type { GeoPoint as PbGeoPoint } from '@o2o/contracts/gen/o2o/common/v1/geo';
import * as pb from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { invertEnumTable } from '@o2o/kit-grpc';
import type { Violations } from '../domain/errors';
import type { GeoPoint } from '../domain/geo';
import type { Hold, HoldLine, HoldStatus } from '../domain/hold';
import type { Capability, Location, LocationInput, LocationKind, LocationStatus } from '../domain/location';
import type { FulfilmentType, ItemQuantity, Plan } from '../domain/sourcing';
import { type AdjustmentReason, available, type StockLevel } from '../domain/stock';

// One table per enum, domain → wire; the wire → domain direction is derived, so the two cannot drift apart.
const KIND_TO_PB: Record<LocationKind, pb.LocationKind> = {
  STORE: pb.LocationKind.LOCATION_KIND_STORE,
  WAREHOUSE: pb.LocationKind.LOCATION_KIND_WAREHOUSE,
  DARK_STORE: pb.LocationKind.LOCATION_KIND_DARK_STORE,
};
const STATUS_TO_PB: Record<LocationStatus, pb.LocationStatus> = {
  OPEN: pb.LocationStatus.LOCATION_STATUS_OPEN,
  PAUSED: pb.LocationStatus.LOCATION_STATUS_PAUSED,
  CLOSED: pb.LocationStatus.LOCATION_STATUS_CLOSED,
};
const REASON_TO_PB: Record<AdjustmentReason, pb.AdjustmentReason> = {
  RECEIPT: pb.AdjustmentReason.ADJUSTMENT_REASON_RECEIPT,
  COUNT: pb.AdjustmentReason.ADJUSTMENT_REASON_COUNT,
  DAMAGE: pb.AdjustmentReason.ADJUSTMENT_REASON_DAMAGE,
  STORE_SALE: pb.AdjustmentReason.ADJUSTMENT_REASON_STORE_SALE,
  RETURN_RESTOCK: pb.AdjustmentReason.ADJUSTMENT_REASON_RETURN_RESTOCK,
};
const HOLD_STATUS_TO_PB: Record<HoldStatus, pb.HoldStatus> = {
  PENDING: pb.HoldStatus.HOLD_STATUS_PENDING,
  ACTIVE: pb.HoldStatus.HOLD_STATUS_ACTIVE,
  RELEASED: pb.HoldStatus.HOLD_STATUS_RELEASED,
  COMMITTED: pb.HoldStatus.HOLD_STATUS_COMMITTED,
  EXPIRED: pb.HoldStatus.HOLD_STATUS_EXPIRED,
  FAILED: pb.HoldStatus.HOLD_STATUS_FAILED,
};
const CAPABILITY_TO_PB: Record<Capability, pb.Capability> = {
  SHIPS_PARCELS: pb.Capability.CAPABILITY_SHIPS_PARCELS,
  STORE_PICKUP: pb.Capability.CAPABILITY_STORE_PICKUP,
  SAME_DAY_DELIVERY: pb.Capability.CAPABILITY_SAME_DAY_DELIVERY,
  ACCEPTS_RETURNS: pb.Capability.CAPABILITY_ACCEPTS_RETURNS,
};
const FULFILMENT_TO_PB: Record<FulfilmentType, pb.FulfilmentType> = {
  HOME_DELIVERY: pb.FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
  SHIP_FROM_STORE: pb.FulfilmentType.FULFILMENT_TYPE_SHIP_FROM_STORE,
  STORE_PICKUP: pb.FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
  IN_STORE_CARRY_OUT: pb.FulfilmentType.FULFILMENT_TYPE_IN_STORE_CARRY_OUT,
};
const KIND_TO_DOMAIN = invertEnumTable(KIND_TO_PB);
const STATUS_TO_DOMAIN = invertEnumTable(STATUS_TO_PB);
const REASON_TO_DOMAIN = invertEnumTable(REASON_TO_PB);
const CAPABILITY_TO_DOMAIN = invertEnumTable(CAPABILITY_TO_PB);
const FULFILMENT_TO_DOMAIN = invertEnumTable(FULFILMENT_TO_PB);

/** A required enum value, or a violation. */
function required<D extends string, P extends number>(
  table: Partial<Record<P, D>>,
  value: P,
  field: string,
  v: Violations,
): D {
  const mapped = table[value];
  if (mapped === undefined) v.add(field, 'must be set to a known value');
  return mapped as D;
}

/** Optional enum values of a filter; unknown ones are violations. */
function filterOf<D extends string, P extends number>(
  table: Partial<Record<P, D>>,
  values: P[],
  field: string,
  v: Violations,
): D[] {
  return values.map((value, i) => required(table, value, `${field}[${i}]`, v));
}

/** An int64 (a decimal string on the wire) as a safe integer, or a violation. */
export function int64FromPb(value: string, field: string, v: Violations): number {
  const n = Number(value);
  if (!/^-?\d{1,16}$/.test(value) || !Number.isSafeInteger(n)) {
    v.add(field, 'must be a whole number');
    return 0;
  }
  return n;
}

export function pointFromPb(point: PbGeoPoint | undefined, field: string, v: Violations): GeoPoint {
  if (!point) {
    v.add(field, 'is required');
    return { latitude: Number.NaN, longitude: Number.NaN };
  }
  return { latitude: point.latitude, longitude: point.longitude };
}

export function locationInputFromPb(input: pb.LocationInput | undefined, field: string, v: Violations): LocationInput {
  if (!input) v.add(field, 'is required');
  const i = input ?? pb.LocationInput.fromPartial({});
  const address = i.address;
  return {
    name: i.name,
    kind: required(KIND_TO_DOMAIN, i.kind, `${field}.kind`, v),
    point: pointFromPb(i.point, `${field}.point`, v),
    address: {
      lines: address?.lines ?? [],
      district: address?.district ?? '',
      city: address?.city ?? '',
      region: address?.region ?? '',
      postalCode: address?.postalCode ?? '',
      countryCode: address?.countryCode ?? '',
    },
    timeZone: i.timeZone,
    openingHours: i.openingHours.map((h) => ({ weekday: h.weekday, opens: h.opens, closes: h.closes })),
    capabilities: {
      shipsParcels: i.capabilities?.shipsParcels ?? false,
      storePickup: i.capabilities?.storePickup ?? false,
      sameDayRadiusM: i.capabilities?.sameDayRadiusM ?? 0,
      acceptsReturns: i.capabilities?.acceptsReturns ?? false,
    },
    status:
      i.status === pb.LocationStatus.LOCATION_STATUS_UNSPECIFIED
        ? 'OPEN'
        : required(STATUS_TO_DOMAIN, i.status, `${field}.status`, v),
  };
}

export function locationToPb(location: Location): pb.Location {
  return {
    id: location.id,
    name: location.name,
    kind: KIND_TO_PB[location.kind],
    point: location.point,
    address: { ...location.address, lines: [...location.address.lines], location: undefined },
    timeZone: location.timeZone,
    openingHours: location.openingHours.map((h) => ({ ...h })),
    capabilities: { ...location.capabilities },
    status: STATUS_TO_PB[location.status],
    version: String(location.version),
    createTime: location.createdAt,
    updateTime: location.updatedAt,
  };
}

export function locationFilterFromPb(req: pb.ListLocationsRequest, v: Violations) {
  return {
    kinds: filterOf(KIND_TO_DOMAIN, req.kinds, 'kinds', v),
    statuses: filterOf(STATUS_TO_DOMAIN, req.statuses, 'statuses', v),
  };
}

export function locationStatusToPb(status: LocationStatus): pb.LocationStatus {
  return STATUS_TO_PB[status];
}

export function reasonFromPb(reason: pb.AdjustmentReason, v: Violations): AdjustmentReason {
  return required(REASON_TO_DOMAIN, reason, 'reason', v);
}

export function reasonToPb(reason: AdjustmentReason | 'POLICY'): pb.AdjustmentReason {
  return reason === 'POLICY' ? pb.AdjustmentReason.ADJUSTMENT_REASON_UNSPECIFIED : REASON_TO_PB[reason];
}

export function stockToPb(stock: StockLevel): pb.StockLevel {
  return {
    skuCode: stock.skuCode,
    locationId: stock.locationId,
    onHand: String(stock.onHand),
    held: String(stock.held),
    safetyStock: String(stock.safetyStock),
    available: String(available(stock)),
    lowStockThreshold: String(stock.lowStockThreshold),
    version: String(stock.version),
    updateTime: stock.updatedAt,
  };
}

export function holdLinesFromPb(lines: pb.HoldLine[], v: Violations): HoldLine[] {
  return lines.map((line, i) => ({
    skuCode: line.skuCode,
    locationId: line.locationId,
    quantity: int64FromPb(line.quantity, `lines[${i}].quantity`, v),
  }));
}

export function holdToPb(hold: Hold): pb.Hold {
  return {
    id: hold.id,
    ownerId: hold.ownerId,
    lines: hold.lines.map((l) => ({ skuCode: l.skuCode, locationId: l.locationId, quantity: String(l.quantity) })),
    status: HOLD_STATUS_TO_PB[hold.status],
    expireTime: hold.expiresAt,
    reason: hold.reason,
    shortages: hold.shortages.map((s) => ({
      skuCode: s.skuCode,
      locationId: s.locationId,
      requested: String(s.quantity),
      available: String(s.available),
    })),
    version: String(hold.version),
    createTime: hold.createdAt,
    updateTime: hold.updatedAt,
  };
}

export function itemsFromPb(items: pb.ItemQuantity[], v: Violations): ItemQuantity[] {
  return items.map((item, i) => ({
    skuCode: item.skuCode,
    quantity: int64FromPb(item.quantity, `items[${i}].quantity`, v),
  }));
}

export function itemsToPb(items: ItemQuantity[]): pb.ItemQuantity[] {
  return items.map((i) => ({ skuCode: i.skuCode, quantity: String(i.quantity) }));
}

export function capabilityFromPb(value: pb.Capability, v: Violations): Capability | undefined {
  if (value === pb.Capability.CAPABILITY_UNSPECIFIED) return undefined;
  return required(CAPABILITY_TO_DOMAIN, value, 'required_capability', v);
}

export function fulfilmentTypeFromPb(value: pb.FulfilmentType, v: Violations): FulfilmentType {
  return required(FULFILMENT_TO_DOMAIN, value, 'fulfilment_type', v);
}

export function planToPb(plan: Plan): pb.PlanFulfilmentResponse {
  return {
    feasible: plan.feasible,
    allocations: plan.allocations.map((a) => ({
      locationId: a.locationId,
      items: itemsToPb(a.items),
      distanceM: String(a.distanceM),
      sameDay: a.sameDay,
    })),
    unallocated: itemsToPb(plan.unallocated),
    considered: plan.considered.map((c) => ({
      locationId: c.locationId,
      decision: c.chosen ? pb.Decision.DECISION_CHOSEN : pb.Decision.DECISION_PASSED_OVER,
      reason: c.reason,
      distanceM: String(c.distanceM),
    })),
  };
}
