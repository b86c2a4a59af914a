// The lifecycle as tables: the code's truth, documented in docs/orders.md. The order's status follows from its
// fulfilment groups once confirmed; `assertOrderTransition` refuses anything the table does not list.
import { OrderError } from './errors';
import type { FulfilmentType, GroupStatus, OrderStatus } from './types';

/** Order status → the statuses it may move to. Final statuses map to nothing. */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  PENDING: ['AWAITING_PAYMENT', 'CONFIRMED', 'COMPLETED', 'REJECTED'],
  AWAITING_PAYMENT: ['CONFIRMED', 'CANCELLED'],
  CONFIRMED: [
    'IN_FULFILLMENT',
    'READY_FOR_PICKUP',
    'OUT_FOR_DELIVERY',
    'PICKED_UP',
    'DELIVERED',
    'COMPLETED',
    'CANCELLED',
  ],
  IN_FULFILLMENT: ['READY_FOR_PICKUP', 'OUT_FOR_DELIVERY', 'PICKED_UP', 'DELIVERED', 'COMPLETED', 'CANCELLED'],
  READY_FOR_PICKUP: ['IN_FULFILLMENT', 'OUT_FOR_DELIVERY', 'PICKED_UP', 'DELIVERED', 'COMPLETED', 'CANCELLED'],
  OUT_FOR_DELIVERY: ['IN_FULFILLMENT', 'PICKED_UP', 'DELIVERED', 'COMPLETED', 'CANCELLED'],
  PICKED_UP: ['IN_FULFILLMENT', 'COMPLETED'],
  DELIVERED: ['IN_FULFILLMENT', 'COMPLETED'],
  COMPLETED: ['RETURN_REQUESTED'],
  RETURN_REQUESTED: ['PARTIALLY_RETURNED', 'RETURNED'],
  PARTIALLY_RETURNED: ['RETURN_REQUESTED'],
  REJECTED: [],
  CANCELLED: [],
  RETURNED: [],
};

/** Statuses no command or event can leave. */
export const FINAL_STATUSES: ReadonlySet<OrderStatus> = new Set(['REJECTED', 'CANCELLED', 'RETURNED']);

/** Group status → the statuses it may move to (delivery's events may skip steps whose events were not sent). */
export const GROUP_TRANSITIONS: Readonly<Record<GroupStatus, readonly GroupStatus[]>> = {
  PENDING: ['HELD', 'CANCELLED'],
  HELD: ['CONFIRMED', 'CANCELLED'],
  CONFIRMED: [
    'IN_FULFILLMENT',
    'READY_FOR_PICKUP',
    'OUT_FOR_DELIVERY',
    'PICKED_UP',
    'DELIVERED',
    'HANDED_OVER',
    'CANCELLED',
    'REROUTED',
  ],
  IN_FULFILLMENT: ['READY_FOR_PICKUP', 'OUT_FOR_DELIVERY', 'PICKED_UP', 'DELIVERED', 'CANCELLED'],
  READY_FOR_PICKUP: ['PICKED_UP', 'CANCELLED'],
  OUT_FOR_DELIVERY: ['DELIVERED', 'DELIVERY_FAILED'],
  PICKED_UP: [],
  DELIVERED: [],
  HANDED_OVER: [],
  CANCELLED: [],
  DELIVERY_FAILED: [],
  REROUTED: [],
};

/** Which group statuses each fulfilment type can reach at all. */
const STATUSES_BY_TYPE: Readonly<Record<FulfilmentType, ReadonlySet<GroupStatus>>> = {
  HOME_DELIVERY: new Set(['IN_FULFILLMENT', 'OUT_FOR_DELIVERY', 'DELIVERED', 'DELIVERY_FAILED', 'REROUTED']),
  SHIP_FROM_STORE: new Set(['IN_FULFILLMENT', 'OUT_FOR_DELIVERY', 'DELIVERED', 'DELIVERY_FAILED', 'REROUTED']),
  STORE_PICKUP: new Set(['IN_FULFILLMENT', 'READY_FOR_PICKUP', 'PICKED_UP']),
  IN_STORE_CARRY_OUT: new Set(['HANDED_OVER']),
};

/** Group statuses in which the goods have left the location (or its hand-over is done). */
export const DISPATCHED: ReadonlySet<GroupStatus> = new Set([
  'OUT_FOR_DELIVERY',
  'PICKED_UP',
  'DELIVERED',
  'HANDED_OVER',
]);
/** Group statuses in which the customer has the goods. */
export const FULFILLED: ReadonlySet<GroupStatus> = new Set(['PICKED_UP', 'DELIVERED', 'HANDED_OVER']);
/** Group statuses of groups dropped from the order: the customer never gets their goods, so they are not paid for. */
export const DROPPED: ReadonlySet<GroupStatus> = new Set(['CANCELLED', 'DELIVERY_FAILED']);
/**
 * Group statuses that no longer take part in the order: dropped, or re-routed (REROUTED: its items and amount moved
 * to the group that replaced it, so it is not dropped for money: nothing is voided or refunded for it).
 */
export const INACTIVE: ReadonlySet<GroupStatus> = new Set([...DROPPED, 'REROUTED']);

/** True when a group of `type` may move from `from` to `to`. */
export function groupMayMove(type: FulfilmentType, from: GroupStatus, to: GroupStatus): boolean {
  if (!GROUP_TRANSITIONS[from].includes(to)) return false;
  return to === 'CANCELLED' || to === 'HELD' || to === 'CONFIRMED' || STATUSES_BY_TYPE[type].has(to);
}

/** Throws FAILED_PRECONDITION unless the table allows `from` → `to` (staying put is always allowed). */
export function assertOrderTransition(id: string, from: OrderStatus, to: OrderStatus): void {
  if (from === to || ORDER_TRANSITIONS[from].includes(to)) return;
  throw new OrderError(
    'failed-precondition',
    `Order "${id}" cannot go from ${from} to ${to}: the lifecycle does not allow it`,
  );
}

/**
 * The order's status from its groups, once confirmed (re-routed groups left out: their successors count): all groups
 * alike → their status; some past CONFIRMED → IN_FULFILLMENT; every kept group with the customer and nothing left to
 * capture → COMPLETED; every group dropped → CANCELLED. `capturePending` is whether money for a handed-over group is
 * still being captured.
 */
export function statusFromGroups(groups: readonly { status: GroupStatus }[], capturePending: boolean): OrderStatus {
  const kept = groups.filter((g) => !INACTIVE.has(g.status));
  if (kept.length === 0) return 'CANCELLED';
  if (kept.every((g) => FULFILLED.has(g.status)) && !capturePending) return 'COMPLETED';
  const first = kept[0]!.status;
  if (kept.every((g) => g.status === first)) {
    return first === 'HANDED_OVER' || first === 'HELD' || first === 'PENDING' ? 'CONFIRMED' : (first as OrderStatus);
  }
  return kept.every((g) => g.status === 'CONFIRMED') ? 'CONFIRMED' : 'IN_FULFILLMENT';
}
