/** The closed set of ways a payments operation can fail; adapters map each kind to a transport status. */
export type PaymentErrorKind =
  | 'invalid-argument'
  | 'not-found'
  | 'failed-precondition'
  | 'aborted'
  | 'unavailable'
  | 'resource-exhausted'
  /** The caller's principal (call metadata) could not be read. */
  | 'unauthenticated'
  /** The caller's principal may not do this (money moves only on the orders saga's internal calls). */
  | 'permission-denied';

/** A field of the request at fault, named by its API path (e.g. "amount.amount_minor"). */
export interface Violation {
  field: string;
  description: string;
}

/** Every expected failure of the payments service: a kind, a human message, and the fields at fault if any. */
export class PaymentError extends Error {
  override readonly name = 'PaymentError';
  constructor(
    readonly kind: PaymentErrorKind,
    message: string,
    readonly violations: readonly Violation[] = [],
  ) {
    super(message);
  }

  /** INVALID_ARGUMENT listing every violation found. */
  static invalid(violations: readonly Violation[]): PaymentError {
    const first = violations[0];
    const summary = first ? `${first.field}: ${first.description}` : 'invalid request';
    const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
    return new PaymentError('invalid-argument', `Invalid request: ${summary}${more}`, violations);
  }
}

/** Type guard used by the adapters' error tables. */
export function isPaymentError(error: unknown): error is PaymentError {
  return error instanceof PaymentError;
}
