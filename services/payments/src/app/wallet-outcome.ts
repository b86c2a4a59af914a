import { PaymentError } from '../domain/errors';
import type { PaymentState } from '../domain/payment';
import { type CallerOption, checkMayMoveMoney } from './access';
import type { Deps, WalletOutcome } from './ports';
import { callProvider, providerKey } from './provider-call';
import { checkPaymentId } from './request-key';

/** What became of a reported wallet outcome. */
export type Applied = 'applied' | 'duplicate' | 'ignored';

/**
 * Applies what the wallet provider reports (callback, query, or close): paid → AUTHORIZED, closed → DECLINED.
 * Idempotent: a repeat of an applied outcome changes nothing and answers 'duplicate'.
 */
export async function applyWalletOutcome(deps: Deps, paymentId: string, outcome: WalletOutcome): Promise<Applied> {
  if (outcome.state === 'pending') return 'ignored';
  const now = deps.clock.now();
  const result = await deps.payments.update(paymentId, (payment) => ({
    events:
      outcome.state === 'paid'
        ? payment.walletPaid(outcome.transactionId, outcome.amount, now)
        : payment.walletClosed(now),
  }));
  const { wallet, providerRef } = result.state;
  if (outcome.state === 'paid' && wallet?.lateRelease && wallet.transactionId === outcome.transactionId) {
    // Money that arrived after the intent closed goes back. Done after the write and again on every repeat of the
    // outcome (providers retry callbacks until they get a 200): the provider key makes it happen once.
    await callProvider(deps, { paymentId, key: outcome.transactionId, operation: 'late-release' }, () =>
      deps.providers.wallet.release({
        key: providerKey(paymentId, `late-release:${outcome.transactionId}`),
        reference: providerRef,
        amount: outcome.amount,
      }),
    );
  }
  return result.events.length > 0 ? 'applied' : 'duplicate';
}

/** ReconcilePayment: asks the provider about a PENDING wallet payment now (a lost callback) and applies the answer. */
export async function reconcilePayment(
  deps: Deps,
  paymentId: string,
  { caller }: CallerOption = {},
): Promise<PaymentState> {
  checkMayMoveMoney(caller);
  checkPaymentId(paymentId);
  const stored = await deps.payments.find(paymentId);
  if (!stored) throw new PaymentError('not-found', `Payment "${paymentId}" does not exist`);
  const state = stored.payment.snapshot();
  if (state.method !== 'WALLET_QR' || state.status !== 'PENDING') return state;
  const outcome = await callProvider(deps, { paymentId, key: state.authorizeKey, operation: 'query' }, () =>
    deps.providers.wallet.query(state.providerRef),
  );
  if ((await applyWalletOutcome(deps, paymentId, outcome)) === 'ignored') return state;
  const after = await deps.payments.find(paymentId);
  return after ? after.payment.snapshot() : state;
}

/** What a sweep reports about a payment it could not handle; the sweep goes on with the others. */
export type SweepFailure = (paymentId: string, error: unknown) => void;

/** One pass of the reconciler: queries PENDING wallet payments older than `olderThanMs`; returns how many changed. */
export async function reconcilePending(
  deps: Deps,
  options: { olderThanMs: number; limit: number; onFailure?: SweepFailure },
): Promise<number> {
  const createdBefore = new Date(deps.clock.now().getTime() - options.olderThanMs);
  const pending = await deps.payments.pendingWallet({ limit: options.limit, createdBefore });
  let changed = 0;
  for (const payment of pending) {
    try {
      const outcome = await deps.providers.wallet.query(payment.providerRef);
      if ((await applyWalletOutcome(deps, payment.id, outcome)) === 'applied') changed += 1;
    } catch (error) {
      options.onFailure?.(payment.id, error);
    }
  }
  return changed;
}

/**
 * One pass of the expiry sweeper: each PENDING wallet payment past its deadline has its QR closed at the provider
 * first (so a customer paying at the last second is not expired: a paid QR is applied as paid instead), then
 * expires with a version-checked update, so several replicas sweeping at once expire it (and announce it) once.
 */
export async function expireDue(deps: Deps, options: { limit: number; onFailure?: SweepFailure }): Promise<number> {
  const now = deps.clock.now();
  const due = (await deps.payments.pendingWallet({ limit: options.limit })).filter(
    (p) => p.expiresAt && p.expiresAt.getTime() <= now.getTime(),
  );
  let changed = 0;
  for (const payment of due) {
    try {
      const outcome = await deps.providers.wallet.close(payment.providerRef);
      if (outcome.state === 'paid') {
        if ((await applyWalletOutcome(deps, payment.id, outcome)) === 'applied') changed += 1;
        continue;
      }
      const result = await deps.payments.update(payment.id, (p) => ({ events: p.expire(now) }));
      if (result.events.length > 0) changed += 1;
    } catch (error) {
      options.onFailure?.(payment.id, error);
    }
  }
  return changed;
}
