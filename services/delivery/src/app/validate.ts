// Request checks shared by the use cases: every field at fault is named with its API path.
import { DeliveryError, type Violation } from '../domain/errors';

const ID = /^[\x21-\x7e]{1,128}$/;

/** Collects violations, then throws INVALID_ARGUMENT listing all of them. */
export class Checks {
  private readonly violations: Violation[] = [];

  /** An opaque id: 1..128 printable ASCII characters without spaces. */
  id(field: string, value: string): this {
    if (!ID.test(value)) this.violations.push({ field, description: 'must be 1..128 printable characters, no spaces' });
    return this;
  }

  /** An optional id: empty, or as id(). */
  optionalId(field: string, value: string): this {
    return value === '' ? this : this.id(field, value);
  }

  /** Text of 1..max characters. */
  text(field: string, value: string, max: number): this {
    if (value.trim().length === 0 || value.length > max) {
      this.violations.push({ field, description: `must be 1..${max} characters` });
    }
    return this;
  }

  /** A six-digit code. */
  code(field: string, value: string): this {
    if (!/^\d{6}$/.test(value)) this.violations.push({ field, description: 'must be 6 digits' });
    return this;
  }

  /** Adds a violation when `ok` is false. */
  that(ok: boolean, field: string, description: string): this {
    if (!ok) this.violations.push({ field, description });
    return this;
  }

  /** Throws when anything was wrong. */
  done(): void {
    if (this.violations.length > 0) throw DeliveryError.invalid(this.violations);
  }
}

/** Starts a set of checks. */
export function checks(): Checks {
  return new Checks();
}
