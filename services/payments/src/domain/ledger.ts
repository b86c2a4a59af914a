/** What a ledger entry records: money held, taken, released, or given back. */
export type LedgerKind = 'AUTHORIZATION' | 'CAPTURE' | 'VOID' | 'REFUND';

/** One money movement of a payment. Append-only. */
export interface LedgerEntry {
  /** 1, 2, 3... in order. */
  sequence: number;
  kind: LedgerKind;
  amountMinor: number;
  currency: string;
  /** The idempotency key of the operation that moved the money. */
  key: string;
  at: Date;
}

/** A payment's running totals, in minor units of its currency. */
export interface Balances {
  authorized: number;
  captured: number;
  voided: number;
  refunded: number;
}

const BALANCE_OF: Record<LedgerKind, keyof Balances> = {
  AUTHORIZATION: 'authorized',
  CAPTURE: 'captured',
  VOID: 'voided',
  REFUND: 'refunded',
};

/** The balances a ledger adds up to. */
export function sumLedger(entries: readonly LedgerEntry[]): Balances {
  const sums: Balances = { authorized: 0, captured: 0, voided: 0, refunded: 0 };
  for (const entry of entries) sums[BALANCE_OF[entry.kind]] += entry.amountMinor;
  return sums;
}

/** Held and not yet captured or released. */
export function capturable(b: Balances): number {
  return b.authorized - b.captured - b.voided;
}

/** Captured and not yet refunded. */
export function refundable(b: Balances): number {
  return b.captured - b.refunded;
}

/**
 * Every way the ledger disagrees with the balances or breaks the money rules (empty when all is well): entries
 * sum per kind to the balances, are positive whole amounts in the payment's currency, numbered 1..n, and nothing
 * is captured or released beyond what was held, nor refunded beyond what was captured.
 */
export function ledgerProblems(
  entries: readonly LedgerEntry[],
  balances: Balances,
  payment: { currency: string; amountMinor: number },
): string[] {
  const problems: string[] = [];
  const sums = sumLedger(entries);
  for (const key of Object.keys(sums) as (keyof Balances)[]) {
    if (sums[key] !== balances[key]) problems.push(`ledger ${key} sums to ${sums[key]}, balance is ${balances[key]}`);
  }
  entries.forEach((e, i) => {
    if (e.sequence !== i + 1) problems.push(`entry ${i} has sequence ${e.sequence}`);
    if (!Number.isSafeInteger(e.amountMinor) || e.amountMinor <= 0) {
      problems.push(`entry ${e.sequence} has amount ${e.amountMinor}`);
    }
    if (e.currency !== payment.currency) problems.push(`entry ${e.sequence} is in ${e.currency}`);
  });
  if (balances.authorized > payment.amountMinor) problems.push('authorised more than the payment amount');
  if (capturable(balances) < 0) problems.push('captured and voided more than was authorised');
  if (refundable(balances) < 0) problems.push('refunded more than was captured');
  return problems;
}
