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
      const violations = error.violations ?? [];
      return {
        code,
        details: error.message,
        metadata: violations.length > 0 ? badRequestMetadata(code, error.message, [...violations]) : undefined,
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
