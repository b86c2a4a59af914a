/** The closed set of ways an inventory operation can fail; adapters map each kind to a transport status. */
export type InventoryErrorKind =
  'invalid-argument' | 'not-found' | 'already-exists' | 'failed-precondition' | 'aborted' | 'unavailable';

/** A field of the request at fault, named by its API path (e.g. "lines[2].quantity"). */
export interface Violation {
  field: string;
  description: string;
}

/** Every expected failure of inventory: a kind, a human message, and the fields at fault if any. */
export class InventoryError extends Error {
  override readonly name = 'InventoryError';
  constructor(
    readonly kind: InventoryErrorKind,
    message: string,
    readonly violations: readonly Violation[] = [],
  ) {
    super(message);
  }

  /** INVALID_ARGUMENT listing every violation found. */
  static invalid(violations: readonly Violation[]): InventoryError {
    const first = violations[0];
    const summary = first ? `${first.field}: ${first.description}` : 'invalid request';
    const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
    return new InventoryError('invalid-argument', `Invalid request: ${summary}${more}`, violations);
  }
}

/** Type guard used by the adapters' error table. */
export function isInventoryError(error: unknown): error is InventoryError {
  return error instanceof InventoryError;
}

/** Collects violations while a request is read, then throws them all at once. */
export class Violations {
  readonly list: Violation[] = [];
  add(field: string, description: string): void {
    this.list.push({ field, description });
  }
  /** Throws INVALID_ARGUMENT if anything was added. */
  check(): void {
    if (this.list.length > 0) throw InventoryError.invalid(this.list);
  }
}

/** Codes of SKUs and locations: 1..64 of A-Z a-z 0-9 . _ - (never "@", which joins them in stock ids). */
export const CODE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Client keys (request ids, hold ids, owner ids): 1..128 of A-Z a-z 0-9 . _ : - */
export const KEY_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Adds a violation unless `value` matches `pattern`. */
export function checkPattern(v: Violations, field: string, value: string, pattern: RegExp, what: string): void {
  if (!pattern.test(value)) v.add(field, value === '' ? 'is required' : `must be ${what}`);
}
