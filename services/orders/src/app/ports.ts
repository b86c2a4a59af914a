// What the use cases need from the outside world. Adapters implement these; unit tests use in-memory fakes.
import type { OrderAttribution } from '@o2o/kit-grpc';
import type { Order, OrderPolicy } from '../domain/order';
import type { RerouteOutcome } from '../domain/reroute';
import type {
  Allocation,
  FulfilmentType,
  GeoPoint,
  ItemQuantity,
  Money,
  OrderEvent,
  OrderState,
  PaymentMethod,
  PricedSku,
  Shortage,
  WalletChannel,
} from '../domain/types';

/** A dependency's answer that is not an answer yet (down, busy, timed out): try again later. */
export interface Retry {
  kind: 'retry';
  error: string;
}

/** A dependency's refusal for good (e.g. unknown SKU, wrong state): retrying cannot help. */
export interface Refused {
  kind: 'refused';
  reason: string;
}

/** Which catalogue price list and sales channel an order's channel uses. */
export interface PriceQuery {
  skuCodes: string[];
  priceList: 'ONLINE' | 'STORE';
  salesChannel: 'ONLINE' | 'IN_STORE' | 'STORE_KIOSK';
  currency: string;
}

/** The catalogue service. */
export interface CataloguePort {
  /** Every SKU's price in the list and currency; refused naming the SKU when one is unknown, not ACTIVE, not sellable on the channel or has no price. */
  priceSkus(query: PriceQuery): Promise<{ kind: 'priced'; skus: PricedSku[] } | Refused | Retry>;
}

export interface PlanQuery {
  items: ItemQuantity[];
  type: FulfilmentType;
  deliveryPoint?: GeoPoint;
  /** STORE_PICKUP: the pick-up store; IN_STORE_CARRY_OUT: the store of sale. */
  storeLocationId?: string;
  /** Locations the plan must not use (a re-route: where the group already was). */
  excludeLocationIds?: string[];
}

export interface HoldRequest {
  holdId: string;
  ownerId: string;
  lines: { skuCode: string; locationId: string; quantity: number }[];
  expiresAt: Date;
}

export interface LocationInfo {
  id: string;
  open: boolean;
  acceptsReturns: boolean;
  isStore: boolean;
}

/** The inventory service. Every call is idempotent by its hold id or request id. */
export interface InventoryPort {
  /** Refused when no plan covers every item (the reason lists what is missing). */
  plan(query: PlanQuery): Promise<{ kind: 'planned'; allocations: Allocation[] } | Refused | Retry>;
  reserve(request: HoldRequest): Promise<{ kind: 'held' } | { kind: 'short'; shortages: Shortage[] } | Refused | Retry>;
  extend(holdId: string, expiresAt: Date): Promise<{ kind: 'done' } | Refused | Retry>;
  commit(holdId: string): Promise<{ kind: 'done' } | Refused | Retry>;
  /** Releasing a hold that holds nothing (failed, expired, already released) is done, not refused. */
  release(holdId: string, reason: string): Promise<{ kind: 'done' } | Refused | Retry>;
  /** Puts returned goods back on hand (AdjustStock RETURN_RESTOCK), idempotent by request id. */
  restock(request: {
    requestId: string;
    skuCode: string;
    locationId: string;
    quantity: number;
    note: string;
  }): Promise<{ kind: 'done' } | Refused | Retry>;
  /** A location, or undefined when it does not exist; throws when inventory cannot be reached. */
  location(id: string): Promise<LocationInfo | undefined>;
}

export interface AuthorizeRequest {
  /** Idempotency key at payments. */
  key: string;
  orderId: string;
  amount: Money;
  method: PaymentMethod;
  cardNumber?: string;
  walletChannel?: WalletChannel;
  storeId?: string;
  terminalId?: string;
  /** WALLET_QR: the QR's deadline. */
  payBy?: Date;
  /** Whose order it is: payments stores it to answer only callers who may see the order. */
  attribution: OrderAttribution;
}

export type AuthorizeOutcome =
  | { kind: 'authorized'; paymentId: string; amount: Money }
  | { kind: 'awaiting-payment'; paymentId: string; qrPayload: string; payBy: Date }
  | { kind: 'paid'; paymentId: string; amount: Money }
  | { kind: 'declined'; paymentId?: string; reason: string };

