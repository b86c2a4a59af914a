// Who may do what with fulfilments, for calls that carry the caller's principal (the gateway puts it in the call's
// metadata). A call without one is internal (another service, an operator, a courier's app) and is not checked here.
// The ownership rules themselves (canSeeOrder, actsForLocation) are the platform's one definition, in kit-grpc.
import { actsForLocation, canSeeOrder, type Principal } from '@o2o/kit-grpc';
import { DeliveryError } from '../domain/errors';
import type { FulfilmentState } from '../domain/types';
import type { Deps } from './ports';

/** Who calls a use case: a principal, or undefined for an internal call. */
export interface CallerOption {
  caller?: Principal;
}

const NOBODY = { customerId: '', storeId: '', partnerId: '' };

/**
 * Whether the caller may see the fulfilment: whoever may see its order, judged by the attribution recorded from
 * OrderConfirmed and the fulfilment's own location. One created before attributions were recorded: admins and the
 * location's staff or partner only.
 */
export function maySeeFulfilment(caller: Principal | undefined, fulfilment: FulfilmentState): boolean {
  if (!caller) return true;
  return canSeeOrder(caller, { ...(fulfilment.attribution ?? NOBODY), locationIds: [fulfilment.locationId] });
}

/**
 * Whether the caller may read the handover code: the code proves the buyer is at the counter or the door, so only the
 * buyer's side reads it — the shopper who ordered, the partner that placed the order — and admins. The location's
 * staff see the fulfilment but never the code.
 */
export function mayReadHandoverCode(caller: Principal | undefined, fulfilment: FulfilmentState): boolean {
  if (!caller || caller.role === 'admin') return true;
  const a = fulfilment.attribution;
  if (!a) return false;
  if (caller.role === 'shopper') return a.customerId !== '' && a.customerId === caller.subject;
  if (caller.role === 'partner') return a.partnerId !== '' && a.partnerId === caller.subject;
  return false;
}

/** A location's work (its queue, accepting, picking, packing, a pick-up at its counter): its staff, partner or an admin. */
export function checkActsFor(caller: Principal | undefined, locationId: string): void {
  if (caller && !actsForLocation(caller, locationId)) {
    throw new DeliveryError('permission-denied', `Permission denied: the caller does not act for "${locationId}"`);
  }
}

/** Couriers do not come through the gateway: with a principal, only an admin may make a courier's calls. */
export function checkCourierCall(caller: Principal | undefined): void {
  if (caller && caller.role !== 'admin') {
    throw new DeliveryError('permission-denied', 'Permission denied: courier calls are not open to this caller');
  }
}

/** Whether the caller may watch the shipment live: it exists and the caller may see its fulfilment. */
export async function mayWatchShipment(
  deps: Pick<Deps, 'fulfilments'>,
  caller: Principal | undefined,
  shipmentId: string,
): Promise<boolean> {
  if (!caller) return true;
  const fulfilment = await deps.fulfilments.findByShipment(shipmentId);
  return fulfilment !== undefined && maySeeFulfilment(caller, fulfilment);
}
