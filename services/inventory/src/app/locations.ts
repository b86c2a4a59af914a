import { InventoryError } from '../domain/errors';
import { changeLocation, type Location, type LocationInput, newLocation, sameLocationInput } from '../domain/location';
import type { InventoryDeps, LocationFilter, Page } from './ports';

/** Registers a location under the caller's id. A repeat with the same content returns the stored location. */
export async function createLocation(
  deps: Pick<InventoryDeps, 'locations' | 'clock'>,
  id: string,
  input: LocationInput,
): Promise<Location> {
  const location = newLocation(id, input, deps.clock.now());
  if ((await deps.locations.insert(location)) === 'inserted') return location;
  const existing = await deps.locations.find(id);
  if (existing && (existing.version === 1 ? sameLocationInput(existing, input) : false)) return existing;
  throw new InventoryError('already-exists', `Location "${id}" already exists`);
}

/** Replaces a location's editable fields; expectedVersion 0 skips the version check (last writer wins). */
export async function updateLocation(
  deps: Pick<InventoryDeps, 'locations' | 'clock'>,
  request: { id: string; input: LocationInput; expectedVersion: number },
): Promise<Location> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await getLocation(deps, request.id);
    const next = changeLocation(current, request.input, request.expectedVersion, deps.clock.now());
    if (await deps.locations.replace(next, current.version)) return next;
    if (request.expectedVersion !== 0) break;
  }
  throw new InventoryError('aborted', `Location "${request.id}" changed while it was being updated: retry`);
}

/** The location, or NOT_FOUND. */
export async function getLocation(deps: Pick<InventoryDeps, 'locations'>, id: string): Promise<Location> {
  const location = await deps.locations.find(id);
  if (!location) throw new InventoryError('not-found', `Location "${id}" does not exist`);
  return location;
}

/** Locations by id, filtered. */
export function listLocations(
  deps: Pick<InventoryDeps, 'locations'>,
  filter: LocationFilter,
  page: { size: number; after?: string },
): Promise<Page<Location>> {
  return deps.locations.list(filter, page);
}