/** The payments service. Every money movement is idempotent by its key. */
export interface PaymentsPort {
  authorize(request: AuthorizeRequest): Promise<AuthorizeOutcome | Refused | Retry>;
  /** What became of the order's payment when the saga lost the answer (a crash): none when there is none. */
  paymentOfOrder(orderId: string): Promise<AuthorizeOutcome | { kind: 'none' } | Retry>;
  /** Voids every payment of the order with money still authorised or a wallet QR still open. */
  voidAll(orderId: string, reason: string): Promise<{ kind: 'done' } | Retry>;
  capture(request: {
    key: string;
    paymentId: string;
    amount: Money;
  }): Promise<{ kind: 'captured'; amount: Money } | Refused | Retry>;
  refund(request: {
    key: string;
    paymentId: string;
    amount: Money;
    reason: string;
  }): Promise<{ kind: 'refunded'; amount: Money } | Refused | Retry>;
}

/** Filters of ListOrders; at least one of customer, store, partner, channel or statuses is set. */
export interface OrderFilter {
  customerId?: string;
  storeId?: string;
  /** MARKETPLACE orders this partner placed. */
  partnerId?: string;
  channel?: OrderState['channel'];
  statuses?: OrderState['status'][];
  placedAfter?: Date;
  placedBefore?: Date;
}

/** A page of results and the cursor after its last item, if there are more. */
export interface Page<T> {
  items: T[];
  after?: string;
}

/** A runner's claim on an order's tasks: only the holder runs them until `until` (a crashed holder's claim lapses). */
export interface Lease {
  owner: string;
  until: Date;
}

/** Orders in storage: state, its events (outbox) and its tasks are written by one conditional document update. */
export interface OrderRepository {
  /** Stores a new order, claimed by `lease`; 'exists' when its placement key is taken. */
  insert(
    order: Order,
    events: OrderEvent[],
    meta: { placementKey: string; fingerprint: string; lease: Lease },
  ): Promise<'inserted' | 'exists'>;
  /** The order placed under a placement key, with the fingerprint of the request that placed it. */
  findByPlacementKey(key: string): Promise<{ state: OrderState; fingerprint: string } | undefined>;
  get(id: string): Promise<OrderState | undefined>;
  /**
   * Loads, applies `change` and writes state, events and tasks together if nobody changed the order meanwhile
   * (version check), re-applying on a lost race. Throws NOT_FOUND for an unknown id, ABORTED after too many races.
   */
  update<R>(
    id: string,
    change: (order: Order) => { events: OrderEvent[]; result: R },
    /** The state the caller already holds; the first attempt applies the change to it without reading. */
    known?: OrderState,
  ): Promise<{ state: OrderState; result: R }>;
  /** Takes or renews the claim on an order's tasks; false when another runner holds an unexpired claim. */
  claim(id: string, lease: Lease, now: Date): Promise<boolean>;
  /** Gives a claim up (only the holder's). */
  unclaim(id: string, owner: string): Promise<void>;
  /** Ids of orders with a task due and no live claim, oldest due first. */
  due(now: Date, limit: number): Promise<string[]>;
  list(filter: OrderFilter, page: { size: number; after?: string }): Promise<Page<OrderState>>;
}

/** Secrets a placement holds in memory only, for its own saga run (never stored). */
export interface PlacementSecrets {
  cardNumber?: string;
}

export type { OrderEvent, OrderState };

/** Everything the use cases use, wired by main.ts. */
export interface Deps {
  orders: OrderRepository;
  catalogue: CataloguePort;
  inventory: InventoryPort;
  payments: PaymentsPort;
  policy: OrderPolicy;
  clock: { now(): Date };
  /** New opaque order ids. */
  newId(): string;
  /** This process's name in leases (unique per process). */
  runnerId: string;
  /** How long a claim on an order's tasks lasts without renewal. */
  leaseMs: number;
  /** Called after every write that queued events of `orderId` (wakes the outbox relay, pointing it at the order). */
  afterWrite(orderId: string): void;
  /** Reports a task that failed unexpectedly (a bug or a storage error), for logs and metrics. */
  onTaskError(orderId: string, error: unknown): void;
  /** Observes finished placements (metrics): how long from placing to the status reached. */
  onPlacementSettled?(order: OrderState, seconds: number): void;
  /** Observes how re-routes of groups nobody accepted ended (metrics). */
  onReroute?(outcome: RerouteOutcome): void;
}
