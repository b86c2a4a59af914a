import { status } from '@grpc/grpc-js';
import { OrdersServiceService, type OrdersServiceServer } from '@o2o/contracts/gen/o2o/orders/v1/orders';
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
import { cancelOrder, receiveReturn, requestReturn } from '../app/change-order';
import { placeOrder } from '../app/place-order';
import type { Deps, OrderFilter } from '../app/ports';
import { getOrder, getTimeline, listOrders } from '../app/queries';
import { isOrderError, OrderError, type OrderErrorKind } from '../domain/errors';
import {
  channelFromPb,
  int64FromPb,
  orderStatusFromPb,
  orderToPb,
  placementFromPb,
  timelineEntryToPb,
} from './proto-mapping';

/** The one table from orders error kinds to gRPC statuses. */
export const ORDERS_STATUS: StatusTable<OrderErrorKind> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  'already-exists': status.ALREADY_EXISTS,
  'failed-precondition': status.FAILED_PRECONDITION,
  aborted: status.ABORTED,
  unavailable: status.UNAVAILABLE,
  unauthenticated: status.UNAUTHENTICATED,
  'permission-denied': status.PERMISSION_DENIED,
};

/** The OrdersService implementation: maps the wire to use cases and back, nothing more. */
export function ordersGrpcService(deps: Deps & { logger: Logger; inFlight?: InFlight }): ServedService {
  const mapError = errorMapper(isOrderError, ORDERS_STATUS, deps.logger);
  // Every handler gets the caller's principal, read before anything else (a malformed one: UNAUTHENTICATED).
  const wrap = <Req, Res>(handler: (request: Req, caller: Principal | undefined) => Promise<Res>) =>
    unary<Req, Res>(
      async (request, call) =>
        handler(
          request,
          callerFrom(call.metadata, (message) => new OrderError('unauthenticated', message)),
        ),
      mapError,
      deps.inFlight,
    );

  const implementation: OrdersServiceServer = {
    placeOrder: wrap(async (req, caller) => ({
      order: orderToPb(await placeOrder(deps, placementFromPb(req), { caller })),
    })),

    getOrder: wrap(async (req, caller) => ({ order: orderToPb(await getOrder(deps, req.orderId, { caller })) })),

    listOrders: wrap(async (req, caller) => {
      const filter: OrderFilter = {};
      const violations: { field: string; description: string }[] = [];
      if (req.customerId) filter.customerId = req.customerId;
      if (req.storeId) filter.storeId = req.storeId;
      if (req.partnerId) filter.partnerId = req.partnerId;
      if (req.channel) {
        const channel = channelFromPb(req.channel);
        if (channel) filter.channel = channel;
        else violations.push({ field: 'channel', description: 'is not a known channel' });
      }
      if (req.statuses.length > 0) {
        const statuses = req.statuses.map(orderStatusFromPb);
        if (statuses.some((s) => s === undefined)) {
          violations.push({ field: 'statuses', description: 'has a status that is not known' });
        } else filter.statuses = statuses as NonNullable<OrderFilter['statuses']>;
      }
      if (req.placedAfter) filter.placedAfter = req.placedAfter;
      if (req.placedBefore) filter.placedBefore = req.placedBefore;
      const { size, after, violations: pageViolations } = readPageRequest(req.page, filter);
      violations.push(...pageViolations);
      if (violations.length > 0) throw OrderError.invalid(violations);
      const result = await listOrders(deps, filter, after ? { size, after } : { size }, { caller });
      return { orders: result.items.map(orderToPb), page: pageResponse(result.after, filter) };
    }),

    getOrderTimeline: wrap(async (req, caller) => ({
      entries: (await getTimeline(deps, req.orderId, { caller })).map(timelineEntryToPb),
    })),

    cancelOrder: wrap(async (req, caller) => {
      if (!req.requestId) throw OrderError.invalid([{ field: 'request_id', description: 'is required' }]);
      return { order: orderToPb(await cancelOrder(deps, { orderId: req.orderId, reason: req.reason }, { caller })) };
    }),

    requestReturn: wrap(async (req, caller) => {
      const lines = req.lines.map((l) => ({ skuCode: l.skuCode, quantity: int64FromPb(l.quantity) }));
      const { order, returnId } = await requestReturn(
        deps,
        { requestId: req.requestId, orderId: req.orderId, locationId: req.locationId, lines, reason: req.reason },
        { caller },
      );
      return { order: orderToPb(order), returnId };
    }),

    receiveReturn: wrap(async (req, caller) => {
      const violations = [];
      if (!req.requestId) violations.push({ field: 'request_id', description: 'is required' });
      if (!req.orderId) violations.push({ field: 'order_id', description: 'is required' });
      if (!req.returnId) violations.push({ field: 'return_id', description: 'is required' });
      if (violations.length > 0) throw OrderError.invalid(violations);
      const request = { orderId: req.orderId, returnId: req.returnId };
      return { order: orderToPb(await receiveReturn(deps, request, { caller })) };
    }),
  };

  return { name: 'o2o.orders.v1.OrdersService', definition: OrdersServiceService, implementation };
}
