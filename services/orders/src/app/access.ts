// Who may do what with orders, for calls that carry the caller's principal (the gateway puts it in the call's
// metadata). A call without one is internal (another service, an operator) and is not checked here. The ownership
// rules themselves (canSeeOrder, actsForLocation) are the platform's one definition, in kit-grpc.
import { actsForLocation, canSeeOrder, type OrderAttribution, type Principal } from '@o2o/kit-grpc';
import { OrderError } from '../domain/errors';
import type { Placement } from '../domain/placement';
import type { Channel, OrderState } from '../domain/types';
import type { OrderFilter } from './ports';

/** Who calls a use case: a principal, or undefined for an internal call. */
export interface CallerOption {
  caller?: Principal;
}

/**
 * What decides who may see an order: its customer, store of sale, marketplace partner, every group's location
 * (re-routed ones included) and every location goods are returned to (as the gateway reads it from the order).
 */
export function attributionOf(order: OrderState): OrderAttribution {
  return {
    customerId: order.customerId ?? '',
    storeId: order.storeId ?? '',
    partnerId: order.marketplace?.partnerId ?? '',
    locationIds: [...new Set([...order.groups, ...order.returns].map((x) => x.locationId))],
  };
}

/** Whether the caller may see the order; internal calls see every order. */
export function maySee(caller: Principal | undefined, order: OrderState): boolean {
  return !caller || canSeeOrder(caller, attributionOf(order));
}

/** The answer for a missing order, and the same for one the caller may not see: ids must not leak. */
export function orderNotFound(orderId: string): OrderError {
  return new OrderError('not-found', `Order "${orderId}" does not exist`);
}

/** The order when it exists and the caller may see it; NOT_FOUND otherwise, exactly as for a missing order. */
export function visibleOrder(
  caller: Principal | undefined,
  orderId: string,
  order: OrderState | undefined,
): OrderState {
  if (!order || !maySee(caller, order)) throw orderNotFound(orderId);
  return order;
}

const SHOPPER_CHANNELS: ReadonlySet<Channel> = new Set(['WEB', 'APP', 'MINI_PROGRAM']);
const STAFF_CHANNELS: ReadonlySet<Channel> = new Set(['STORE_POS', 'STORE_KIOSK']);

/** PERMISSION_DENIED naming the field at fault. */
function denied(field: string, description: string): never {
  throw new OrderError('permission-denied', `Permission denied: ${field} ${description}`, [{ field, description }]);
}

/**
 * PlaceOrder: a shopper orders for themselves online (web, app, mini-program), staff at their own stores' tills and
 * kiosks, a partner its own marketplace orders; an admin anything. Checked before anything is written or called.
 */
export function checkPlacement(caller: Principal | undefined, placement: Placement): void {
  if (!caller) return;
  switch (caller.role) {
    case 'admin':
      return;
    case 'shopper':
      if (!SHOPPER_CHANNELS.has(placement.channel)) denied('channel', 'must be WEB, APP or MINI_PROGRAM for a shopper');
      if (placement.customerId !== caller.subject) denied('customer_id', 'must be the shopper’s own id');
      return;
    case 'staff':
      if (!STAFF_CHANNELS.has(placement.channel)) denied('channel', 'must be STORE_POS or STORE_KIOSK for store staff');
      if (!placement.storeId || !actsForLocation(caller, placement.storeId)) {
        denied('store_id', 'must be a store the staff member works at');
      }
      return;
    case 'partner':
      if (placement.channel !== 'MARKETPLACE') denied('channel', 'must be MARKETPLACE for a partner');
      if (placement.marketplace?.partnerId !== caller.subject) {
        denied('marketplace.partner_id', 'must be the partner’s own id');
      }
      return;
  }
}

/**
 * ListOrders: scoped to what the caller may see. A shopper lists their own orders (customer_id forced); staff one of
 * their stores (store_id required); a partner one of the stores it operates, or else its own marketplace orders
 * (partner_id forced); an admin anything.
 */
export function scopeListFilter(caller: Principal | undefined, filter: OrderFilter): OrderFilter {
  if (!caller) return filter;
  switch (caller.role) {
    case 'admin':
      return filter;
    case 'shopper':
      if (filter.customerId && filter.customerId !== caller.subject) {
        denied('customer_id', 'must be empty or the shopper’s own id');
      }
      return { ...filter, customerId: caller.subject };
    case 'staff':
      if (!filter.storeId) {
        throw OrderError.invalid([{ field: 'store_id', description: 'is required for store staff' }]);
      }
      if (!actsForLocation(caller, filter.storeId)) denied('store_id', 'must be a store the staff member works at');
      return filter;
    case 'partner':
      if (filter.partnerId && filter.partnerId !== caller.subject) {
        denied('partner_id', 'must be empty or the partner’s own id');
      }
      if (filter.storeId && actsForLocation(caller, filter.storeId)) return filter;
      // Not one of its stores: only its own marketplace orders (any store_id given only narrows those).
      return { ...filter, partnerId: caller.subject };
  }
}

/**
 * ReceiveReturn: staff or a partner acting for the return's location, or an admin. Others get NOT_FOUND when they may
 * not see the order (as if it did not exist), PERMISSION_DENIED when they may see it but not act there.
 */
export function checkReceiveReturn(
  caller: Principal | undefined,
  request: { orderId: string; returnId: string },
  order: OrderState | undefined,
): void {
  if (!caller) return;
  const ret = order?.returns.find((r) => r.id === request.returnId);
  if (ret && actsForLocation(caller, ret.locationId)) return;
  visibleOrder(caller, request.orderId, order);
  if (!ret) throw new OrderError('not-found', `Order "${request.orderId}" has no return "${request.returnId}"`);
  throw new OrderError(
    'permission-denied',
    `Permission denied: only staff at "${ret.locationId}" may receive return "${request.returnId}"`,
  );
}
