// The order's vocabulary: plain data, shared by the aggregate, the use cases and the adapters of this service.

/** An amount in integer minor units of an ISO 4217 currency. Never floating point. */
export interface Money {
  currency: string;
  amountMinor: number;
}

export type Channel = 'WEB' | 'APP' | 'MINI_PROGRAM' | 'STORE_POS' | 'STORE_KIOSK' | 'MARKETPLACE';
export type FulfilmentType = 'HOME_DELIVERY' | 'SHIP_FROM_STORE' | 'STORE_PICKUP' | 'IN_STORE_CARRY_OUT';
export type PaymentMethod = 'CARD' | 'WALLET_QR' | 'CASH' | 'STORE_TERMINAL';
export type WalletChannel = 'ALIPAY' | 'WECHAT_PAY';

export type OrderStatus =
  | 'PENDING'
  | 'AWAITING_PAYMENT'
  | 'CONFIRMED'
  | 'IN_FULFILLMENT'
  | 'READY_FOR_PICKUP'
  | 'OUT_FOR_DELIVERY'
  | 'PICKED_UP'
  | 'DELIVERED'
  | 'COMPLETED'
  | 'REJECTED'
  | 'CANCELLED'
  | 'RETURN_REQUESTED'
  | 'PARTIALLY_RETURNED'
  | 'RETURNED';

export type GroupStatus =
  | 'PENDING'
  | 'HELD'
  | 'CONFIRMED'
  | 'IN_FULFILLMENT'
  | 'READY_FOR_PICKUP'
  | 'OUT_FOR_DELIVERY'
  | 'PICKED_UP'
  | 'DELIVERED'
  | 'HANDED_OVER'
  | 'CANCELLED'
  | 'DELIVERY_FAILED'
  /** Its location never accepted the task: replaced by a group at another location (same items and amount). */
  | 'REROUTED';

export interface GeoPoint {
  latitude: number;
  longitude: number;
}

export interface Address {
  lines: string[];
  /** 区/县: matters for Chinese addresses. */
  district: string;
  city: string;
  region: string;
  postalCode: string;
  countryCode: string;
}

export interface DeliveryDetails {
  point: GeoPoint;
  address?: Address;
  recipientName: string;
  recipientPhone: string;
}

export interface FulfilmentRequest {
  type: FulfilmentType;
  delivery?: DeliveryDetails;
  /** STORE_PICKUP: the store the customer collects from. */
  pickupLocationId?: string;
}

export interface MarketplaceRef {
  partnerId: string;
  externalOrderId: string;
}

/** What the client asked to pay with; the card number never reaches the order's storage. */
export interface PaymentRequest {
  method: PaymentMethod;
  walletChannel?: WalletChannel;
  terminalId?: string;
  cardLast4?: string;
}

export interface OrderLine {
  skuCode: string;
  quantity: number;
  /** From the catalogue at placement; absent until priced. */
  unitPrice?: Money;
  productId?: string;
  productName?: string;
  returnedQuantity: number;
}

export interface ItemQuantity {
  skuCode: string;
  quantity: number;
}

/** The part of an order one location fulfils, with its own inventory hold. */
export interface FulfilmentGroup {
  id: string;
  type: FulfilmentType;
  locationId: string;
  items: ItemQuantity[];
  status: GroupStatus;
  holdId: string;
  sameDay: boolean;
  distanceM: number;
  amount: Money;
  /** Captured for this group (at dispatch or pick-up). */
  captured: boolean;
  /** The goods left or were handed over: the hold's commit (and the group's capture) were decided. */
  dispatched: boolean;
  /** The group this one replaced when that one was re-routed here (absent for groups of the original plan). */
  replaces?: string;
  /**
   * Set once a re-route of this group was queued: the id its new group gets (reserved, never reused, so the new
   * hold id `<order>.<id>` is deterministic). A group is re-routed at most once; a failed attempt is not retried.
   */
  rerouteTo?: string;
}

export interface PaymentState {
  method: PaymentMethod;
  walletChannel?: WalletChannel;
  terminalId?: string;
  cardLast4?: string;
  paymentId?: string;
  /** The saga asked payments to authorise (an authorisation may exist even if its answer was lost). */
  authorizeStarted?: boolean;
  /** A wallet payment reported paid before the saga recorded its QR. */
  paidEarly?: { paymentId: string; amountMinor: number };
  authorizedMinor: number;
  capturedMinor: number;
  refundedMinor: number;
  walletQrPayload?: string;
  payBy?: Date;
}

export type ReturnStatus = 'REQUESTED' | 'RECEIVED' | 'REFUNDED';

export interface OrderReturn {
  id: string;
  /** The RequestReturn request id that opened it (a repeat returns this return). */
  requestId: string;
  status: ReturnStatus;
  locationId: string;
  lines: ItemQuantity[];
  refund: Money;
  reason: string;
  requestedAt: Date;
  refundedAt?: Date;
}

export interface TimelineEntry {
  sequence: number;
  at: Date;
  status: OrderStatus;
  cause: string;
  groupId?: string;
}

/**
 * Work the order decided on and that another service must carry out. Tasks are stored in the order document
 * (a command outbox) before they run, run one at a time in order, are idempotent by a key derived from the order
 * id, and are retried until they report an outcome; so a crash anywhere loses none and repeats none.
 */
