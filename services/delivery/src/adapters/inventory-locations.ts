// Where locations are, read from inventory (which owns them) and cached: a location's point does not move.
import { type ServiceError, status } from '@grpc/grpc-js';
import { InventoryServiceClient, InventoryServiceService } from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { asyncClient, channelCredentials, channelOptions } from '@o2o/kit-grpc';
import type { LocationDirectory } from '../app/ports';
import { DeliveryError } from '../domain/errors';
import type { GeoPoint } from '../domain/types';

/** The location directory over gRPC (round robin over a dns:/// name's addresses), and close() for its channel. */
export function inventoryLocations(options: {
  address: string;
  deadlineMs: number;
}): LocationDirectory & { close(): void } {
  const raw = new InventoryServiceClient(options.address, channelCredentials(), channelOptions());
  const client = asyncClient(raw, InventoryServiceService);
  const cache = new Map<string, GeoPoint>();
  return {
    async pointOf(locationId) {
      const known = cache.get(locationId);
      if (known) return known;
      try {
        const { location } = await client.getLocation({ locationId }, { deadlineMs: options.deadlineMs });
        if (!location?.point) throw new Error(`Malformed answer: location "${locationId}" has no point`);
        const point = { latitude: location.point.latitude, longitude: location.point.longitude };
        cache.set(locationId, point);
        return point;
      } catch (error) {
        const code = (error as Partial<ServiceError>).code;
        if (code === status.NOT_FOUND) {
          throw new DeliveryError('not-found', `Location "${locationId}" is not known to inventory`);
        }
        if (typeof code === 'number') {
          throw new DeliveryError(
            'unavailable',
            `Inventory could not say where location "${locationId}" is: ${status[code]}`,
          );
        }
        throw error;
      }
    },
    close: () => raw.close(),
  };
}
