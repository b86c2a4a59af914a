// Carries out one task against the service that owns the work. Every call is idempotent by a key derived from
// the order id, so running a task again after a crash (or in two runners at once) has the effect of running it once.
import { locationsTried } from '../domain/reroute';
import type { OrderState, Task, TaskOutcome } from '../domain/types';
import { attributionOf } from './access';
import type { Deps, PlacementSecrets } from './ports';

/** Runs `task` of `order` and reports what happened; a dependency that cannot answer yields `retry`. */
export async function executeTask(
  deps: Deps,
  order: OrderState,
  task: Task,
  secrets: PlacementSecrets = {},
): Promise<TaskOutcome> {
  switch (task.kind) {
    case 'PRICE':
      return deps.catalogue.priceSkus({
        skuCodes: order.lines.map((l) => l.skuCode),
        priceList: storeChannel(order) ? 'STORE' : 'ONLINE',
        salesChannel:
          order.channel === 'STORE_POS' ? 'IN_STORE' : order.channel === 'STORE_KIOSK' ? 'STORE_KIOSK' : 'ONLINE',
        currency: order.currency,
      });
    case 'PLAN': {
      const f = order.fulfilment;
      const query: Parameters<Deps['inventory']['plan']>[0] = {
        items: order.lines.map((l) => ({ skuCode: l.skuCode, quantity: l.quantity })),
        type: f.type,
      };
      if (f.delivery) query.deliveryPoint = f.delivery.point;
      if (f.type === 'STORE_PICKUP') query.storeLocationId = f.pickupLocationId;
      if (f.type === 'IN_STORE_CARRY_OUT') query.storeLocationId = order.storeId;
      return deps.inventory.plan(query);
    }
    case 'HOLD': {
      const group = groupOf(order, task.groupId);
      return deps.inventory.reserve({
        holdId: group.holdId,
        ownerId: order.id,
        lines: group.items.map((i) => ({ skuCode: i.skuCode, locationId: group.locationId, quantity: i.quantity })),
        expiresAt: task.expiresAt,
      });
    }
    case 'AUTHORIZE':
      return authorize(deps, order, secrets);
    case 'EXTEND_HOLD':
      return deps.inventory.extend(groupOf(order, task.groupId).holdId, task.expiresAt);
    case 'COMMIT_HOLD':
      return deps.inventory.commit(groupOf(order, task.groupId).holdId);
    case 'RELEASE_HOLD':
      return deps.inventory.release(task.holdId ?? groupOf(order, task.groupId).holdId, task.reason);
    case 'VOID_PAYMENTS':
      return deps.payments.voidAll(order.id, task.reason);
    case 'CAPTURE': {
      const paymentId = order.payment.paymentId;
      if (!paymentId) return { kind: 'refused', reason: 'the order has no payment to capture' };
      return deps.payments.capture({ key: `${order.id}:capture:${task.groupId}`, paymentId, amount: task.amount });
    }
    case 'REFUND': {
      const paymentId = order.payment.paymentId;
      if (!paymentId) return { kind: 'refused', reason: 'the order has no payment to refund' };
      return deps.payments.refund({
        key: `${order.id}:refund:${task.refundId}`,
        paymentId,
        amount: task.amount,
        reason: task.reason,
      });
    }
    case 'RESTOCK':
      for (const item of task.items) {
        const outcome = await deps.inventory.restock({
          requestId: `${order.id}:${task.key}:${item.skuCode}`,
          skuCode: item.skuCode,
          locationId: task.locationId,
          quantity: item.quantity,
          note: `order ${order.id} ${task.key}`,
        });
        if (outcome.kind !== 'done') return outcome;
      }
      return { kind: 'done' };
    case 'REROUTE':
      return reroute(deps, order, task);
  }
}

/**
 * A re-route's two runs: without a target, a plan for the group's items of the same type and delivery point that
 * excludes every location the group (and those it replaced) was at; with one, the hold there. The hold id is
 * `<order>.<new group>` and its lines come from the stored target, so a retry never holds twice.
 */
async function reroute(deps: Deps, order: OrderState, task: Extract<Task, { kind: 'REROUTE' }>): Promise<TaskOutcome> {
  const group = groupOf(order, task.groupId);
  const target = task.target;
  if (!target) {
    const query: Parameters<Deps['inventory']['plan']>[0] = {
      items: group.items.map((i) => ({ ...i })),
      type: group.type,
      excludeLocationIds: locationsTried(order, group.id),
    };
    if (order.fulfilment.delivery) query.deliveryPoint = order.fulfilment.delivery.point;
    return deps.inventory.plan(query);
  }
  return deps.inventory.reserve({
    holdId: `${order.id}.${task.toGroupId}`,
    ownerId: order.id,
    lines: target.items.map((i) => ({ skuCode: i.skuCode, locationId: target.locationId, quantity: i.quantity })),
    expiresAt: target.expiresAt,
  });
}

/**
 * Authorises the order's total. A card number lives only in the memory of the PlaceOrder call; a saga resumed after
 * a crash asks payments what became of the order's payment instead, and gives up if there is none.
 */
async function authorize(deps: Deps, order: OrderState, secrets: PlacementSecrets): Promise<TaskOutcome> {
  const pay = order.payment;
  if (pay.method === 'CARD' && !secrets.cardNumber) {
    const known = await deps.payments.paymentOfOrder(order.id);
    if (known.kind !== 'none') return known;
    return {
      kind: 'declined',
      reason: 'the placement was interrupted before the card was charged; place the order again',
    };
  }
  const request: Parameters<Deps['payments']['authorize']>[0] = {
    key: `${order.id}:authorize`,
    orderId: order.id,
    amount: { currency: order.currency, amountMinor: order.totalMinor },
    method: pay.method,
    attribution: attributionOf(order),
  };
  if (secrets.cardNumber) request.cardNumber = secrets.cardNumber;
  if (pay.walletChannel) {
    request.walletChannel = pay.walletChannel;
    request.payBy = new Date(deps.clock.now().getTime() + deps.policy.walletPayTtlMs);
  }
  if (order.storeId) request.storeId = order.storeId;
  if (pay.terminalId) request.terminalId = pay.terminalId;
  return deps.payments.authorize(request);
}

function storeChannel(order: OrderState): boolean {
  return order.channel === 'STORE_POS' || order.channel === 'STORE_KIOSK';
}

function groupOf(order: OrderState, groupId: string) {
  const group = order.groups.find((g) => g.id === groupId);
  if (!group) throw new Error(`Order "${order.id}" has no group "${groupId}"`);
  return group;
}
