import { status } from '@grpc/grpc-js';
import type { PageRequest } from '@o2o/contracts/gen/o2o/common/v1/paging';
import {
  InventoryServiceService,
  type InventoryServiceServer,
  type ListLocationsResponse,
} from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import {
  errorMapper,
  type InFlight,
  pageResponse,
  readPageRequest,
  type ServedService,
  type StatusTable,
  unary,
} from '@o2o/kit-grpc';
import type { Logger } from '@o2o/kit-log';
import { findNearbyStock, getAvailability, planFulfilmentFor } from '../app/availability';
import { commitHold, extendHold, getHold, releaseHold } from '../app/hold-lifecycle';
import { createLocation, getLocation, listLocations, updateLocation } from '../app/locations';
import type { InventoryDeps } from '../app/ports';
import { reserve } from '../app/reserve';
import { adjustStock, getStock, setStockPolicy } from '../app/stock-changes';
import {
  checkPattern,
  CODE_PATTERN,
  InventoryError,
  type InventoryErrorKind,
  isInventoryError,
  Violations,
} from '../domain/errors';
import { checkLocationInput } from '../domain/location';
import { stockId } from '../domain/stock';
import { MAX_HOLD_LINES } from '../domain/hold';
import {
  capabilityFromPb,
  fulfilmentTypeFromPb,
  holdLinesFromPb,
  holdToPb,
  int64FromPb,
  itemsFromPb,
  itemsToPb,
  locationFilterFromPb,
  locationInputFromPb,
  locationStatusToPb,
  locationToPb,
  planToPb,
  pointFromPb,
  reasonFromPb,
  stockToPb,
} from './proto-mapping';

/** The one table from inventory error kinds to gRPC statuses. */
export const INVENTORY_STATUS: StatusTable<InventoryErrorKind> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  'already-exists': status.ALREADY_EXISTS,
  'failed-precondition': status.FAILED_PRECONDITION,
  aborted: status.ABORTED,
  unavailable: status.UNAVAILABLE,
};

/** The documents a call wrote, by collection. */
export interface WrittenDocuments {
  holds?: string[];
  stock?: string[];
}

// A hold's own document and the stock records of its lines (a hold can also write StockLow to those).
function holdDocuments(hold: { id: string; lines: { skuCode: string; locationId: string }[] }): WrittenDocuments {
  return { holds: [hold.id], stock: hold.lines.map((l) => stockId(l.skuCode, l.locationId)) };
}

