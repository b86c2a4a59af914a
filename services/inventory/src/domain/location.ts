import { CODE_PATTERN, checkPattern, InventoryError, Violations } from './errors';
import { type GeoPoint, isValidPoint } from './geo';

export type LocationKind = 'STORE' | 'WAREHOUSE' | 'DARK_STORE';
export type LocationStatus = 'OPEN' | 'PAUSED' | 'CLOSED';
export type Capability = 'SHIPS_PARCELS' | 'STORE_PICKUP' | 'SAME_DAY_DELIVERY' | 'ACCEPTS_RETURNS';

/** What a location can do for an order. */
export interface Capabilities {
  shipsParcels: boolean;
  storePickup: boolean;
  /** Same-day courier radius in metres; 0 when it does not deliver same day. */
  sameDayRadiusM: number;
  acceptsReturns: boolean;
}

/** Opening hours of one ISO weekday (1 = Monday), "HH:MM" local time. */
export interface OpeningHours {
  weekday: number;
  opens: string;
  closes: string;
}

export interface PostalAddress {
  lines: string[];
  district: string;
  city: string;
  region: string;
  postalCode: string;
  countryCode: string;
}

/** The editable part of a location. */
export interface LocationInput {
  name: string;
  kind: LocationKind;
  point: GeoPoint;
  address: PostalAddress;
  timeZone: string;
  openingHours: OpeningHours[];
  capabilities: Capabilities;
  status: LocationStatus;
}

/** A store, warehouse or dark store. */
export interface Location extends LocationInput {
  id: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const MAX_SAME_DAY_RADIUS_M = 100_000;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Adds a violation for every problem of a location input, under the `prefix` field path. */
export function checkLocationInput(input: LocationInput, prefix: string, v: Violations): void {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) v.add(`${prefix}.name`, 'must be 1..200 characters');
  if (!isValidPoint(input.point))
    v.add(`${prefix}.point`, 'must be a latitude in -90..90 and a longitude in -180..180');
  if (input.address.lines.length > 3) v.add(`${prefix}.address.lines`, 'must have at most 3 lines');
  if (!isValidTimeZone(input.timeZone)) v.add(`${prefix}.time_zone`, 'must be an IANA time zone such as Asia/Shanghai');
  const seen = new Set<number>();
  input.openingHours.forEach((h, i) => {
    const at = `${prefix}.opening_hours[${i}]`;
    if (!Number.isInteger(h.weekday) || h.weekday < 1 || h.weekday > 7) v.add(`${at}.weekday`, 'must be 1 (Monday)..7');
    else if (seen.has(h.weekday)) v.add(`${at}.weekday`, 'appears twice');
    seen.add(h.weekday);
    if (!HHMM.test(h.opens)) v.add(`${at}.opens`, 'must be HH:MM');
    if (!HHMM.test(h.closes)) v.add(`${at}.closes`, 'must be HH:MM');
  });
  const r = input.capabilities.sameDayRadiusM;
  if (!Number.isInteger(r) || r < 0 || r > MAX_SAME_DAY_RADIUS_M) {
    v.add(`${prefix}.capabilities.same_day_radius_m`, `must be 0..${MAX_SAME_DAY_RADIUS_M}`);
  }
  if (input.kind === 'WAREHOUSE' && input.capabilities.storePickup) {
    v.add(`${prefix}.capabilities.store_pickup`, 'a warehouse cannot offer store pick-up');
  }
}

/** A new location, checked. Throws INVALID_ARGUMENT naming every problem. */
export function newLocation(id: string, input: LocationInput, now: Date): Location {
  const v = new Violations();
  checkPattern(v, 'location_id', id, CODE_PATTERN, '1..64 of A-Z a-z 0-9 . _ -');
  checkLocationInput(input, 'location', v);
  v.check();
  return { ...normalise(input), id, version: 1, createdAt: now, updatedAt: now };
}

/** The location with `input` applied, one version on. Throws INVALID_ARGUMENT or ABORTED (stale version). */
export function changeLocation(current: Location, input: LocationInput, expectedVersion: number, now: Date): Location {
  const v = new Violations();
  checkLocationInput(input, 'location', v);
  v.check();
  if (expectedVersion !== 0 && expectedVersion !== current.version) {
    throw new InventoryError(
      'aborted',
      `Location "${current.id}" is at version ${current.version}, not ${expectedVersion}: read it again and retry`,
    );
  }
  return {
    ...normalise(input),
    id: current.id,
    version: current.version + 1,
    createdAt: current.createdAt,
    updatedAt: now,
  };
}

/** True when the stored location says the same as `input` (a repeated CreateLocation). */
export function sameLocationInput(location: Location, input: LocationInput): boolean {
  const pick = (l: LocationInput) => JSON.stringify(normalise(l));
  return pick(location) === pick(input);
}

/** True when the location offers the capability (same-day means a radius above 0). */
export function hasCapability(location: LocationInput, capability: Capability): boolean {
  switch (capability) {
    case 'SHIPS_PARCELS':
      return location.capabilities.shipsParcels;
    case 'STORE_PICKUP':
      return location.capabilities.storePickup;
    case 'SAME_DAY_DELIVERY':
      return location.capabilities.sameDayRadiusM > 0;
    case 'ACCEPTS_RETURNS':
      return location.capabilities.acceptsReturns;
  }
}

/** Refuses new holds at a location that is not OPEN. */
export function assertTakesHolds(location: Location): void {
  if (location.status !== 'OPEN') {
    throw new InventoryError(
      'failed-precondition',
      `Cannot hold stock at location "${location.id}": it is ${location.status.toLowerCase()}`,
    );
  }
}

function normalise(input: LocationInput): LocationInput {
  return {
    name: input.name.trim(),
    kind: input.kind,
    point: { latitude: input.point.latitude, longitude: input.point.longitude },
    address: {
      lines: [...input.address.lines],
      district: input.address.district,
      city: input.address.city,
      region: input.address.region,
      postalCode: input.address.postalCode,
      countryCode: input.address.countryCode,
    },
    timeZone: input.timeZone,
    openingHours: [...input.openingHours]
      .map((h) => ({ weekday: h.weekday, opens: h.opens, closes: h.closes }))
      .sort((a, b) => a.weekday - b.weekday),
    capabilities: {
      shipsParcels: input.capabilities.shipsParcels,
      storePickup: input.capabilities.storePickup,
      sameDayRadiusM: input.capabilities.sameDayRadiusM,
      acceptsReturns: input.capabilities.acceptsReturns,
    },
    status: input.status,
  };
}

function isValidTimeZone(zone: string): boolean {
  if (zone === '' || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
