// Read side: one order, its timeline, and lists by customer, store, channel, status and time.
import { OrderError } from '../domain/errors';
import type { OrderState, TimelineEntry } from '../domain/types';
import type { Deps, OrderFilter, Page } from './ports';

/** One order; NOT_FOUND when there is none. */
export async function getOrder(deps: Deps, orderId: string): Promise<OrderState> {
  if (!orderId) throw OrderError.invalid([{ field: 'order_id', description: 'is required' }]);
  const state = await deps.orders.get(orderId);
  if (!state) throw new OrderError('not-found', `Order "${orderId}" does not exist`);
  return state;
}

/** Every transition of an order, oldest first. */
export async function getTimeline(deps: Deps, orderId: string): Promise<TimelineEntry[]> {
  return (await getOrder(deps, orderId)).timeline;
}

/** A page of orders, newest first; at least one of customer, store, channel or statuses must narrow it. */
export async function listOrders(
  deps: Deps,
  filter: OrderFilter,
  page: { size: number; after?: string },
): Promise<Page<OrderState>> {
  if (!filter.customerId && !filter.storeId && !filter.channel && !(filter.statuses && filter.statuses.length > 0)) {
    throw OrderError.invalid([
      { field: 'customer_id', description: 'one of customer_id, store_id, channel or statuses is required' },
    ]);
  }
  if (filter.placedAfter && filter.placedBefore && filter.placedAfter >= filter.placedBefore) {
    throw OrderError.invalid([{ field: 'placed_before', description: 'must be after placed_after' }]);
  }
  return deps.orders.list(filter, page);
}
