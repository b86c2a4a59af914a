import { PaymentError } from '../domain/errors';
import type { Money } from '../domain/money';

type Movement = 'capture' | 'release' | 'refund';

interface Account {
  currency: string;
  authorized: number;
  captured: number;
  released: number;
  refunded: number;
}

/**
 * A simulated provider's own books: per provider reference what may still be captured, released or refunded, and
 * every operation key it has seen. Like a real gateway it refuses over-capture and over-refund by itself and answers
 * a repeated key as the first time, so the payments service can call it before writing its own state.
 */
export class SimulatedAccounts {
  private readonly accounts = new Map<string, Account>();
  private readonly seen = new Map<string, string>();

  /** Opens the books of an authorised payment. */
  open(reference: string, amount: Money): void {
    if (!this.accounts.has(reference)) {
      this.accounts.set(reference, {
        currency: amount.currency,
        authorized: amount.amountMinor,
        captured: 0,
        released: 0,
        refunded: 0,
      });
    }
  }

  /** Applies one movement, once per key. */
  move(kind: Movement, request: { key: string; reference: string; amount: Money }): void {
    const fingerprint = `${kind}:${request.reference}:${request.amount.amountMinor}:${request.amount.currency}`;
    const earlier = this.seen.get(request.key);
    if (earlier !== undefined) {
      if (earlier !== fingerprint) {
        throw new PaymentError('failed-precondition', `Provider: key "${request.key}" was used for another operation`);
      }
      return;
    }
    const account = this.accounts.get(request.reference);
    if (!account) throw new PaymentError('failed-precondition', `Provider: no payment "${request.reference}"`);
    const amount = request.amount.amountMinor;
    const open = account.authorized - account.captured - account.released;
    const refusal = (why: string) => new PaymentError('failed-precondition', `Provider refused the ${kind}: ${why}`);
    if (request.amount.currency !== account.currency) throw refusal('wrong currency');
    if (kind === 'capture') {
      if (amount > open) throw refusal(`only ${open} is open`);
      account.captured += amount;
    } else if (kind === 'release') {
      if (amount > open) throw refusal(`only ${open} is open`);
      account.released += amount;
    } else {
      if (amount > account.captured - account.refunded) throw refusal('more than was captured');
      account.refunded += amount;
    }
    this.seen.set(request.key, fingerprint);
  }
}

/** Fault injection for the simulators: make the next calls of an operation fail as "provider unavailable". */
export class SimulatedFaults {
  private readonly failures = new Map<string, number>();
  private down = false;

  /** Every call fails while down. */
  setAvailable(available: boolean): void {
    this.down = !available;
  }

  /** The next `times` calls of `operation` fail. */
  failNext(operation: string, times = 1): void {
    this.failures.set(operation, (this.failures.get(operation) ?? 0) + times);
  }

  /** Throws 'unavailable' when this call is to fail. */
  check(operation: string): void {
    const left = this.failures.get(operation) ?? 0;
    if (left > 0) this.failures.set(operation, left - 1);
    if (this.down || left > 0) {
      throw new PaymentError('unavailable', `Simulated provider unavailable (${operation})`);
    }
  }
}
