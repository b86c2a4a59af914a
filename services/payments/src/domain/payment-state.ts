import { type Balances, capturable, type LedgerEntry } from './ledger';

// The payment's data, as stored and published; the rules that change it live in payment.ts.

/** How the customer pays. */
export type PaymentMethod = 'CARD' | 'WALLET_QR' | 'CASH' | 'STORE_TERMINAL';
/** Which wallet a QR payment goes through. */
export type WalletChannel = 'ALIPAY' | 'WECHAT_PAY';
/** Where a payment is; for money-holding payments it follows from the balances (see deriveStatus). */
export type PaymentStatus =
  | 'PENDING'
  | 'AUTHORIZED'
  | 'PARTIALLY_CAPTURED'
  | 'CAPTURED'
  | 'VOIDED'
  | 'PARTIALLY_REFUNDED'
  | 'REFUNDED'
  | 'DECLINED'
  | 'EXPIRED';
/** Why a provider refused a payment. */
export type DeclineReason = 'INSUFFICIENT_FUNDS' | 'STOLEN_CARD' | 'DO_NOT_HONOR' | 'WALLET_CLOSED';
/** The operations that take their own idempotency key after authorisation. */
export type OperationKind = 'capture' | 'void' | 'refund';

/** An operation applied to the payment: its key, a hash of its content, and the ledger entry it made (if any). */
export interface AppliedOperation {
  key: string;
  kind: OperationKind;
  hash: string;
  entrySequence?: number;
}

/**
 * Whose order a payment is for (who bought it, the store that sold it, the partner that placed it, the locations
 * fulfilling it when it was authorised): what decides who may see the payment. Empty strings for none.
 */
export interface PaymentAttribution {
  customerId: string;
  storeId: string;
  partnerId: string;
  locationIds: string[];
}

/** A client operation's identity: its idempotency key and the hash of what it asked. */
export interface Operation {
  key: string;
  hash: string;
}

/** A payment intent's full state, as stored and as published. */
export interface PaymentState {
  id: string;
  orderId: string;
  method: PaymentMethod;
  currency: string;
  /** What AuthorizePayment asked for. */
  amountMinor: number;
  status: PaymentStatus;
  balances: Balances;
  ledger: LedgerEntry[];
  operations: AppliedOperation[];
  /** The AuthorizePayment idempotency key (the payment id is derived from it). */
  authorizeKey: string;
  /** The provider's reference for this payment (empty for cash). */
  providerRef: string;
  decline?: { reason: DeclineReason; message: string };
  card?: { last4: string };
  wallet?: { channel: WalletChannel; qrPayload: string; transactionId?: string; lateRelease?: boolean };
  store?: { storeId: string; terminalId: string };
  /** Whose order it is, as the orders service said at authorisation; absent on payments made before it said. */
  attribution?: PaymentAttribution;
  /** When a PENDING wallet payment expires. */
  expiresAt?: Date;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** What every new payment starts from. */
export type PaymentInit = Pick<
  PaymentState,
  | 'id'
  | 'orderId'
  | 'method'
  | 'currency'
  | 'amountMinor'
  | 'authorizeKey'
  | 'providerRef'
  | 'card'
  | 'wallet'
  | 'store'
  | 'attribution'
> & { expiresAt?: Date };

/** The status a money-holding payment's balances imply; payments that never held money keep theirs. */
export function deriveStatus(state: Pick<PaymentState, 'status' | 'balances'>): PaymentStatus {
  const b = state.balances;
  if (b.authorized === 0) return state.status;
  if (b.refunded > 0) return b.refunded === b.captured && capturable(b) === 0 ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
  if (b.captured === 0) return b.voided === b.authorized ? 'VOIDED' : 'AUTHORIZED';
  return capturable(b) > 0 ? 'PARTIALLY_CAPTURED' : 'CAPTURED';
}
