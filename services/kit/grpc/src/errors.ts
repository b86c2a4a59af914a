import { type ServiceError, status } from '@grpc/grpc-js';
import type { Logger } from '@o2o/kit-log';
import { badRequestMetadata, type FieldViolation } from './rich-status';

/** The shape every service's own error class has: a kind from its closed set, a message, optional field violations. */
export interface KindedError<K extends string> {
  kind: K;
  message: string;
  violations?: readonly FieldViolation[];
}

/** A service's exhaustive table from its error kinds to gRPC statuses: a missing row is a compile error. */
export type StatusTable<K extends string> = Record<K, status>;

/** Makes the `(error) => ServiceError` mapper that unary() uses, from the service's error guard and status table. */
export function errorMapper<K extends string>(
  isKnown: (error: unknown) => error is KindedError<K>,
  table: StatusTable<K>,
  logger: Logger,
): (error: unknown) => Partial<ServiceError> {
  return (error) => {
    if (isKnown(error)) {
      const code = table[error.kind];
      const details = bounded(error.message, MAX_DETAILS_CHARS);
      const violations = (error.violations ?? []).slice(0, MAX_VIOLATIONS).map((v) => ({
        field: bounded(v.field, MAX_FIELD_CHARS),
        description: bounded(v.description, MAX_DETAILS_CHARS),
      }));
      return {
        code,
        details,
        metadata: violations.length > 0 ? badRequestMetadata(code, details, violations) : undefined,
      };
    }
    if (isDependencyUnavailable(error)) {
      // The database or broker is unreachable: the call may succeed later, so the client should retry.
      logger.warn({ err: error }, 'a dependency is unavailable');
      return { code: status.UNAVAILABLE, details: 'A backing service is unavailable; retry later' };
    }
    // Unknown errors (bugs, raw driver errors) never reach the client as they are: generic INTERNAL, logged in full.
    logger.error({ err: error }, 'unexpected error in RPC handler');
    return { code: status.INTERNAL, details: 'Internal error' };
  };
}

// Messages often quote what the caller sent (`Hold "…" does not exist`), and they travel in the trailers (grpc-message,
// grpc-status-details-bin), where a client refuses headers past its limit (64 KiB in Node) by resetting the whole
// connection: a megabyte-long id would fail every call on it with INTERNAL. So the text is bounded, whatever was sent.
const MAX_DETAILS_CHARS = 500;
const MAX_FIELD_CHARS = 200;
const MAX_VIOLATIONS = 20;

function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

// Driver errors that mean "cannot reach the server" (by name, so the kit needs no driver import): the MongoDB
// driver's network, selection, pool and not-connected errors, and kafkajs's connection errors.
const UNAVAILABLE_ERRORS = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoPoolClosedError',
  'MongoPoolClearedError',
  'MongoTopologyClosedError',
  'KafkaJSConnectionError',
  'KafkaJSNumberOfRetriesExceeded',
]);

/** True for an error that says a database or broker could not be reached (retryable), not a bug. */
export function isDependencyUnavailable(error: unknown): boolean {
  return error instanceof Error && UNAVAILABLE_ERRORS.has(error.name);
}
