import { PaymentError } from './errors';
import type { PaymentEvent } from './events';
import { capturable, type LedgerEntry, type LedgerKind, ledgerProblems, refundable } from './ledger';
import { type Money, positiveAmountProblems } from './money';
import {
  deriveStatus,
  type DeclineReason,
  type Operation,
  type OperationKind,
  type AppliedOperation,
  type PaymentInit,
  type PaymentState,
  type PaymentStatus,
} from './payment-state';

export * from './payment-state';

/** The result of an operation: the events to publish, the ledger entry it made, and whether it was a repeat. */
export interface Outcome {
  events: PaymentEvent[];
  entry?: LedgerEntry;
  replay: boolean;
}

/** How many capture/void/refund operations one payment accepts: keeps the document and its events bounded. */
export const MAX_OPERATIONS = 100;
/** Longest void/refund reason. */
export const MAX_REASON = 500;

const HOLDS_MONEY: readonly PaymentStatus[] = [
  'AUTHORIZED',
  'PARTIALLY_CAPTURED',
  'CAPTURED',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
  'VOIDED',
];

/** A payment intent and the rules that protect its money. State changes only through methods that return events. */
export class Payment {
  private constructor(private state: PaymentState) {}

  /** A card (or wallet) payment the provider approved: the amount is held. */
  static authorized(init: PaymentInit, now: Date): { payment: Payment; events: PaymentEvent[] } {
    const payment = Payment.blank(init, 'AUTHORIZED', now);
    payment.post('AUTHORIZATION', init.amountMinor, init.authorizeKey, now);
    payment.settle();
    return { payment, events: [{ type: 'PaymentAuthorized', payment: payment.snapshot() }] };
  }

  /** A payment the provider refused. No money moved. */
  static declined(
    init: PaymentInit,
    decline: { reason: DeclineReason; message: string },
    now: Date,
  ): { payment: Payment; events: PaymentEvent[] } {
    const payment = Payment.blank(init, 'DECLINED', now);
    payment.state.decline = { ...decline };
    return { payment, events: [{ type: 'PaymentDeclined', payment: payment.snapshot(), reason: decline.reason }] };
  }

  /** A wallet QR payment waiting to be paid before `init.expiresAt`. Nothing is announced until the outcome. */
  static pending(init: PaymentInit, now: Date): { payment: Payment; events: PaymentEvent[] } {
    if (init.method !== 'WALLET_QR' || !init.wallet || !init.expiresAt) {
      throw new Error('Only a wallet payment with a deadline can be pending');
    }
    return { payment: Payment.blank(init, 'PENDING', now), events: [] };
  }

  /** A store sale (cash or terminal): authorised and captured at once. */
  static storeSale(init: PaymentInit, now: Date): { payment: Payment; events: PaymentEvent[] } {
    const payment = Payment.blank(init, 'CAPTURED', now);
    payment.post('AUTHORIZATION', init.amountMinor, init.authorizeKey, now);
    payment.post('CAPTURE', init.amountMinor, init.authorizeKey, now);
    payment.settle();
    const snapshot = payment.snapshot();
    return {
      payment,
      events: [
        { type: 'PaymentAuthorized', payment: snapshot },
        { type: 'PaymentCaptured', payment: snapshot, amount: payment.money(init.amountMinor) },
      ],
    };
  }

  /** Rebuilds a payment from storage (no validation, no events). */
  static fromState(state: PaymentState): Payment {
    return new Payment(structuredClone(state));
  }

