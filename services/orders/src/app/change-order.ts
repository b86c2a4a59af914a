// Commands and events that change a placed order: each is one version-checked update of the order (state, events
// and the tasks it queues together), after which the tasks run in the background.
import { OrderError } from '../domain/errors';
import type { FulfilmentStep } from '../domain/order';
import type { ItemQuantity, Money, OrderState } from '../domain/types';
import { type CallerOption, checkReceiveReturn, visibleOrder } from './access';
import { lookUpLocation } from './locations';
import type { Deps } from './ports';
import { kickTasks, runTasks } from './run-tasks';

const REASON_MAX = 500;

/**
 * CancelOrder: before dispatch; holds released and the payment voided by the tasks it queues. An order the caller
 * may not see is NOT_FOUND and is left as it is.
 */
export async function cancelOrder(
  deps: Deps,
  request: { orderId: string; reason: string },
  { caller }: CallerOption = {},
): Promise<OrderState> {
  const reason = request.reason.trim();
  const violations = [];
  if (!request.orderId) violations.push({ field: 'order_id', description: 'is required' });
  if (!reason || reason.length > REASON_MAX) {
    violations.push({ field: 'reason', description: `must be 1..${REASON_MAX} characters` });
  }
  if (violations.length > 0) throw OrderError.invalid(violations);
  // The caller's check reads the order; the update then starts from that state (no second read).
  const known = caller ? visibleOrder(caller, request.orderId, await deps.orders.get(request.orderId)) : undefined;
  const { state } = await deps.orders.update(
    request.orderId,
    (order) => {
      const events = order.cancel(reason, deps.clock.now());
      return { events, result: undefined };
    },
    known,
  );
  return settle(deps, state);
}

/**
 * RequestReturn: lines the customer has, back at a location that accepts returns (any store for online orders). An
 * order the caller may not see is NOT_FOUND and is left as it is.
 */
export async function requestReturn(
  deps: Deps,
  request: { requestId: string; orderId: string; locationId: string; lines: ItemQuantity[]; reason: string },
  { caller }: CallerOption = {},
): Promise<{ order: OrderState; returnId: string }> {
  const violations = [];
  if (!request.requestId) violations.push({ field: 'request_id', description: 'is required' });
  if (!request.orderId) violations.push({ field: 'order_id', description: 'is required' });
  if (!request.locationId) violations.push({ field: 'location_id', description: 'is required' });
  if (request.lines.length > 100) violations.push({ field: 'lines', description: 'must have at most 100 lines' });
  if (request.reason.length > REASON_MAX) {
    violations.push({ field: 'reason', description: `must be at most ${REASON_MAX} characters` });
  }
  if (violations.length > 0) throw OrderError.invalid(violations);
  visibleOrder(caller, request.orderId, await deps.orders.get(request.orderId));
  const location = await lookUpLocation(deps, request.locationId, 'location_id');
  if (!location.open || !location.acceptsReturns) {
    throw new OrderError('failed-precondition', `Location "${request.locationId}" does not take returns now`);
  }
  const { state, result } = await deps.orders.update(request.orderId, (order) => {
    const { returnId, events } = order.requestReturn(
      { requestId: request.requestId, locationId: request.locationId, lines: request.lines, reason: request.reason },
      deps.clock.now(),
    );
    return { events, result: returnId };
  });
  deps.afterWrite(state.id);
  return { order: state, returnId: result };
}

/**
 * ReceiveReturn: the goods are back; restock and refund run as tasks. A caller must act for the return's location
 * (access.ts); a refused call changes nothing.
 */
export async function receiveReturn(
  deps: Deps,
  request: { orderId: string; returnId: string },
  { caller }: CallerOption = {},
): Promise<OrderState> {
  let known: OrderState | undefined;
  if (caller) {
    known = await deps.orders.get(request.orderId);
    checkReceiveReturn(caller, request, known);
  }
  const { state } = await deps.orders.update(
    request.orderId,
    (order) => ({
      events: order.receiveReturn(request.returnId, deps.clock.now()),
      result: undefined,
    }),
    known,
  );
  return settle(deps, state);
}

/** A payments event about one of this service's orders. Unknown orders are ignored (another system's payment). */
export async function onPaymentEvent(
  deps: Deps,
  event: { orderId: string; paymentId: string; kind: 'authorized' | 'expired' | 'declined'; amount?: Money },
): Promise<void> {
  if (!(await deps.orders.get(event.orderId))) return;
  const { state } = await deps.orders.update(event.orderId, (order) => {
    const now = deps.clock.now();
    const events =
      event.kind === 'authorized'
        ? order.paymentAuthorized(event.paymentId, event.amount ?? { currency: '', amountMinor: 0 }, now, deps.policy)
        : order.paymentFailed(event.paymentId, event.kind, now);
    return { events, result: undefined };
  });
  if (state.tasks.length > 0) kickTasks(deps, state.id);
  deps.afterWrite(state.id);
}

/**
 * A delivery event: the group moves on (capture and commit queued at dispatch; an expired pick-up released and not
 * charged). A repeat changes nothing; a step the lifecycle forbids is reported to the caller (the consumer logs it
 * and moves on).
 */
export async function onFulfilmentEvent(
  deps: Deps,
  event: { orderId: string; groupId: string; step: FulfilmentStep; reason?: string },
): Promise<void> {
  if (!(await deps.orders.get(event.orderId))) {
    throw new OrderError('not-found', `Order "${event.orderId}" does not exist`);
  }
  const { state } = await deps.orders.update(event.orderId, (order) => ({
    events: order.advanceGroup(event.groupId, event.step, deps.clock.now(), event.reason),
    result: undefined,
  }));
  deps.afterWrite(state.id);
  if (state.tasks.length > 0) kickTasks(deps, state.id);
}

/**
 * Delivery says a group's task was not accepted by its deadline: recorded on the order's timeline once (no status
 * change, no event), and a delivery group still waiting is re-routed to another location by a REROUTE task run in
 * the background (see Order.taskOverdue for the rules). Unknown orders and groups are NOT_FOUND (refused).
 */
export async function onTaskOverdue(
  deps: Deps,
  event: { orderId: string; groupId: string; taskId: string; deadline?: Date },
): Promise<void> {
  if (!(await deps.orders.get(event.orderId))) {
    throw new OrderError('not-found', `Order "${event.orderId}" does not exist`);
  }
  const { state, result: reroutes } = await deps.orders.update(event.orderId, (order) => {
    const overdue = { taskId: event.taskId, deadline: event.deadline };
    const events = order.taskOverdue(event.groupId, overdue, deps.clock.now(), deps.policy);
    return { events, result: order.takeRerouteOutcomes() };
  });
  for (const outcome of reroutes) deps.onReroute?.(outcome);
  if (state.tasks.length > 0) kickTasks(deps, state.id);
}

/** Runs the queued tasks a little while inline so the answer shows them done when they are quick. */
async function settle(deps: Deps, state: OrderState): Promise<OrderState> {
  deps.afterWrite(state.id);
  if (state.tasks.length === 0) return state;
  return (await runTasks(deps, state.id)) ?? state;
}
