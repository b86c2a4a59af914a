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
    // Unknown errors (bugs, raw driver errors) never reach the client as they are: generic INTERNAL, logged in full.
    logger.error({ err: error }, 'unexpected error in RPC handler');
    return { code: status.INTERNAL, details: 'Internal error' };
  };
}
