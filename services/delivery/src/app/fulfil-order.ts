// Fulfilments come from the orders service's events: one per group of a confirmed order (in-store carry-out
// groups are complete at the till and get none), stopped when the order is cancelled, moved when orders re-routes a
// group its location did not accept in time.
import { DeliveryError, isDeliveryError } from '../domain/errors';
import { Fulfilment, fulfilmentIdFor } from '../domain/fulfilment';
import type { DeliveryTarget, FulfilmentAttribution, FulfilmentType, Item } from '../domain/types';
import { changeFulfilment } from './change-fulfilment';
import type { Deps } from './ports';

/** A group of a confirmed order, as delivery reads it. */
export interface ConfirmedGroup {
  groupId: string;
  /** Undefined for a group delivery does not fulfil (in-store carry-out). */
  type: FulfilmentType | undefined;
  locationId: string;
  items: Item[];
}

/** A confirmed order, as delivery reads it. */
export interface ConfirmedOrder {
  orderId: string;
  customerId?: string;
  /** Whose order it is: recorded on each fulfilment, for who may see it. */
  attribution?: FulfilmentAttribution;
  delivery?: DeliveryTarget;
  groups: ConfirmedGroup[];
}

/** Creates the order's fulfilments; a repeat creates nothing. Answers how many were new. */
export async function createFulfilments(deps: Deps, order: ConfirmedOrder): Promise<number> {
  let created = 0;
  for (const group of order.groups) {
    if (!group.type) continue;
    const needsShipment = group.type !== 'STORE_PICKUP';
    if (needsShipment && !order.delivery) {
      throw new DeliveryError(
        'invalid-argument',
        `Order "${order.orderId}" group "${group.groupId}" has no destination`,
      );
    }
    if ((await deps.fulfilments.find(fulfilmentIdFor(order.orderId, group.groupId))) !== undefined) continue;
    const origin = needsShipment ? await deps.locations.pointOf(group.locationId) : undefined;
    const fulfilment = Fulfilment.create(
      {
        orderId: order.orderId,
        groupId: group.groupId,
        locationId: group.locationId,
        type: group.type,
        items: group.items,
        ...(order.customerId ? { customerId: order.customerId } : {}),
        ...(order.attribution ? { attribution: order.attribution } : {}),
        ...(needsShipment && order.delivery ? { delivery: order.delivery } : {}),
        ...(origin ? { origin } : {}),
      },
      deps.policy,
      deps.clock.now(),
    );
    if ((await deps.fulfilments.insert(fulfilment)) === 'inserted') created += 1;
  }
  return created;
}

/** Stops the work of a cancelled order's groups (what was already handed over stays as it is). */
export async function cancelFulfilments(deps: Deps, orderId: string, groupIds: readonly string[]): Promise<void> {
  for (const groupId of groupIds) await cancelFulfilment(deps, orderId, groupId);
}

/**
 * Orders moved group `fromGroupId` (its location did not accept in time) to the new group `toGroupId` of `order`:
 * the old work stops as for a cancellation (FulfilmentCancelled, the courier's slot given back), even if the location
 * accepted meanwhile, unless something was already handed over; the new group's fulfilment is created as at
 * confirmation. A repeat changes nothing. Answers whether the old work stopped (false: it was handed over).
 */
export async function rerouteFulfilment(
  deps: Deps,
  order: ConfirmedOrder,
  move: { fromGroupId: string; toGroupId: string },
): Promise<{ stopped: boolean }> {
  const to = order.groups.filter((g) => g.groupId === move.toGroupId);
  if (to.length === 0) {
    throw new DeliveryError('invalid-argument', `Order "${order.orderId}" has no group "${move.toGroupId}"`);
  }
  const stopped = await cancelFulfilment(deps, order.orderId, move.fromGroupId);
  await createFulfilments(deps, { ...order, groups: to });
  return { stopped };
}

// Stops one group's work; true when it is stopped (or there was none), false when it was already handed over.
async function cancelFulfilment(deps: Deps, orderId: string, groupId: string): Promise<boolean> {
  try {
    return (await changeFulfilment(deps, fulfilmentIdFor(orderId, groupId), (f) => f.cancel(deps.clock.now()))).result;
  } catch (error) {
    // A group delivery never fulfilled (carry-out, or rejected before confirmation) has nothing to stop.
    if (isDeliveryError(error) && error.kind === 'not-found') return true;
    throw error;
  }
}
