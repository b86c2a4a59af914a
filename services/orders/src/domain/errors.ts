/** The closed set of ways an orders operation can fail; the gRPC adapter maps each kind to a status. */
export type OrderErrorKind =
  | 'invalid-argument'
  | 'not-found'
  | 'already-exists'
  | 'failed-precondition'
  | 'aborted'
  | 'unavailable'
  /** The caller's principal (call metadata) could not be read. */
  | 'unauthenticated'
  /** The caller's principal may not do this (e.g. place an order for another customer). */
  | 'permission-denied';

/** A field of the request at fault, named by its API path (e.g. "lines[0].quantity"). */
export interface Violation {
  field: string;
  description: string;
}

/** Every expected failure of the orders service: a kind, a human message, and the fields at fault if any. */
export class OrderError extends Error {
  override readonly name = 'OrderError';
  constructor(
    readonly kind: OrderErrorKind,
    message: string,
    readonly violations: readonly Violation[] = [],
  ) {
    super(message);
  }

  /** INVALID_ARGUMENT listing every violation found. */
  static invalid(violations: readonly Violation[]): OrderError {
    const first = violations[0];
    const summary = first ? `${first.field}: ${first.description}` : 'invalid request';
    const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
    return new OrderError('invalid-argument', `Invalid request: ${summary}${more}`, violations);
  }
}

/** Type guard used by the adapters' error table. */
export function isOrderError(error: unknown): error is OrderError {
  return error instanceof OrderError;
}