/** The InventoryService implementation: maps the wire to use cases and back, nothing more. */
export function inventoryGrpcService(
  deps: InventoryDeps & {
    logger: Logger;
    inFlight?: InFlight;
    /**
     * Called after every write, to wake the outbox relays at once; naming the documents written (hold ids, stock ids
     * `<sku>@<location>`) lets the relays read just those instead of scanning.
     */
    afterWrite?: (written?: WrittenDocuments) => void;
  },
): ServedService {
  const mapError = errorMapper(isInventoryError, INVENTORY_STATUS, deps.logger);
  const wrap = <Req, Res>(handler: (request: Req) => Promise<Res>) => unary(handler, mapError, deps.inFlight);
  const writing = async <T>(work: () => Promise<T>, documents: (result: T) => WrittenDocuments): Promise<T> => {
    try {
      const result = await work();
      deps.afterWrite?.(documents(result));
      return result;
    } catch (error) {
      deps.afterWrite?.(); // a failed hold may still have stored events or settled lines
      throw error;
    }
  };

  const implementation: InventoryServiceServer = {
    createLocation: wrap(async (req) => {
      const v = new Violations();
      const input = locationInputFromPb(req.location, 'location', v);
      checkPattern(v, 'location_id', req.locationId, CODE_PATTERN, '1..64 of A-Z a-z 0-9 . _ -');
      checkLocationInput(input, 'location', v);
      v.check();
      return { location: locationToPb(await createLocation(deps, req.locationId, input)) };
    }),

    updateLocation: wrap(async (req) => {
      const v = new Violations();
      const input = locationInputFromPb(req.location, 'location', v);
      checkLocationInput(input, 'location', v);
      const expectedVersion = int64FromPb(req.expectedVersion, 'expected_version', v);
      v.check();
      const location = await updateLocation(deps, { id: req.locationId, input, expectedVersion });
      return { location: locationToPb(location) };
    }),

    getLocation: wrap(async (req) => ({ location: locationToPb(await getLocation(deps, req.locationId)) })),

    listLocations: wrap(async (req): Promise<ListLocationsResponse> => {
      const v = new Violations();
      const filter = locationFilterFromPb(req, v);
      v.check();
      const page = readPage(req.page, filter);
      const result = await listLocations(deps, filter, page);
      return {
        locations: result.items.map(locationToPb),
        page: {
          ...pageResponse(result.after, filter),
        },
      };
    }),

    adjustStock: wrap(async (req) => {
      const v = new Violations();
      const reason = reasonFromPb(req.reason, v);
      const quantity = int64FromPb(req.quantity, 'quantity', v);
      v.check();
      const result = await writing(
        () =>
          adjustStock(deps, {
            requestId: req.requestId,
            skuCode: req.skuCode,
            locationId: req.locationId,
            reason,
            quantity,
            note: req.note,
          }),
        () => ({ stock: [stockId(req.skuCode, req.locationId)] }),
      );
      return { stock: stockToPb(result.stock), applied: result.applied };
    }),

    setStockPolicy: wrap(async (req) => {
      const v = new Violations();
      const safetyStock = int64FromPb(req.safetyStock, 'safety_stock', v);
      const lowStockThreshold = int64FromPb(req.lowStockThreshold, 'low_stock_threshold', v);
      v.check();
      const stock = await writing(
        () =>
          setStockPolicy(deps, {
            requestId: req.requestId,
            skuCode: req.skuCode,
            locationId: req.locationId,
            safetyStock,
            lowStockThreshold,
          }),
        () => ({ stock: [stockId(req.skuCode, req.locationId)] }),
      );
      return { stock: stockToPb(stock) };
    }),

    getStock: wrap(async (req) => ({ stock: stockToPb(await getStock(deps, req.skuCode, req.locationId)) })),

    reserve: wrap(async (req) => {
      const v = new Violations();
      if (req.lines.length > MAX_HOLD_LINES) {
        v.add('lines', `must have at most ${MAX_HOLD_LINES} lines (got ${req.lines.length})`);
      }
      v.check();
      const lines = holdLinesFromPb(req.lines, v);
      v.check();
      const hold = await writing(
        () => reserve(deps, { holdId: req.holdId, ownerId: req.ownerId, lines, expiresAt: req.expireTime }),
        holdDocuments,
      );
      return { hold: holdToPb(hold) };
    }),

    releaseHold: wrap(async (req) => ({
      hold: holdToPb(await writing(() => releaseHold(deps, req.holdId, req.reason), holdDocuments)),
    })),

    commitHold: wrap(async (req) => ({
      hold: holdToPb(await writing(() => commitHold(deps, req.holdId), holdDocuments)),
    })),

    extendHold: wrap(async (req) => {
      if (!req.expireTime) throw InventoryError.invalid([{ field: 'expire_time', description: 'is required' }]);
      const expireTime = req.expireTime;
      return { hold: holdToPb(await writing(() => extendHold(deps, req.holdId, expireTime), holdDocuments)) };
    }),

    getHold: wrap(async (req) => ({ hold: holdToPb(await getHold(deps, req.holdId)) })),

    getAvailability: wrap(async (req) => {
      const skus = await getAvailability(deps, req.skuCodes, req.locationIds);
      return {
        skus: skus.map((s) => ({
          skuCode: s.skuCode,
          networkAvailable: String(s.networkAvailable),
          locations: s.locations.map((l) => ({
            locationId: l.location.id,
            locationStatus: locationStatusToPb(l.location.status),
            onHand: String(l.stock.onHand),
            held: String(l.stock.held),
            available: String(l.available),
          })),
        })),
      };
    }),

    findNearbyStock: wrap(async (req) => {
      const v = new Violations();
      const items = itemsFromPb(req.items, v);
      const point = pointFromPb(req.point, 'point', v);
      const capability = capabilityFromPb(req.requiredCapability, v);
      v.check();
      const found = await findNearbyStock(deps, { items, point, radiusM: req.radiusM, limit: req.limit, capability });
      return {
        locations: found.map((f) => ({
          location: locationToPb(f.location),
          distanceM: String(f.distanceM),
          available: itemsToPb(f.available),
        })),
      };
    }),

    planFulfilment: wrap(async (req) => {
      const v = new Violations();
      const items = itemsFromPb(req.items, v);
      const type = fulfilmentTypeFromPb(req.fulfilmentType, v);
      const deliveryPoint = req.deliveryPoint ? pointFromPb(req.deliveryPoint, 'delivery_point', v) : undefined;
      v.check();
      const plan = await planFulfilmentFor(deps, {
        items,
        type,
        deliveryPoint,
        storeLocationId: req.storeLocationId || undefined,
        maxDistanceM: req.maxDistanceM,
        excludeLocationIds: req.excludeLocationIds,
      });
      return planToPb(plan);
    }),
  };

  return { name: 'o2o.inventory.v1.InventoryService', definition: InventoryServiceService, implementation };
}

function readPage(page: PageRequest | undefined, filters: unknown): { size: number; after?: string } {
  const { size, after, violations } = readPageRequest(page, filters);
  if (violations.length > 0) throw InventoryError.invalid(violations);
  return { size, after };
}
