import type { handleUnaryCall, sendUnaryData, ServerUnaryCall, ServiceError } from '@grpc/grpc-js';

/** An async unary handler: return the response or throw. */
export type AsyncUnary<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>;

/** Counts in-flight calls so a graceful shutdown can report how many it waited for. */
export interface InFlight {
  count: number;
}

/**
 * Turns an async handler into a grpc-js callback handler that calls back exactly once, mapping any thrown error
 * with the service's mapper (so raw library errors never become bogus statuses).
 */
export function unary<Req, Res>(
  handler: AsyncUnary<Req, Res>,
  mapError: (error: unknown) => Partial<ServiceError>,
  inFlight?: InFlight,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    let answered = false;
    const answer = (error: Partial<ServiceError> | null, response?: Res) => {
      if (answered) return;
      answered = true;
      if (inFlight) inFlight.count -= 1;
      if (error) callback(error, null);
      else callback(null, response);
    };
    if (inFlight) inFlight.count += 1;
    let pending: Promise<Res>;
    try {
      pending = handler(call.request, call);
    } catch (error) {
      answer(mapError(error));
      return;
    }
    pending.then(
      (response) => answer(null, response),
      (error: unknown) => answer(mapError(error)),
    );
  };
}
