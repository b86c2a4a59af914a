import { createHash } from 'node:crypto';
import { type AuthorizeInput, deadlineProblems, validateAuthorizeInput } from '../domain/authorize-input';
import { PaymentError } from '../domain/errors';
import type { PaymentEvent } from '../domain/events';
import { Payment, type PaymentInit, type PaymentState } from '../domain/payment';
import { type CallerOption, checkMayMoveMoney } from './access';
import type { Deps } from './ports';
import { callProvider } from './provider-call';
import { keyReused, operationKey } from './request-key';

/** The payment id an authorisation gets: derived from its key, so concurrent or retried duplicates converge. */
export function paymentIdFor(key: string): string {
  return `pay_${createHash('sha256').update(`authorize-payment:${key}`).digest('hex').slice(0, 24)}`;
}

/**
 * AuthorizePayment: one payment per idempotency key. The provider is called BEFORE the state is written, with the
 * payment id as the provider's idempotency key: a crash between the two, or a concurrent duplicate, only makes the
 * retry ask again, and the provider answers a repeated key as the first time. The insert by deterministic _id then
 * lets exactly one writer win; the others answer what the winner stored.
 */
export async function authorizePayment(
  deps: Deps,
  request: AuthorizeInput & { idempotencyKey: string },
  { caller }: CallerOption = {},
): Promise<PaymentState> {
  checkMayMoveMoney(caller);
  const now = deps.clock.now();
  const violations = validateAuthorizeInput(request);
  const key = request.idempotencyKey;
  if (key.length === 0 || key.length > 128) {
    violations.unshift({ field: 'idempotency_key', description: 'must be 1..128 characters' });
  }
  if (violations.length > 0) throw PaymentError.invalid(violations);
  // The attribution is not what the client asks for: a repeat that carries another (or none) is the same request.
  const { idempotencyKey: _key, attribution: _attribution, ...content } = request;
  const op = operationKey(key, content);
  const id = paymentIdFor(key);

  const replay = async (): Promise<PaymentState | undefined> => {
    const existing = await deps.payments.find(id);
    if (!existing) return undefined;
    if (existing.authorizeHash !== op.hash) throw keyReused(key);
    return existing.payment.snapshot();
  };
  const earlier = await replay();
  if (earlier) return earlier;
  const late = deadlineProblems(request, now);
  if (late.length > 0) throw PaymentError.invalid(late);

  const created = await decide(deps, request, { id, now });
  const outcome = await deps.payments.insert(created.payment, created.events, op.hash);
  if (outcome === 'exists') {
    const winner = await replay();
    if (winner) return winner;
  }
  return created.payment.snapshot();
}

async function decide(
  deps: Deps,
  request: AuthorizeInput & { idempotencyKey: string },
  { id, now }: { id: string; now: Date },
): Promise<{ payment: Payment; events: PaymentEvent[] }> {
  const method = request.method!;
  const amount = request.amount;
  const init: PaymentInit = {
    id,
    orderId: request.orderId,
    method,
    currency: amount.currency,
    amountMinor: amount.amountMinor,
    authorizeKey: request.idempotencyKey,
    providerRef: '',
  };
  if (request.attribution) init.attribution = structuredClone(request.attribution);
  const attempt = { paymentId: id, key: request.idempotencyKey, operation: 'authorize' };
  switch (method) {
    case 'CARD': {
      const number = request.card!.number;
      const answer = await callProvider(deps, attempt, () =>
        deps.providers.card.authorize({ key: id, amount, cardNumber: number }),
      );
      init.providerRef = answer.reference;
      init.card = { last4: number.slice(-4) };
      return answer.outcome === 'approved'
        ? Payment.authorized(init, now)
        : Payment.declined(init, { reason: answer.reason, message: answer.message }, now);
    }
    case 'WALLET_QR': {
      const channel = request.wallet!.channel!;
      const expiresAt = request.expiresAt ?? new Date(now.getTime() + deps.walletTtlMs);
      const qr = await callProvider(deps, attempt, () =>
        deps.providers.wallet.createQr({ key: id, paymentId: id, channel, amount, expiresAt }),
      );
      init.providerRef = qr.reference;
      init.wallet = { channel, qrPayload: qr.qrPayload };
      init.expiresAt = expiresAt;
      return Payment.pending(init, now);
    }
    case 'CASH':
    case 'STORE_TERMINAL':
      if (request.store) init.store = { ...request.store };
      return Payment.storeSale(init, now);
  }
}
