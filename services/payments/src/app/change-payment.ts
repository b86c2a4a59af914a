import { PaymentError } from '../domain/errors';
import type { LedgerEntry } from '../domain/ledger';
import type { Money } from '../domain/money';
import type { Operation, Outcome, Payment, PaymentState } from '../domain/payment';
import { type CallerOption, checkMayMoveMoney } from './access';
import type { Deps } from './ports';
import { callProvider, movementsFor, providerKey } from './provider-call';
import { checkPaymentId, operationKey } from './request-key';
import { applyWalletOutcome } from './wallet-outcome';

/** What a capture, void or refund answers: the payment now, and the ledger entry the operation made. */
export interface OperationResult {
  payment: PaymentState;
  entry?: LedgerEntry;
}

/**
 * The shape of every money operation: check it against the current state (a repeat answers at once), move the
 * money at the provider with a key derived from the operation's key, then store the change with one
 * version-checked update. The provider enforces the same limits on its side, so when two different operations race,
 * whatever the provider accepted also fits the state the loser reloads.
 */
async function operate(
  deps: Deps,
  paymentId: string,
  op: Operation,
  operation: 'capture' | 'void' | 'refund',
  apply: (payment: Payment, now: Date) => Outcome,
): Promise<OperationResult> {
  const stored = await deps.payments.find(paymentId);
  if (!stored) throw new PaymentError('not-found', `Payment "${paymentId}" does not exist`);
  const before = stored.payment.snapshot();
  const trial = apply(stored.payment, deps.clock.now());
  if (trial.replay) return { payment: before, entry: trial.entry };
  const amount = trial.entry && { currency: trial.entry.currency, amountMinor: trial.entry.amountMinor };
  if (amount) {
    const movements = movementsFor(deps, before.method);
    const request = { key: providerKey(paymentId, op.key), reference: before.providerRef, amount };
    await callProvider(deps, { paymentId, key: op.key, operation }, () =>
      operation === 'capture'
        ? movements.capture(request)
        : operation === 'void'
          ? movements.release(request)
          : movements.refund(request),
    );
  }
  const result = await deps.payments.update(paymentId, (payment) => apply(payment, deps.clock.now()));
  return { payment: result.state, entry: result.entry };
}

/** CapturePayment: takes part or all of what is still held. */
export async function capturePayment(
  deps: Deps,
  request: { idempotencyKey: string; paymentId: string; amount: Money },
  { caller }: CallerOption = {},
): Promise<OperationResult> {
  checkMayMoveMoney(caller);
  const op = operationKey(request.idempotencyKey, { op: 'capture', amount: request.amount });
  checkPaymentId(request.paymentId);
  return operate(deps, request.paymentId, op, 'capture', (p, now) => p.capture(op, request.amount, now));
}

/** RefundPayment: gives back part or all of what was captured. */
export async function refundPayment(
  deps: Deps,
  request: { idempotencyKey: string; paymentId: string; amount: Money; reason: string },
  { caller }: CallerOption = {},
): Promise<OperationResult> {
  checkMayMoveMoney(caller);
  const op = operationKey(request.idempotencyKey, { op: 'refund', amount: request.amount, reason: request.reason });
  checkPaymentId(request.paymentId);
  return operate(deps, request.paymentId, op, 'refund', (p, now) => p.refund(op, request.amount, request.reason, now));
}

/**
 * VoidPayment: releases what is not captured. A wallet payment still PENDING is first marked VOIDED (so no sweeper or
 * callback can authorise it any more), then its QR is closed at the provider — also on a repeat of the same void, so
 * a retry after a failed close closes it. If the customer paid in the meantime, that money is recorded and released
 * (see Payment.walletPaid).
 */
export async function voidPayment(
  deps: Deps,
  request: { idempotencyKey: string; paymentId: string; reason: string },
  { caller }: CallerOption = {},
): Promise<OperationResult> {
  checkMayMoveMoney(caller);
  const op = operationKey(request.idempotencyKey, { op: 'void', reason: request.reason });
  checkPaymentId(request.paymentId);
  const result = await operate(deps, request.paymentId, op, 'void', (p, now) => p.void(op, request.reason, now));
  const state = result.payment;
  const unpaidWallet = state.method === 'WALLET_QR' && state.balances.authorized === 0 && state.status === 'VOIDED';
  if (!unpaidWallet) return result;
  const outcome = await callProvider(deps, { paymentId: state.id, key: op.key, operation: 'close' }, () =>
    deps.providers.wallet.close(state.providerRef),
  );
  if (outcome.state !== 'paid') return result;
  await applyWalletOutcome(deps, state.id, outcome);
  const after = await deps.payments.find(state.id);
  return { payment: after ? after.payment.snapshot() : state, entry: result.entry };
}
