import { type Metadata, status } from '@grpc/grpc-js';
import type { PageRequest } from '@o2o/contracts/gen/o2o/common/v1/paging';
import { DeliveryServiceService, type DeliveryServiceServer } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import {
  callerFrom,
  errorMapper,
  type InFlight,
  pageResponse,
  type Principal,
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
  unauthenticated: status.UNAUTHENTICATED,
};

/** The caller's principal from call metadata; a malformed one is refused as UNAUTHENTICATED before anything runs. */
export function deliveryCaller(metadata: Metadata): Principal | undefined {
  return callerFrom(metadata, (message) => new DeliveryError('unauthenticated', message));
}

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
  // Every handler gets the caller's principal, read before anything else.
  const wrap = <Req, Res>(handler: (request: Req, caller: Principal | undefined) => Promise<Res>) =>
    unary<Req, Res>(async (request, call) => handler(request, deliveryCaller(call.metadata)), mapError, deps.inFlight);
  // The live position is stored beside the fulfilment; only a shipment a courier took has one to read.
  const view = async (state: FulfilmentState) => {
    const tracking = state.shipment?.courierId ? await deps.storedTracking(state.shipment.id) : undefined;
    return fulfilmentToPb(state, tracking);
  };
  const answer = async (state: FulfilmentState) => ({ fulfilment: await view(state) });

  const implementation: DeliveryServiceServer = {
    getFulfilment: wrap(async (req, caller) => answer(await getFulfilment(deps, req, { caller }))),

    listFulfilments: wrap(async (req, caller) => {
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
      const result = await listFulfilments(deps, { ...filter, page }, { caller });
      return {
        // A work queue, not a tracking view: no per-item position read (GetFulfilment and WatchShipment have it).
        fulfilments: result.items.map((state) => fulfilmentToPb(state)),
        page: pageResponse(result.after, filter),
      };
    }),

    acceptTask: wrap(async (req, caller) => answer(await acceptTask(deps, req, { caller }))),
    markPicked: wrap(async (req, caller) => answer(await markPicked(deps, req, { caller }))),
    markReady: wrap(async (req, caller) => answer(await markReady(deps, req, { caller }))),

    getHandoverCode: wrap(async (req, caller) => {
      const code = await getHandoverCode(deps, req, { caller });
      return { code: code.code, qrPayload: code.qrPayload, expireTime: code.expiresAt };
    }),

    verifyPickup: wrap(async (req, caller) => answer(await verifyPickup(deps, req, { caller }))),

    registerCourier: wrap(async (req, caller) => {
      const vehicle = VEHICLE_FROM_PB[req.vehicle];
      return { courier: courierToPb(await registerCourier(deps, { ...req, vehicle }, { caller })) };
    }),

    getCourier: wrap(async (req, caller) => {
      const { courier, offers } = await getCourier(deps, req, { caller });
      return { courier: courierToPb(courier), offers: await Promise.all(offers.map(view)) };
    }),

    setCourierAvailability: wrap(async (req, caller) => {
      const point = req.point && { latitude: req.point.latitude, longitude: req.point.longitude };
      const courier = await setCourierAvailability(
        deps,
        {
          courierId: req.courierId,
          available: req.available,
          ...(point ? { point } : {}),
        },
        { caller },
      );
      return { courier: courierToPb(courier) };
    }),

    acceptAssignment: wrap(async (req, caller) => answer(await acceptAssignment(deps, req, { caller }))),
    declineAssignment: wrap(async (req, caller) => answer(await declineAssignment(deps, req, { caller }))),
    confirmCollection: wrap(async (req, caller) => answer(await confirmCollection(deps, req, { caller }))),
    startDelivery: wrap(async (req, caller) => answer(await startDelivery(deps, req, { caller }))),
    confirmDelivery: wrap(async (req, caller) => answer(await confirmDelivery(deps, req, { caller }))),
    reportDeliveryFailure: wrap(async (req, caller) => answer(await reportDeliveryFailure(deps, req, { caller }))),

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
