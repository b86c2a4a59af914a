// Couriers and how dispatch chooses one: the nearest available courier with a free slot, where every shipment
// it already carries counts as extra distance (a loaded courier arrives later).
import { DeliveryError, type Violation } from './errors';
import { distanceM, EARTH_RADIUS_M } from './tracking';
import type { CourierFix, GeoPoint } from './types';

export { distanceM };

export type Vehicle = 'BICYCLE' | 'E_BIKE' | 'MOTORBIKE' | 'CAR' | 'ON_FOOT';

/** A courier as stored. `free` is capacity minus the shipments it holds, kept by conditional updates. */
export interface CourierState {
  id: string;
  name: string;
  phone: string;
  vehicle: Vehicle;
  capacity: number;
  available: boolean;
  position?: CourierFix;
  /** Shipments offered to it or carried by it. */
  shipmentIds: string[];
  free: number;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A courier's profile as registered. */
export interface CourierProfile {
  id: string;
  name: string;
  phone: string;
  vehicle: Vehicle;
  capacity: number;
}

export const MAX_CAPACITY = 10;

/** The metres one degree of latitude spans on the sphere distances are measured on. */
const M_PER_DEGREE = (EARTH_RADIUS_M * Math.PI) / 180;

/** Checks a registration; throws INVALID_ARGUMENT naming every field at fault. */
export function validateProfile(input: {
  id: string;
  name: string;
  phone: string;
  vehicle: Vehicle | undefined;
  capacity: number;
}): CourierProfile {
  const violations: Violation[] = [];
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(input.id)) {
    violations.push({ field: 'courier_id', description: 'must be 1..64 letters, digits, ".", "_", ":" or "-"' });
  }
  if (input.name.trim().length === 0 || input.name.length > 100) {
    violations.push({ field: 'name', description: 'must be 1..100 characters' });
  }
  if (!/^\+?[0-9 -]{5,20}$/.test(input.phone)) {
    violations.push({ field: 'phone', description: 'must be 5..20 digits (spaces, "-" and a leading "+" allowed)' });
  }
  if (!input.vehicle) violations.push({ field: 'vehicle', description: 'must be set' });
  if (!Number.isInteger(input.capacity) || input.capacity < 1 || input.capacity > MAX_CAPACITY) {
    violations.push({ field: 'capacity', description: `must be 1..${MAX_CAPACITY}` });
  }
  if (violations.length > 0 || !input.vehicle) throw DeliveryError.invalid(violations);
  return {
    id: input.id,
    name: input.name.trim(),
    phone: input.phone,
    vehicle: input.vehicle,
    capacity: input.capacity,
  };
}

/** A candidate courier with its score (metres, lower is better). */
export interface RankedCourier {
  courierId: string;
  distanceM: number;
  load: number;
  score: number;
}

/**
 * Couriers who may take a shipment collected at `origin`, best first: available, with a free slot, a fresh
 * position within the radius, and not among those who passed on it. Score = distance + load × penalty; ties go
 * to the smaller id, so the choice is the same every time.
 */
export function rankCouriers(
  origin: GeoPoint,
  couriers: readonly CourierState[],
  rules: { radiusM: number; loadPenaltyM: number; freshSince: Date; exclude: readonly string[] },
): RankedCourier[] {
  const ranked: RankedCourier[] = [];
  for (const c of couriers) {
    if (!c.available || c.free < 1 || !c.position || rules.exclude.includes(c.id)) continue;
    if (c.position.time.getTime() < rules.freshSince.getTime()) continue;
    const d = distanceM(c.position.point, origin);
    if (d > rules.radiusM) continue;
    const load = c.capacity - c.free;
    ranked.push({ courierId: c.id, distanceM: Math.round(d), load, score: d + load * rules.loadPenaltyM });
  }
  return ranked.sort((a, b) => a.score - b.score || (a.courierId < b.courierId ? -1 : 1));
}

/** The degrees of latitude and longitude a radius spans around a point (a box for the database query). */
export function boundingBox(
  center: GeoPoint,
  radiusM: number,
): { minLat: number; maxLat: number; minLon: number; maxLon: number } {
  // The same sphere as distanceM: a box on another Earth size would cut off couriers at the edge of the radius.
  const dLat = radiusM / M_PER_DEGREE;
  const cos = Math.max(0.01, Math.cos((center.latitude * Math.PI) / 180));
  const dLon = Math.min(180, radiusM / (M_PER_DEGREE * cos));
  return {
    minLat: center.latitude - dLat,
    maxLat: center.latitude + dLat,
    minLon: center.longitude - dLon,
    maxLon: center.longitude + dLon,
  };
}
