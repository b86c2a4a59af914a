// The delivery service's state and events. A fulfilment is the work for one order group at one location: its
// task (accept, pick, pack), then either a pick-up by the shopper or a shipment carried by a courier. It is one
// document, so every change and its events are one atomic write.

/** WGS 84 decimal degrees. */
export interface GeoPoint {
  latitude: number;
  longitude: number;
}

/** One accepted position fix of a courier. */
export interface CourierFix {
  point: GeoPoint;
  /** When the device took it (UTC). */
  time: Date;
  /** As reported, metres per second (0 when unknown). */
  speedMps: number;
  headingDeg: number;
  accuracyM: number;
}

/** Shipment statuses as the tracking code sees them (same names as the proto enum, without the prefix). */
export type TrackedStatus =
  'AWAITING_COURIER' | 'ASSIGNED' | 'PICKED_UP' | 'OUT_FOR_DELIVERY' | 'DELIVERED' | 'FAILED' | 'CANCELLED';

/** How a group reaches the shopper (in-store carry-out never gets here: it is complete at the till). */
export type FulfilmentType = 'HOME_DELIVERY' | 'SHIP_FROM_STORE' | 'STORE_PICKUP';

export type TaskStatus = 'OPEN' | 'ACCEPTED' | 'PICKED' | 'READY' | 'HANDED_OVER' | 'EXPIRED' | 'CANCELLED';

/** Which deadline of a task. */
export type TaskStage = 'ACCEPT' | 'PICK' | 'PACK';

/** Where a shipment is (the same names live tracking uses). */
export type ShipmentStatus = TrackedStatus;

export interface Item {
  sku: string;
  quantity: number;
}

/** Where and to whom a delivery group goes (from the order). */
export interface DeliveryTarget {
  point: GeoPoint;
  address?: {
    lines: string[];
    district: string;
    city: string;
    region: string;
    postalCode: string;
    countryCode: string;
  };
  recipientName?: string;
  recipientPhone?: string;
}

export interface TaskState {
  status: TaskStatus;
  acceptBy: Date;
  pickBy?: Date;
  packBy?: Date;
  /** Deadlines missed (each announced once). */
  overdue: TaskStage[];
  associateId?: string;
  acceptedAt?: Date;
  pickedAt?: Date;
  readyAt?: Date;
  handedOverAt?: Date;
}

/** What a handover code is for: the shopper collecting at the store, or proving delivery to the courier. */
export type CodePurpose = 'pickup' | 'delivery';

/** Wrong handover codes in a row, and the lock they caused. */
export interface CodeGuard {
  /** Random per fulfilment; the code is derived from it and the service's secret, never stored. */
  nonce: string;
  failedAttempts: number;
  lockedUntil?: Date;
}

export interface PickupState {
  readyAt: Date;
  expiresAt: Date;
  collectedAt?: Date;
  code: CodeGuard;
}

export interface ShipmentState {
  id: string;
  status: ShipmentStatus;
  origin: GeoPoint;
  /** The courier who accepted it. */
  courierId?: string;
  /** The courier it is offered to, until it answers or the offer lapses. */
  offer?: { courierId: string; expiresAt: Date };
  /** Couriers who declined or let an offer lapse: not offered this shipment again. */
  passedBy: string[];
  /** No courier was found; dispatch tries again from this time. */
  dispatchAfter?: Date;
  code: CodeGuard;
  failureReason?: string;
  createdAt: Date;
  collectedAt?: Date;
  departedAt?: Date;
  deliveredAt?: Date;
}

/**
 * Whose order a fulfilment is for, as OrderConfirmed said (the customer, the store that sold it, the marketplace
 * partner that placed it): with the fulfilment's location, it decides who may see it. Empty strings for none.
 */
export interface FulfilmentAttribution {
  customerId: string;
  storeId: string;
  partnerId: string;
}

/** The state of one fulfilment, as stored. */
export interface FulfilmentState {
  id: string;
  orderId: string;
  groupId: string;
  locationId: string;
  type: FulfilmentType;
  items: Item[];
  customerId?: string;
  /** Whose order it is; absent on fulfilments created before it was recorded (then only its location sees it). */
  attribution?: FulfilmentAttribution;
  /** Delivery groups: where to. */
  delivery?: DeliveryTarget;
  /** Delivery groups: where the location is (read from inventory at creation). */
  origin?: GeoPoint;
  task: TaskState;
  pickup?: PickupState;
  shipment?: ShipmentState;
  /** The earliest time something is due (a deadline, an expiry, an offer lapsing, a dispatch retry). */
  dueAt?: Date;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Facts other services learn from (published on o2o.delivery.v1, keyed by order id). */
export type DeliveryEvent =
  | { type: 'TaskAccepted'; time: Date }
  | { type: 'TaskOverdue'; stage: TaskStage; deadline: Date }
  | { type: 'ShipmentCreated'; time: Date }
  | { type: 'CourierAssigned'; courierId: string; time: Date }
  | { type: 'ReadyForPickup'; time: Date }
  | { type: 'PickedUp'; byCourier: boolean; time: Date }
  | { type: 'OutForDelivery'; courierId: string; time: Date }
  | { type: 'Delivered'; time: Date }
  | { type: 'DeliveryFailed'; reason: string; time: Date }
  | { type: 'PickupExpired'; time: Date }
  | { type: 'FulfilmentCancelled'; time: Date };

/** Timings and limits the aggregate decides with; they come from configuration. */
export interface FulfilmentPolicy {
  acceptMs: number;
  pickMs: number;
  packMs: number;
  pickupExpiryMs: number;
  offerTimeoutMs: number;
  codeMaxAttempts: number;
  codeLockMs: number;
  /** How long dispatch waits before looking again when no courier was found. */
  dispatchRetryMs: number;
}
