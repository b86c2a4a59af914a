import { status } from '@grpc/grpc-js';
import type { PageRequest } from '@o2o/contracts/gen/o2o/common/v1/paging';
import { PaymentsServiceService, type PaymentsServiceServer } from '@o2o/contracts/gen/o2o/payments/v1/payments';
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
import { authorizePayment } from '../app/authorize-payment';
import { capturePayment, type OperationResult, refundPayment, voidPayment } from '../app/change-payment';
import type { Deps } from '../app/ports';
import { getPayment, listPayments } from '../app/queries';
import { reconcilePayment } from '../app/wallet-outcome';
import { isPaymentError, PaymentError, type PaymentErrorKind } from '../domain/errors';
import { authorizeInputFromPb, entryToPb, MappingViolations, moneyFromPb, paymentToPb } from './proto-mapping';

/** The one table from payments error kinds to gRPC statuses. */
export const PAYMENTS_STATUS: StatusTable<PaymentErrorKind> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  'failed-precondition': status.FAILED_PRECONDITION,
  aborted: status.ABORTED,
  unavailable: status.UNAVAILABLE,
  'resource-exhausted': status.RESOURCE_EXHAUSTED,
  unauthenticated: status.UNAUTHENTICATED,
  'permission-denied': status.PERMISSION_DENIED,
};

/** The PaymentsService implementation: maps the wire to use cases and back, nothing more. */
export function paymentsGrpcService(
  deps: Deps & {
    logger: Logger;
    inFlight?: InFlight;
    /** Called after every successful write of a payment, to wake the outbox relay at once and point it there. */
    afterWrite?: (paymentId: string) => void;
  },
): ServedService {
  const mapError = errorMapper(isPaymentError, PAYMENTS_STATUS, deps.logger);
  // Every handler gets the caller's principal, read before anything else (a malformed one: UNAUTHENTICATED).
  const wrap = <Req, Res>(handler: (request: Req, caller: Principal | undefined) => Promise<Res>) =>
    unary<Req, Res>(
      async (request, call) =>
        handler(
          request,
          callerFrom(call.metadata, (message) => new PaymentError('unauthenticated', message)),
        ),
      mapError,
      deps.inFlight,
    );
  const operated = (result: OperationResult) => {
    deps.afterWrite?.(result.payment.id);
    return { payment: paymentToPb(result.payment), entry: result.entry && entryToPb(result.entry) };
  };

  const implementation: PaymentsServiceServer = {
    authorizePayment: wrap(async (req, caller) => {
      const v = new MappingViolations();
      const input = authorizeInputFromPb(req, v);
      v.check();
      const payment = await authorizePayment(deps, { ...input, idempotencyKey: req.idempotencyKey }, { caller });
      deps.afterWrite?.(payment.id);
      return { payment: paymentToPb(payment) };
    }),

    capturePayment: wrap(async (req, caller) => {
      const v = new MappingViolations();
      const amount = moneyFromPb(req.amount, 'amount', v);
      v.check();
      const request = { idempotencyKey: req.idempotencyKey, paymentId: req.paymentId, amount };
      return operated(await capturePayment(deps, request, { caller }));
    }),

    voidPayment: wrap(async (req, caller) => {
      const request = { idempotencyKey: req.idempotencyKey, paymentId: req.paymentId, reason: req.reason };
      return operated(await voidPayment(deps, request, { caller }));
    }),

    refundPayment: wrap(async (req, caller) => {
      const v = new MappingViolations();
      const amount = moneyFromPb(req.amount, 'amount', v);
      v.check();
      const request = { idempotencyKey: req.idempotencyKey, paymentId: req.paymentId, amount, reason: req.reason };
      return operated(await refundPayment(deps, request, { caller }));
    }),

    getPayment: wrap(async (req, caller) => ({
      payment: paymentToPb(await getPayment(deps, req.paymentId, { caller })),
    })),

    listPayments: wrap(async (req, caller) => {
      const filter = { orderId: req.orderId };
      const page = readPage(req.page, filter);
      const result = await listPayments(deps, req.orderId, page, { caller });
      return {
        payments: result.items.map(paymentToPb),
        page: {
          ...pageResponse(result.after, filter),
        },
      };
    }),

    reconcilePayment: wrap(async (req, caller) => {
      const payment = await reconcilePayment(deps, req.paymentId, { caller });
      deps.afterWrite?.(payment.id);
      return { payment: paymentToPb(payment) };
    }),
  };

  return { name: 'o2o.payments.v1.PaymentsService', definition: PaymentsServiceService, implementation };
}

function readPage(page: PageRequest | undefined, filters: unknown): { size: number; after?: string } {
  const { size, after, violations } = readPageRequest(page, filters);
  if (violations.length > 0) throw PaymentError.invalid(violations);
  return { size, after };
}
