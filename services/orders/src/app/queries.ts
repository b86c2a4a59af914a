// Read side: one order, its timeline, and lists by customer, store, channel, status and time.
import { OrderError } from '../domain/errors';
import type { OrderState, TimelineEntry } from '../domain/types';
import { type CallerOption, scopeListFilter, visibleOrder } from './access';
import type { Deps, OrderFilter, Page } from './ports';

/** One order; NOT_FOUND when there is none, or when the caller may not see it. */
export async function getOrder(deps: Deps, orderId: string, { caller }: CallerOption = {}): Promise<OrderState> {
  if (!orderId) throw OrderError.invalid([{ field: 'order_id', description: 'is required' }]);
  return visibleOrder(caller, orderId, await deps.orders.get(orderId));
}

/** Every transition of an order, oldest first. */
export async function getTimeline(deps: Deps, orderId: string, options: CallerOption = {}): Promise<TimelineEntry[]> {
  return (await getOrder(deps, orderId, options)).timeline;
}

/**
 * A page of orders, newest first; at least one of customer, store, partner, channel or statuses must narrow it. A
 * caller's list is scoped to what it may see (see access.ts).
 */
export async function listOrders(
  deps: Deps,
  requested: OrderFilter,
  page: { size: number; after?: string },
  { caller }: CallerOption = {},
): Promise<Page<OrderState>> {
  const filter = scopeListFilter(caller, requested);
  if (
    !filter.customerId &&
    !filter.storeId &&
    !filter.partnerId &&
    !filter.channel &&
    !(filter.statuses && filter.statuses.length > 0)
  ) {
    throw OrderError.invalid([
      {
        field: 'customer_id',
        description: 'one of customer_id, store_id, partner_id, channel or statuses is required',
      },
    ]);
  }
  if (filter.placedAfter && filter.placedBefore && filter.placedAfter >= filter.placedBefore) {
    throw OrderError.invalid([{ field: 'placed_before', description: 'must be after placed_after' }]);
  }
  return deps.orders.list(filter, page);
}
