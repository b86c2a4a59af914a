// One way to change a fulfilment from a use case: the repository applies the change atomically; afterwards the
// couriers it no longer keeps busy get their slots back, the relay is woken, and watchers hear of a status change.
import { busyCouriers } from '../domain/fulfilment';
import type { Fulfilment } from '../domain/fulfilment';
import type { FulfilmentState, ShipmentStatus } from '../domain/types';
import type { Changed, Deps } from './ports';
import type { TrackedShipment } from './tracking-ports';

/** Applies `change` to the fulfilment and does what must follow a stored change. */
export async function changeFulfilment<R>(deps: Deps, id: string, change: (f: Fulfilment) => R): Promise<Changed<R>> {
  let busyBefore: string[] = [];
  let statusBefore: ShipmentStatus | undefined;
  const changed = await deps.fulfilments.update(id, (f) => {
    const before = f.snapshot();
    busyBefore = busyCouriers(before);
    statusBefore = before.shipment?.status;
    return change(f);
  });
  if (changed.events.length > 0) deps.afterWrite(id);
  await releaseCouriers(deps, changed.state, busyBefore);
  const tracked = trackedShipment(changed.state);
  if (tracked && (tracked.status !== statusBefore || changed.events.some((e) => e.type === 'CourierAssigned'))) {
    deps.feed.publishStatus(tracked);
  }
  return changed;
}

/** The shipment of a fulfilment as live tracking sees it, or undefined for a pick-up. */
export function trackedShipment(state: FulfilmentState): TrackedShipment | undefined {
  const s = state.shipment;
  if (!s || !state.delivery) return undefined;
  return {
    id: s.id,
    orderId: state.orderId,
    groupId: state.groupId,
    locationId: state.locationId,
    status: s.status,
    ...(s.courierId ? { courierId: s.courierId } : {}),
    origin: s.origin,
    destination: state.delivery.point,
  };
}

// A courier whose offer lapsed or whose shipment ended gets its slot back. A failure here is left to the
// reconciler (the slot is visibly held by a shipment that no longer names the courier).
async function releaseCouriers(deps: Deps, state: FulfilmentState, busyBefore: readonly string[]): Promise<void> {
  const shipmentId = state.shipment?.id;
  if (!shipmentId) return;
  const busyNow = new Set(busyCouriers(state));
  const now = deps.clock.now();
  for (const courierId of busyBefore) {
    if (!busyNow.has(courierId)) await deps.couriers.release(courierId, shipmentId, now).catch(() => undefined);
  }
}
