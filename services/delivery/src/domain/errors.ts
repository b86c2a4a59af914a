/** The closed set of ways a delivery operation can fail; adapters map each kind to a transport status. */
export type DeliveryErrorKind =
  | 'invalid-argument'
  | 'not-found'
  | 'failed-precondition'
  | 'permission-denied'
  | 'resource-exhausted'
  | 'aborted'
  | 'unavailable'
  /** The caller's principal (call metadata) could not be read. */
  | 'unauthenticated';

/** A field of the request at fault, named by its API path (e.g. "point.latitude"). */
export interface Violation {
  field: string;
  description: string;
}

/** Every expected failure of the delivery service: a kind, a human message, and the fields at fault if any. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    readonly kind: DeliveryErrorKind,
    message: string,
    readonly violations: readonly Violation[] = [],
  ) {
    super(message);
  }

  /** INVALID_ARGUMENT listing every violation found. */
  static invalid(violations: readonly Violation[]): DeliveryError {
    const first = violations[0];
    const summary = first ? `${first.field}: ${first.description}` : 'invalid request';
    const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
    return new DeliveryError('invalid-argument', `Invalid request: ${summary}${more}`, violations);
  }
}

/** Type guard used by the adapters' error tables. */
export function isDeliveryError(error: unknown): error is DeliveryError {
  return error instanceof DeliveryError;
}
