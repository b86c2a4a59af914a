import type { PaymentEvent } from '../domain/events';
import type { Money } from '../domain/money';
import type { DeclineReason, Payment, PaymentState, WalletChannel } from '../domain/payment';

/** A stored payment and the idempotency fact kept beside it. */
export interface StoredPayment {
  payment: Payment;
  /** The hash of the AuthorizePayment request that made it. */
  authorizeHash: string;
}

/** One page of a query, and where the next starts. */
export interface Page<T> {
  items: T[];
  /** Opaque position after the last item, or undefined at the end. */
  after?: string;
}

/** Where payments live. Every write stores the state and its events (outbox) in ONE document update. */
export interface PaymentRepository {
  /** Inserts a new payment with its events; 'exists' when a payment with that id is already stored. */
  insert(payment: Payment, events: PaymentEvent[], authorizeHash: string): Promise<'inserted' | 'exists'>;
  /** The payment with that id, if any. */
  find(id: string): Promise<StoredPayment | undefined>;
  /**
   * Loads the payment, applies `change`, and stores the result and its events with one version-checked update,
   * reloading and re-applying on a concurrent change (ABORTED after a few attempts). A change that returns no
   * events writes nothing. Throws not-found.
   */
  update<R extends { events: PaymentEvent[] }>(
    id: string,
    change: (payment: Payment) => R,
  ): Promise<R & { state: PaymentState }>;
  /** An order's payments, oldest first, starting after `after`. */
  listByOrder(orderId: string, page: { size: number; after?: string }): Promise<Page<PaymentState>>;
  /** PENDING wallet payments, created before `createdBefore` (all when unset), oldest deadline first. */
  pendingWallet(options: { limit: number; createdBefore?: Date }): Promise<PaymentState[]>;
}

/** Failed provider calls, kept for operators: a retry with the same key simply calls the provider again. */
export interface ProviderAttemptLog {
  record(attempt: { paymentId: string; key: string; operation: string; error: string; at: Date }): Promise<void>;
}

/** A provider's answer to a card authorisation. */
export type CardOutcome =
  | { outcome: 'approved'; reference: string }
  | { outcome: 'declined'; reason: DeclineReason; message: string; reference: string };

/** Moves money on an existing provider payment. Each call carries an idempotency key the provider remembers. */
export interface MoneyMovements {
  capture(request: { key: string; reference: string; amount: Money }): Promise<void>;
  release(request: { key: string; reference: string; amount: Money }): Promise<void>;
  refund(request: { key: string; reference: string; amount: Money }): Promise<void>;
}

/**
 * A card gateway. Throws PaymentError 'unavailable' when it cannot be reached (the caller retries with the same
 * key: the gateway answers a repeated key as it did the first time, so a retry never authorises twice).
 */
export interface CardGateway extends MoneyMovements {
  authorize(request: { key: string; amount: Money; cardNumber: string }): Promise<CardOutcome>;
}

/** What a wallet provider says about a QR payment. */
export type WalletOutcome =
  { state: 'pending' } | { state: 'paid'; transactionId: string; amount: Money } | { state: 'closed' };

/** A wallet (QR) provider, Alipay / WeChat Pay style. */
export interface WalletGateway extends MoneyMovements {
  /** Creates (or, for a repeated key, returns) the QR payment. */
  createQr(request: {
    key: string;
    paymentId: string;
    channel: WalletChannel;
    amount: Money;
    expiresAt: Date;
  }): Promise<{ reference: string; qrPayload: string }>;
  /** The payment's outcome now (reconciles a lost callback). */
  query(reference: string): Promise<WalletOutcome>;
  /** Closes the QR if still unpaid, so it can no longer be paid; answers the final outcome (paid if it was). */
  close(reference: string): Promise<WalletOutcome>;
}

/** Every provider, by what they serve. Store sales (cash, terminal) move money at the till: `store` records it. */
export interface Providers {
  card: CardGateway;
  wallet: WalletGateway;
  store: MoneyMovements;
}

/** The time, injectable for tests. Always UTC instants. */
export interface Clock {
  now(): Date;
}

/** What the use cases need. */
export interface Deps {
  payments: PaymentRepository;
  providers: Providers;
  attempts: ProviderAttemptLog;
  clock: Clock;
  /** Default deadline of a wallet QR payment. */
  walletTtlMs: number;
}
