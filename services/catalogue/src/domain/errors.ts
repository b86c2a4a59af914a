/** The closed set of ways a catalogue operation can fail; adapters map each kind to a transport status. */
export type CatalogueErrorKind =
  'invalid-argument' | 'not-found' | 'already-exists' | 'failed-precondition' | 'aborted' | 'unavailable';

/** A field of the request at fault, named by its API path (e.g. "product.skus[0].code"). */
export interface Violation {
  field: string;
  description: string;
}

/** Every expected failure of the catalogue: a kind, a human message, and the fields at fault if any. */
export class CatalogueError extends Error {
  override readonly name = 'CatalogueError';
  constructor(
    readonly kind: CatalogueErrorKind,
    message: string,
    readonly violations: readonly Violation[] = [],
  ) {
    super(message);
  }

  /** INVALID_ARGUMENT listing every violation found. */
  static invalid(violations: readonly Violation[]): CatalogueError {
    const first = violations[0];
    const summary = first ? `${first.field}: ${first.description}` : 'invalid request';
    const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
    return new CatalogueError('invalid-argument', `Invalid request: ${summary}${more}`, violations);
  }
}

/** Type guard used by the adapters' error tables. */
export function isCatalogueError(error: unknown): error is CatalogueError {
  return error instanceof CatalogueError;
}
