import { PaymentError } from '../domain/errors';
import type { Money } from '../domain/money';

type Movement = 'capture' | 'release' | 'refund';

interface Account {
  currency: string;
  authorized: number;
  captured: number;
  released: number;
  refunded: number;
  /** Every operation key applied to the account, with what it did. */
  keys: Record<string, string>;
}

/**
 * Where a simulated provider keeps its books: records by id. A real provider's books outlive the payments service,
 * so the service's process keeps them in storage of their own ({@link memoryBooks} for unit tests): a payments
 * process killed between an authorisation and its capture finds the provider still knowing the payment.
 */
export interface ProviderBooks {
  read<T>(id: string): Promise<T | undefined>;
  write(id: string, value: unknown): Promise<void>;
}

/** Books in this process's memory: gone with it. */
export function memoryBooks(): ProviderBooks {
  const records = new Map<string, unknown>();
  return {
    read: async <T>(id: string) => records.get(id) as T | undefined,
    async write(id, value) {
      records.set(id, structuredClone(value));
    },
  };
}

/**
 * A simulated provider's own books: per provider reference what may still be captured, released or refunded, and
 * every operation key it has seen. Like a real gateway it refuses over-capture and over-refund by itself and answers
 * a repeated key as the first time, so the payments service can call it before writing its own state. Movements of
 * one reference are applied one at a time in this process.
 */
export class SimulatedAccounts {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly books: ProviderBooks = memoryBooks()) {}

  /** Opens the books of an authorised payment. */
  async open(reference: string, amount: Money): Promise<void> {
    await this.serially(reference, async () => {
      if (await this.books.read<Account>(`account:${reference}`)) return;
      const account: Account = {
        currency: amount.currency,
        authorized: amount.amountMinor,
        captured: 0,
        released: 0,
        refunded: 0,
        keys: {},
      };
      await this.books.write(`account:${reference}`, account);
    });
  }

  /** Applies one movement, once per key. */
  async move(kind: Movement, request: { key: string; reference: string; amount: Money }): Promise<void> {
    await this.serially(request.reference, () => this.apply(kind, request));
  }

  private async serially<T>(reference: string, work: () => Promise<T>): Promise<T> {
    const before = this.queues.get(reference) ?? Promise.resolve();
    const run = before.then(work, work);
    const settled = run.catch(() => undefined);
    this.queues.set(reference, settled);
    void settled.then(() => {
      if (this.queues.get(reference) === settled) this.queues.delete(reference);
    });
    return run;
  }

  private async apply(kind: Movement, request: { key: string; reference: string; amount: Money }): Promise<void> {
    const fingerprint = `${kind}:${request.reference}:${request.amount.amountMinor}:${request.amount.currency}`;
    const account = await this.books.read<Account>(`account:${request.reference}`);
    if (!account) throw new PaymentError('failed-precondition', `Provider: no payment "${request.reference}"`);
    const earlier = account.keys[request.key];
    if (earlier !== undefined) {
      if (earlier !== fingerprint) {
        throw new PaymentError('failed-precondition', `Provider: key "${request.key}" was used for another operation`);
      }
      return;
    }
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
    // The movement and its key in one write: a retry after a crash finds both or neither.
    account.keys[request.key] = fingerprint;
    await this.books.write(`account:${request.reference}`, account);
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
