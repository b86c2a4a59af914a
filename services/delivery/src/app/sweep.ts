// The sweeper (every replica runs it): announces missed deadlines, expires uncollected pick-ups, takes back
// lapsed offers, and dispatches shipments still waiting for a courier.
import { isDeliveryError } from '../domain/errors';
import { changeFulfilment } from './change-fulfilment';
import { dispatchShipment } from './dispatch';
import type { Deps } from './ports';

/** Handles what is due now; answers how many fulfilments it looked at. A failure on one does not stop the rest. */
export async function sweepDue(
  deps: Deps,
  options: { limit: number; onFailure(fulfilmentId: string, error: unknown): void },
): Promise<number> {
  const ids = await deps.fulfilments.due(deps.clock.now(), options.limit);
  for (const id of ids) {
    try {
      const { state } = await changeFulfilment(deps, id, (f) => f.tick(deps.clock.now()));
      if (state.shipment?.status === 'AWAITING_COURIER') await dispatchShipment(deps, id);
    } catch (error) {
      if (isDeliveryError(error) && error.kind === 'not-found') continue;
      options.onFailure(id, error);
    }
  }
  return ids.length;
}
