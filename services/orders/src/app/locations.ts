// Locations an order names (the store of sale, the pick-up store, a return location) are checked with inventory,
// the owner of locations, before anything is written: a bad reference is refused and creates nothing.
import { OrderError } from '../domain/errors';
import type { Placement } from '../domain/placement';
import type { Deps, LocationInfo } from './ports';

/** The location, NOT_FOUND naming `field` when it does not exist, UNAVAILABLE when inventory cannot answer. */
export async function lookUpLocation(deps: Deps, id: string, field: string): Promise<LocationInfo> {
  let location: LocationInfo | undefined;
  try {
    location = await deps.inventory.location(id);
  } catch (error) {
    throw new OrderError(
      'unavailable',
      `Inventory cannot be reached to check location "${id}" (${field}): retry (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (!location) throw new OrderError('not-found', `Location "${id}" (${field}) does not exist`);
  return location;
}

/** The stores a placement names exist, are stores and are open; throws otherwise. */
export async function checkPlacementLocations(deps: Deps, placement: Placement): Promise<void> {
  const named: [string, string][] = [];
  if (placement.storeId) named.push([placement.storeId, 'store_id']);
  if (placement.fulfilment.type === 'STORE_PICKUP' && placement.fulfilment.pickupLocationId) {
    named.push([placement.fulfilment.pickupLocationId, 'fulfilment.pickup_location_id']);
  }
  for (const [id, field] of named) {
    const location = await lookUpLocation(deps, id, field);
    if (!location.isStore || !location.open) {
      throw new OrderError('failed-precondition', `Location "${id}" (${field}) is not an open store`);
    }
  }
}
