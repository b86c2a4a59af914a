// What live tracking needs from the rest of the delivery service. The fulfilment repository implements the
// reads and the throttled writes; the tracking code (domain/tracking.ts, app/tracking-hub.ts) never touches the
// database or Kafka directly.
import type { CourierFix, GeoPoint, TrackedStatus } from '../domain/types';

export type { CourierFix, GeoPoint, TrackedStatus };

/** A shipment, as much as tracking needs to know about it. */
export interface TrackedShipment {
  id: string;
  orderId: string;
  groupId: string;
  locationId: string;
  status: TrackedStatus;
  /** The courier who accepted it, if any. */
  courierId?: string;
  /** Where the courier collects (the location). */
  origin: GeoPoint;
  /** Where it is delivered. */
  destination: GeoPoint;
}

/** The update a watcher receives (mirrors the proto WatchShipmentResponse). */
export interface ShipmentUpdate {
  shipmentId: string;
  /** Rises with every update of this shipment (a watcher drops anything not above what it last saw). */
  sequence: number;
  status: TrackedStatus;
  courierId?: string;
  position?: CourierFix;
  eta?: Date;
  remainingDistanceM?: number;
  /**
   * What made it: a courier's fix or a status change (the tracking hub never coalesces the latter away). Not on the
   * wire to watchers; carried between replicas in a header.
   */
  kind?: 'position' | 'status';
}

/** The last stored tracking state of a shipment (written throttled; used when a replica has nothing in memory). */
export interface StoredTracking {
  position: CourierFix;
  eta?: Date;
  remainingDistanceM?: number;
  sequence: number;
}

/** Reads and throttled writes live tracking needs. */
export interface TrackingStore {
  /** The shipment by id, or undefined. */
  shipment(shipmentId: string): Promise<TrackedShipment | undefined>;
  /** The shipments the courier carries now (accepted, not yet delivered or failed). */
  carriedBy(courierId: string): Promise<TrackedShipment[]>;
  /** The last stored tracking state of a shipment, or undefined. */
  storedTracking(shipmentId: string): Promise<StoredTracking | undefined>;
  /** Stores a courier's latest position (for dispatch: nearest courier). Called throttled. */
  saveCourierPosition(courierId: string, fix: CourierFix): Promise<void>;
  /**
   * Stores a shipment's latest tracking state; with `announce`, also writes a ShipmentPosition event to the
   * outbox in the same update. Called throttled.
   */
  saveShipmentTracking(shipmentId: string, tracking: StoredTracking, options: { announce: boolean }): Promise<void>;
}

/**
 * Carries accepted tracking updates between replicas: a courier's stream may land on one replica and its watchers on
 * others. Kafka in production (adapters/kafka-tracking-bus.ts); in memory in tests; none with a single replica.
 */
export interface TrackingBus {
  /** Hands an update made on this replica to the others. Never throws and never waits: it is a live feed. */
  publish(update: ShipmentUpdate): void;
  /** Where the other replicas' updates go (the hub's receiveRemote); until set, they are dropped. */
  onRemote(receive: (update: ShipmentUpdate) => void): void;
  /** Stops receiving and publishing. */
  stop(): Promise<void>;
}

/** Where tracking reports what went wrong without breaking a stream (a pino logger fits). */
export interface TrackingLog {
  warn(fields: object, message: string): void;
}
