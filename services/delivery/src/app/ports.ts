// The ports the delivery use cases need. Adapters implement them (MongoDB, inventory over gRPC, the tracking hub);
// the use-case tests implement them in memory.
import type { CourierFix, GeoPoint, TrackedShipment } from './tracking-ports';
import type { CourierProfile, CourierState } from '../domain/courier';
import type { Fulfilment } from '../domain/fulfilment';
import type { DeliveryEvent, FulfilmentPolicy, FulfilmentState, TaskStatus } from '../domain/types';

/** A page of results and where the next starts (opaque to the caller). */
export interface Page<T> {
  items: T[];
  after?: string;
}

/** What a change through the repository did. */
export interface Changed<R> {
  result: R;
  state: FulfilmentState;
  events: DeliveryEvent[];
}

export interface FulfilmentRepository {
  /** Stores a new fulfilment with its events; 'exists' when one with its id is already there. */
  insert(fulfilment: Fulfilment): Promise<'inserted' | 'exists'>;
  find(id: string): Promise<FulfilmentState | undefined>;
  findByShipment(shipmentId: string): Promise<FulfilmentState | undefined>;
  /** Loads, applies `change`, and writes state and events in one version-checked update (retried on a race). */
  update<R>(id: string, change: (f: Fulfilment) => R): Promise<Changed<R>>;
  listByLocation(
    locationId: string,
    filter: { statuses: TaskStatus[] },
    page: { size: number; after?: string },
  ): Promise<Page<FulfilmentState>>;
  /** Ids of fulfilments with something due by `now`, earliest first. */
  due(now: Date, limit: number): Promise<string[]>;
  /** Fulfilments by id (missing ones are left out). */
  findMany(ids: readonly string[]): Promise<FulfilmentState[]>;
}

export interface CourierRepository {
  /** Creates the courier or updates its profile (capacity changes move its free slots by the difference). */
  register(profile: CourierProfile, now: Date): Promise<CourierState>;
  find(id: string): Promise<CourierState | undefined>;
  setAvailability(id: string, available: boolean, fix: CourierFix | undefined, now: Date): Promise<CourierState>;
  /** Available couriers with a free slot and a position inside the box around `origin` since `freshSince`. */
  candidatesNear(
    origin: GeoPoint,
    options: { radiusM: number; freshSince: Date; limit: number },
  ): Promise<CourierState[]>;
  /** Takes one free slot for the shipment if the courier is available and has one; false otherwise. */
  claim(courierId: string, shipmentId: string, now: Date): Promise<boolean>;
  /** Gives the shipment's slot back (no-op when it holds none). */
  release(courierId: string, shipmentId: string, now: Date): Promise<void>;
  /** Couriers holding slots, for the reconciler (crash between a claim and the offer). */
  holdingSlots(updatedBefore: Date, limit: number): Promise<CourierState[]>;
}

/** Where locations are (inventory owns them). */
export interface LocationDirectory {
  /** The location's point; NOT_FOUND when inventory does not know it, UNAVAILABLE when inventory is down. */
  pointOf(locationId: string): Promise<GeoPoint>;
}

/** The live feed watchers read: told of every shipment status change after it is stored. */
export interface ShipmentFeed {
  publishStatus(shipment: TrackedShipment): void;
}

/** How dispatch chooses a courier. */
export interface DispatchRules {
  radiusM: number;
  loadPenaltyM: number;
  /** Positions older than this are not used. */
  positionFreshMs: number;
}

export interface Clock {
  now(): Date;
}

/** Everything the use cases need. */
export interface Deps {
  fulfilments: FulfilmentRepository;
  couriers: CourierRepository;
  locations: LocationDirectory;
  feed: ShipmentFeed;
  clock: Clock;
  policy: FulfilmentPolicy;
  dispatch: DispatchRules;
  /** The secret handover codes are derived from. */
  codeSecret: string;
  /** Called with the fulfilment id after every write that stored events (wakes the outbox relay). */
  afterWrite(fulfilmentId: string): void;
}