  private static blank(init: PaymentInit, status: PaymentStatus, now: Date): Payment {
    const state: PaymentState = {
      ...structuredClone(init),
      status,
      balances: { authorized: 0, captured: 0, voided: 0, refunded: 0 },
      ledger: [],
      operations: [],
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    if (init.method !== 'WALLET_QR') delete state.expiresAt;
    return new Payment(state);
  }

  get id(): string {
    return this.state.id;
  }

  get status(): PaymentStatus {
    return this.state.status;
  }

  get version(): number {
    return this.state.version;
  }

  /** A deep copy of the state. */
  snapshot(): PaymentState {
    return structuredClone(this.state);
  }

  /** The ledger entry an earlier operation with this key made, if the key was used before with the same content. */
  replayOf(op: Operation, kind: OperationKind): Outcome | undefined {
    const applied = this.state.operations.find((o) => o.key === op.key);
    if (!applied) return undefined;
    if (applied.hash !== op.hash || applied.kind !== kind) {
      throw PaymentError.invalid([
        { field: 'idempotency_key', description: `"${op.key}" was already used for a different request` },
      ]);
    }
    const entry = this.state.ledger.find((e) => e.sequence === applied.entrySequence);
    return { events: [], entry: entry && { ...entry }, replay: true };
  }

  /** Takes part or all of the held money. */
  capture(op: Operation, amount: Money, now: Date): Outcome {
    const replay = this.replayOf(op, 'capture');
    if (replay) return replay;
    this.checkAmount(amount);
    this.checkRoom();
    const left = capturable(this.state.balances);
    if (!HOLDS_MONEY.includes(this.state.status) || left === 0) {
      throw this.refused('capture', this.nothingToCapture());
    }
    if (amount.amountMinor > left) {
      throw this.refused(
        'capture',
        `${amount.amountMinor} ${amount.currency} asked, only ${left} ${this.state.currency} is capturable`,
      );
    }
    const entry = this.post('CAPTURE', amount.amountMinor, op.key, now);
    this.applied(op, 'capture', entry, now);
    return {
      events: [{ type: 'PaymentCaptured', payment: this.snapshot(), amount: { ...amount } }],
      entry,
      replay: false,
    };
  }

  /** Releases everything not yet captured; a PENDING wallet payment (its QR already closed) becomes VOIDED. */
  void(op: Operation, reason: string, now: Date): Outcome {
    const replay = this.replayOf(op, 'void');
    if (replay) return replay;
    this.checkReason(reason);
    this.checkRoom();
    if (this.state.status === 'PENDING') {
      this.state.status = 'VOIDED';
      this.applied(op, 'void', undefined, now);
      return {
        events: [{ type: 'PaymentVoided', payment: this.snapshot(), amount: this.money(0), reason }],
        replay: false,
      };
    }
    const left = capturable(this.state.balances);
    if (!HOLDS_MONEY.includes(this.state.status) || left === 0) {
      throw this.refused('void', this.nothingToVoid());
    }
    const entry = this.post('VOID', left, op.key, now);
    this.applied(op, 'void', entry, now);
    return {
      events: [{ type: 'PaymentVoided', payment: this.snapshot(), amount: this.money(left), reason }],
      entry,
      replay: false,
    };
  }

  /** Gives back part or all of the captured money. */
  refund(op: Operation, amount: Money, reason: string, now: Date): Outcome {
    const replay = this.replayOf(op, 'refund');
    if (replay) return replay;
    this.checkAmount(amount);
    this.checkReason(reason);
    this.checkRoom();
    const left = refundable(this.state.balances);
    if (left === 0) {
      const why =
        this.state.status === 'VOIDED'
          ? 'it was voided, nothing was captured'
          : this.state.status === 'REFUNDED'
            ? 'it is already fully refunded'
            : `nothing has been captured (it is ${this.state.status.toLowerCase()})`;
      throw this.refused('refund', why);
    }
    if (amount.amountMinor > left) {
      throw this.refused(
        'refund',
        `${amount.amountMinor} ${amount.currency} asked, only ${left} ${this.state.currency} is refundable`,
      );
    }
    const entry = this.post('REFUND', amount.amountMinor, op.key, now);
    this.applied(op, 'refund', entry, now);
    return {
      events: [{ type: 'PaymentRefunded', payment: this.snapshot(), amount: { ...amount }, reason }],
      entry,
      replay: false,
    };
  }

  /**
   * The wallet provider reports the QR paid. PENDING → AUTHORIZED. A repeat of the same transaction changes nothing
   * (duplicate callbacks). A payment that arrives after the intent closed without money (voided, expired, declined:
   * only possible in a crash window or by a provider bug) is recorded and released at once — AUTHORIZATION and VOID
   * entries, `wallet.lateRelease` set so the caller has the provider give the money back.
   */
  walletPaid(transactionId: string, amount: Money, now: Date): PaymentEvent[] {
    const wallet = this.state.wallet;
    if (this.state.method !== 'WALLET_QR' || !wallet) {
      throw new PaymentError('failed-precondition', `Payment "${this.id}" is not a wallet payment`);
    }
    if (wallet.transactionId === transactionId) return [];
    if (amount.currency !== this.state.currency || amount.amountMinor !== this.state.amountMinor) {
      throw new PaymentError(
        'failed-precondition',
        `Payment "${this.id}" is for ${this.state.amountMinor} ${this.state.currency}, the wallet reports ${amount.amountMinor} ${amount.currency}`,
      );
    }
    const closedWithoutMoney =
      (this.state.status === 'VOIDED' || this.state.status === 'EXPIRED' || this.state.status === 'DECLINED') &&
      this.state.balances.authorized === 0 &&
      wallet.transactionId === undefined;
    if (this.state.status !== 'PENDING' && !closedWithoutMoney) {
      throw new PaymentError(
        'failed-precondition',
        `Payment "${this.id}" is ${this.state.status.toLowerCase()}: wallet transaction "${transactionId}" cannot apply`,
      );
    }
    wallet.transactionId = transactionId;
    this.post('AUTHORIZATION', this.state.amountMinor, this.state.authorizeKey, now);
    if (!closedWithoutMoney) {
      this.settle(now);
      return [{ type: 'PaymentAuthorized', payment: this.snapshot() }];
    }
    wallet.lateRelease = true;
    this.post('VOID', this.state.amountMinor, `late-release:${transactionId}`, now);
    this.settle(now);
    return [
      {
        type: 'PaymentVoided',
        payment: this.snapshot(),
        amount: this.money(this.state.amountMinor),
        reason: 'paid after the payment was closed: released',
      },
    ];
  }

  /**
   * The wallet provider reports the QR closed unpaid. Past the deadline that is the expiry (whoever closed it: the
   * provider's own timeout or this service's sweeper) → EXPIRED; before it, the customer or the provider's risk
   * control stopped it → DECLINED.
   */
  walletClosed(now: Date): PaymentEvent[] {
    if (this.state.status !== 'PENDING') return [];
    if (this.state.expiresAt && this.state.expiresAt.getTime() <= now.getTime()) return this.expire(now);
    this.state.status = 'DECLINED';
    this.state.decline = { reason: 'WALLET_CLOSED', message: 'The wallet provider closed the payment unpaid' };
    this.touch(now);
    return [{ type: 'PaymentDeclined', payment: this.snapshot(), reason: 'WALLET_CLOSED' }];
  }

  /** PENDING past its deadline (its QR closed at the provider) → EXPIRED. Anything else is left alone. */
  expire(now: Date): PaymentEvent[] {
    if (this.state.status !== 'PENDING') return [];
    if (!this.state.expiresAt || this.state.expiresAt.getTime() > now.getTime()) {
      throw new PaymentError('failed-precondition', `Payment "${this.id}" is not due to expire yet`);
    }
    this.state.status = 'EXPIRED';
    this.touch(now);
    return [{ type: 'PaymentExpired', payment: this.snapshot() }];
  }

  private post(kind: LedgerKind, amountMinor: number, key: string, now: Date): LedgerEntry {
    const entry: LedgerEntry = {
      sequence: this.state.ledger.length + 1,
      kind,
      amountMinor,
      currency: this.state.currency,
      key,
      at: now,
    };
    this.state.ledger.push(entry);
    const b = this.state.balances;
    if (kind === 'AUTHORIZATION') b.authorized += amountMinor;
    else if (kind === 'CAPTURE') b.captured += amountMinor;
    else if (kind === 'VOID') b.voided += amountMinor;
    else b.refunded += amountMinor;
    return { ...entry };
  }

  private applied(op: Operation, kind: OperationKind, entry: LedgerEntry | undefined, now: Date): void {
    const record: AppliedOperation = { key: op.key, kind, hash: op.hash };
    if (entry) record.entrySequence = entry.sequence;
    this.state.operations.push(record);
    this.settle(now);
  }

  /** Recomputes the status from the balances and proves the ledger still adds up; a mismatch is a bug. */
  private settle(now?: Date): void {
    this.state.status = deriveStatus(this.state);
    const problems = ledgerProblems(this.state.ledger, this.state.balances, this.state);
    if (problems.length > 0) throw new Error(`Payment "${this.id}" ledger is inconsistent: ${problems.join('; ')}`);
    if (now) this.touch(now);
  }

  private touch(now: Date): void {
    this.state.version += 1;
    this.state.updatedAt = now;
  }

  private money(amountMinor: number): Money {
    return { currency: this.state.currency, amountMinor };
  }

  private checkAmount(amount: Money): void {
    const problems = positiveAmountProblems(amount, 'amount');
    if (problems.length === 0 && amount.currency !== this.state.currency) {
      problems.push({
        field: 'amount.currency_code',
        description: `payment "${this.id}" is in ${this.state.currency}, not ${amount.currency}`,
      });
    }
    if (problems.length > 0) throw PaymentError.invalid(problems);
  }

  private checkReason(reason: string): void {
    if (reason.length > MAX_REASON) {
      throw PaymentError.invalid([{ field: 'reason', description: `must be at most ${MAX_REASON} characters` }]);
    }
  }

  private checkRoom(): void {
    if (this.state.operations.length >= MAX_OPERATIONS) {
      throw new PaymentError(
        'resource-exhausted',
        `Payment "${this.id}" already has ${MAX_OPERATIONS} operations; no more are accepted`,
      );
    }
  }

  private nothingToCapture(): string {
    const why: Partial<Record<PaymentStatus, string>> = {
      PENDING: 'the wallet payment has not been paid yet',
      VOIDED: 'it was voided',
      DECLINED: 'it was declined',
      EXPIRED: 'it expired unpaid',
    };
    return why[this.state.status] ?? 'nothing is left to capture';
  }

  private nothingToVoid(): string {
    const why: Partial<Record<PaymentStatus, string>> = {
      VOIDED: 'it is already voided',
      DECLINED: 'it was declined, nothing is held',
      EXPIRED: 'it expired unpaid, nothing is held',
    };
    return why[this.state.status] ?? 'everything authorised was already captured or released (refund instead)';
  }

  private refused(action: string, why: string): PaymentError {
    return new PaymentError('failed-precondition', `Cannot ${action} payment "${this.id}": ${why}`);
  }
}
