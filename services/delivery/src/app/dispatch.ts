// Dispatch: offers a waiting shipment to the best courier (nearest, counting its load), one offer at a time. The
// courier's slot is claimed first (a conditional update on the courier), then the offer is written to the
// fulfilment; if that write is refused the slot is given back. A crash between the two leaves a slot held by a
// shipment that does not name the courier, which reconcileCourierSlots gives back.
import { rankCouriers } from '../domain/courier';
import { isDeliveryError } from '../domain/errors';
import { busyCouriers, Fulfilment } from '../domain/fulfilment';
import { changeFulfilment } from './change-fulfilment';
import type { Deps } from './ports';

/** How many couriers one dispatch reads, and how many it tries to claim. */
const CANDIDATES = 50;
const CLAIM_TRIES = 5;

export type DispatchOutcome = 'offered' | 'no-courier' | 'not-waiting';

/** Offers the fulfilment's shipment to the best courier, if it is waiting for one. */
export async function dispatchShipment(deps: Deps, fulfilmentId: string): Promise<DispatchOutcome> {
  const state = await deps.fulfilments.find(fulfilmentId);
  const now = deps.clock.now();
  if (!state?.shipment || !Fulfilment.fromState(state, deps.policy).needsCourier(now)) return 'not-waiting';
  const shipment = state.shipment;
  const { radiusM, loadPenaltyM, positionFreshMs } = deps.dispatch;
  const freshSince = new Date(now.getTime() - positionFreshMs);
  const candidates = await deps.couriers.candidatesNear(shipment.origin, { radiusM, freshSince, limit: CANDIDATES });
  const ranked = rankCouriers(shipment.origin, candidates, {
    radiusM,
    loadPenaltyM,
    freshSince,
    exclude: shipment.passedBy,
  });
  for (const candidate of ranked.slice(0, CLAIM_TRIES)) {
    if (!(await deps.couriers.claim(candidate.courierId, shipment.id, now))) continue;
    try {
      await changeFulfilment(deps, fulfilmentId, (f) => f.offerTo(candidate.courierId, now));
      return 'offered';
    } catch (error) {
      await deps.couriers.release(candidate.courierId, shipment.id, deps.clock.now());
      // Someone else offered it or the order was cancelled meanwhile: nothing more to do here.
      if (isDeliveryError(error) && error.kind === 'failed-precondition') return 'not-waiting';
      throw error;
    }
  }
  try {
    await changeFulfilment(deps, fulfilmentId, (f) => f.noCourierFound(now));
  } catch (error) {
    if (!(isDeliveryError(error) && error.kind === 'failed-precondition')) throw error;
  }
  return 'no-courier';
}

/** Gives back slots held by shipments that no longer name the courier (a crash between claim and offer). */
export async function reconcileCourierSlots(
  deps: Deps,
  options: {
    limit: number;
    /** Only couriers unchanged for this long: a dispatch between its claim and its offer is left alone. */
    unchangedForMs: number;
  },
): Promise<number> {
  const now = deps.clock.now();
  const couriers = await deps.couriers.holdingSlots(new Date(now.getTime() - options.unchangedForMs), options.limit);
  let released = 0;
  for (const courier of couriers) {
    for (const shipmentId of courier.shipmentIds) {
      const state = await deps.fulfilments.findByShipment(shipmentId);
      if (!state || !busyCouriers(state).includes(courier.id)) {
        await deps.couriers.release(courier.id, shipmentId, now);
        released += 1;
      }
    }
  }
  return released;
}
