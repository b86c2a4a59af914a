import { status } from '@grpc/grpc-js';
import type { PageRequest } from '@o2o/contracts/gen/o2o/common/v1/paging';
import { DeliveryServiceService, type DeliveryServiceServer } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
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
import { getCourier, registerCourier, setCourierAvailability } from '../app/courier-commands';
import type { Deps } from '../app/ports';
import { getFulfilment, listFulfilments } from '../app/queries';
import {
  acceptAssignment,
  confirmCollection,
  confirmDelivery,
  declineAssignment,
  reportDeliveryFailure,
  startDelivery,
} from '../app/shipment-commands';
import { acceptTask, getHandoverCode, markPicked, markReady, verifyPickup } from '../app/task-commands';
import type { StoredTracking } from '../app/tracking-ports';
import { DeliveryError, type DeliveryErrorKind, isDeliveryError } from '../domain/errors';
import type { FulfilmentState, TaskStatus } from '../domain/types';
import { courierToPb, fulfilmentToPb, TASK_STATUS_FROM_PB, VEHICLE_FROM_PB } from './proto-mapping';

/** The one table from delivery error kinds to gRPC statuses. */
export const DELIVERY_STATUS: StatusTable<DeliveryErrorKind> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  'failed-precondition': status.FAILED_PRECONDITION,
  'permission-denied': status.PERMISSION_DENIED,
  'resource-exhausted': status.RESOURCE_EXHAUSTED,
  aborted: status.ABORTED,
  unavailable: status.UNAVAILABLE,
};

/** The streaming half of the service (live tracking), built by the tracking adapter. */
export type TrackingHandlers = Pick<DeliveryServiceServer, 'reportPositions' | 'watchShipment'>;

/** The DeliveryService implementation: maps the wire to use cases and back, nothing more. */
export function deliveryGrpcService(
  deps: Deps & {
    logger: Logger;
    inFlight?: InFlight;
    tracking: TrackingHandlers;
    /** The stored tracking snapshot of a shipment, shown with its fulfilment. */
    storedTracking(shipmentId: string): Promise<StoredTracking | undefined>;
  },
): ServedService {
  const mapError = errorMapper(isDeliveryError, DELIVERY_STATUS, deps.logger);
  const wrap = <Req, Res>(handler: (request: Req) => Promise<Res>) => unary(handler, mapError, deps.inFlight);
  // The live position is stored beside the fulfilment; only a shipment a courier took has one to read.
  const view = async (state: FulfilmentState) => {
    const tracking = state.shipment?.courierId ? await deps.storedTracking(state.shipment.id) : undefined;
    return fulfilmentToPb(state, tracking);
  };
  const answer = async (state: FulfilmentState) => ({ fulfilment: await view(state) });

  const implementation: DeliveryServiceServer = {
    getFulfilment: wrap(async (req) => answer(await getFulfilment(deps, req))),

    listFulfilments: wrap(async (req) => {
      const statuses: TaskStatus[] = [];
      req.taskStatuses.forEach((s, i) => {
        const known = TASK_STATUS_FROM_PB[s];
        if (!known) {
          throw DeliveryError.invalid([{ field: `task_statuses[${i}]`, description: 'must be a known task status' }]);
        }
        statuses.push(known);
      });
      const filter = { locationId: req.locationId, statuses };
      const page = readPage(req.page, filter);
      const result = await listFulfilments(deps, { ...filter, page });
      return {
        // A work queue, not a tracking view: no per-item position read (GetFulfilment and WatchShipment have it).
        fulfilments: result.items.map((state) => fulfilmentToPb(state)),
        page: pageResponse(result.after, filter),
      };
    }),

    acceptTask: wrap(async (req) => answer(await acceptTask(deps, req))),
    markPicked: wrap(async (req) => answer(await markPicked(deps, req))),
    markReady: wrap(async (req) => answer(await markReady(deps, req))),

    getHandoverCode: wrap(async (req) => {
      const code = await getHandoverCode(deps, req);
      return { code: code.code, qrPayload: code.qrPayload, expireTime: code.expiresAt };
    }),

    verifyPickup: wrap(async (req) => answer(await verifyPickup(deps, req))),

    registerCourier: wrap(async (req) => {
      const vehicle = VEHICLE_FROM_PB[req.vehicle];
      return { courier: courierToPb(await registerCourier(deps, { ...req, vehicle })) };
    }),

    getCourier: wrap(async (req) => {
      const { courier, offers } = await getCourier(deps, req);
      return { courier: courierToPb(courier), offers: await Promise.all(offers.map(view)) };
    }),

    setCourierAvailability: wrap(async (req) => {
      const point = req.point && { latitude: req.point.latitude, longitude: req.point.longitude };
      const courier = await setCourierAvailability(deps, {
        courierId: req.courierId,
        available: req.available,
        ...(point ? { point } : {}),
      });
      return { courier: courierToPb(courier) };
    }),

    acceptAssignment: wrap(async (req) => answer(await acceptAssignment(deps, req))),
    declineAssignment: wrap(async (req) => answer(await declineAssignment(deps, req))),
    confirmCollection: wrap(async (req) => answer(await confirmCollection(deps, req))),
    startDelivery: wrap(async (req) => answer(await startDelivery(deps, req))),
    confirmDelivery: wrap(async (req) => answer(await confirmDelivery(deps, req))),
    reportDeliveryFailure: wrap(async (req) => answer(await reportDeliveryFailure(deps, req))),

    reportPositions: deps.tracking.reportPositions,
    watchShipment: deps.tracking.watchShipment,
  };

  return { name: 'o2o.delivery.v1.DeliveryService', definition: DeliveryServiceService, implementation };
}

function readPage(page: PageRequest | undefined, filters: unknown): { size: number; after?: string } {
  const { size, after, violations } = readPageRequest(page, filters);
  if (violations.length > 0) throw DeliveryError.invalid(violations);
  return after === undefined ? { size } : { size, after };
}