export type TaskSpec =
  | { kind: 'PRICE' }
  | { kind: 'PLAN' }
  | { kind: 'HOLD'; groupId: string; expiresAt: Date }
  | { kind: 'AUTHORIZE' }
  | { kind: 'EXTEND_HOLD'; groupId: string; expiresAt: Date }
  | { kind: 'COMMIT_HOLD'; groupId: string }
  /** Releases the group's hold, or `holdId` when given (a re-route's new hold that was not used). */
  | { kind: 'RELEASE_HOLD'; groupId: string; reason: string; holdId?: string }
  /** Voids every payment of the order that still has money authorised (or a wallet QR open). */
  | { kind: 'VOID_PAYMENTS'; reason: string }
  | { kind: 'CAPTURE'; groupId: string; amount: Money }
  | { kind: 'REFUND'; refundId: string; amount: Money; reason: string }
  /** Puts goods back on hand at a location (a received return, a failed delivery), idempotent by key. */
  | { kind: 'RESTOCK'; key: string; locationId: string; items: ItemQuantity[] }
  /**
   * Moves a group nobody accepted to another location, in two runs: first a plan that excludes every location the
   * group (and the groups it replaced) was at, whose single allocation is stored as `target`; then a hold there
   * (`<order>.<toGroupId>`, the same lines on every retry), whose outcome the aggregate applies or compensates.
   */
  | { kind: 'REROUTE'; groupId: string; toGroupId: string; reason: string; target?: RerouteTarget };

export type TaskKind = TaskSpec['kind'];

/** A stored task: its spec, a sequence number unique in the order, and its attempts so far. */
export type Task = TaskSpec & { id: number; attempts: number; lastError?: string };

/** A catalogue price for one SKU on the order's price list. */
export interface PricedSku {
  skuCode: string;
  unitPrice: Money;
  productId: string;
  productName: string;
}

/** One location's part of a sourcing plan. */
export interface Allocation {
  locationId: string;
  items: ItemQuantity[];
  distanceM: number;
  sameDay: boolean;
}

/** Where a re-routed group goes: the plan's one allocation, and until when its hold lasts. */
export interface RerouteTarget extends Allocation {
  expiresAt: Date;
}

export interface Shortage {
  skuCode: string;
  locationId: string;
  requested: number;
  available: number;
}

/** What a task reported. `retry` means "no answer yet" (dependency down or busy): the task stays and runs again. */
export type TaskOutcome =
  | { kind: 'retry'; error: string }
  | { kind: 'priced'; skus: PricedSku[] }
  | { kind: 'planned'; allocations: Allocation[] }
  | { kind: 'held' }
  | { kind: 'short'; shortages: Shortage[] }
  | { kind: 'authorized'; paymentId: string; amount: Money }
  | { kind: 'awaiting-payment'; paymentId: string; qrPayload: string; payBy: Date }
  /** A store sale: authorised and captured at once. */
  | { kind: 'paid'; paymentId: string; amount: Money }
  | { kind: 'declined'; paymentId?: string; reason: string }
  | { kind: 'done' }
  | { kind: 'captured'; amount: Money }
  | { kind: 'refunded'; amount: Money }
  /** The other service refused for good (e.g. unknown SKU, not sellable, nothing left to void): a reason, no retry. */
  | { kind: 'refused'; reason: string };

/** Everything an order is, as stored and as mapped to the API. */
export interface OrderState {
  id: string;
  channel: Channel;
  customerId?: string;
  storeId?: string;
  associateId?: string;
  marketplace?: MarketplaceRef;
  currency: string;
  lines: OrderLine[];
  /** Sum of the priced lines; zero until priced. */
  totalMinor: number;
  fulfilment: FulfilmentRequest;
  groups: FulfilmentGroup[];
  payment: PaymentState;
  status: OrderStatus;
  statusReason?: string;
  returns: OrderReturn[];
  /** Work decided and not yet carried out, oldest first. */
  tasks: Task[];
  /** The next task sequence number. */
  nextTaskId: number;
  timeline: TimelineEntry[];
  /** Placement must finish by then, or it is given up (compensated and REJECTED). */
  placementDeadline: Date;
  /** When the first task should (next) run; absent when there is no task. The recovery loop looks here. */
  nextRunAt?: Date;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A domain event: its type (the proto message name on o2o.orders.v1) and what it carries besides the order. */
export type OrderEvent =
  | { type: 'OrderPlaced' }
  | { type: 'OrderAwaitingPayment' }
  | { type: 'OrderConfirmed' }
  | { type: 'OrderRejected'; reason: string }
  | { type: 'OrderCancelled'; reason: string }
  | { type: 'OrderInFulfillment'; groupId: string }
  | { type: 'OrderReadyForPickup'; groupId: string }
  | { type: 'OrderShipped'; groupId: string }
  | { type: 'OrderPickedUp'; groupId: string }
  | { type: 'OrderDelivered'; groupId: string }
  | { type: 'OrderDeliveryFailed'; groupId: string; reason: string }
  | { type: 'OrderRerouted'; fromGroupId: string; toGroupId: string; reason: string }
  | { type: 'OrderCompleted' }
  | { type: 'ReturnRequested'; returnId: string }
  | { type: 'OrderRefunded'; returnId: string; amount: Money };

/** An event with the order state right after it (events carry the whole order). */
export interface RecordedEvent {
  event: OrderEvent;
  order: OrderState;
}

/**
 * A PlaceOrder request as it arrived, before validation: unset wire fields are undefined (enums left UNSPECIFIED
 * included), so the domain can name every field at fault.
 */
export interface PlacementInput {
  requestId: string;
  channel?: Channel;
  customerId?: string;
  storeId?: string;
  associateId?: string;
  marketplace?: { partnerId: string; externalOrderId: string };
  lines: { skuCode: string; quantity: number }[];
  currency: string;
  fulfilment?: {
    type?: FulfilmentType;
    delivery?: { point?: GeoPoint; address?: Address; recipientName: string; recipientPhone: string };
    pickupLocationId?: string;
  };
  payment?: { method?: PaymentMethod; cardNumber?: string; walletChannel?: WalletChannel; terminalId?: string };
}
