import { type ServiceError, status } from '@grpc/grpc-js';
import { decodeFieldViolations } from '@o2o/kit-grpc';
import { HttpProblem } from './problem';

/**
 * gRPC status → HTTP status. FAILED_PRECONDITION (wrong state) and ABORTED (concurrent change) are conflicts; a
 * service's INTERNAL or UNKNOWN is a 502 from the gateway's point of view, with the service's message withheld.
 */
const HTTP_OF: Record<number, number> = {
  [status.INVALID_ARGUMENT]: 400,
  [status.OUT_OF_RANGE]: 400,
  [status.UNAUTHENTICATED]: 401,
  [status.PERMISSION_DENIED]: 403,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.ABORTED]: 409,
  [status.FAILED_PRECONDITION]: 409,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.CANCELLED]: 499,
  [status.UNIMPLEMENTED]: 501,
  [status.UNAVAILABLE]: 503,
  [status.DEADLINE_EXCEEDED]: 504,
};

/** Statuses whose message is the service's own words for the client; others get a generic detail. */
const CLIENT_FACING = new Set<number>([
  status.INVALID_ARGUMENT,
  status.OUT_OF_RANGE,
  status.PERMISSION_DENIED,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.ABORTED,
  status.FAILED_PRECONDITION,
  status.RESOURCE_EXHAUSTED,
  status.UNAUTHENTICATED,
]);

/** `lines[0].sku_code` → `lines[0].skuCode`: the proto3 JSON names the REST API uses. */
export function jsonFieldPath(field: string): string {
  return field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function isServiceError(error: unknown): error is ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServiceError>).code === 'number' &&
    'metadata' in error &&
    'details' in error
  );
}

/** Turns a service's error into the problem the client gets, keeping its field violations. */
export function problemFromGrpc(error: ServiceError, renameField: (field: string) => string = (f) => f): HttpProblem {
  const code = error.code;
  const http = HTTP_OF[code] ?? 502;
  const name = status[code] ?? 'UNKNOWN';
  const detail = CLIENT_FACING.has(code)
    ? error.details || name
    : http === 503
      ? 'a service is temporarily unavailable; retry'
      : http === 504
        ? 'a service did not answer in time'
        : 'a service failed to answer';
  const invalidParams = decodeFieldViolations(error.metadata).map((v) => ({
    name: renameField(jsonFieldPath(v.field)),
    reason: v.description,
  }));
  const headers: Record<string, string> = http === 503 || http === 429 ? { 'retry-after': '1' } : {};
  return new HttpProblem(http, detail, { invalidParams, grpcStatus: name, headers });
}
