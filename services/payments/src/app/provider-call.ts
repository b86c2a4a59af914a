import { PaymentError } from '../domain/errors';
import type { PaymentMethod } from '../domain/payment';
import type { Deps, MoneyMovements } from './ports';

/**
 * Calls a provider. When it is unavailable the attempt is recorded for operators and UNAVAILABLE is returned to the
 * client, whose retry with the same key calls the provider again with the same provider idempotency key.
 */
export async function callProvider<T>(
  deps: Pick<Deps, 'attempts' | 'clock'>,
  attempt: { paymentId: string; key: string; operation: string },
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof PaymentError && error.kind !== 'unavailable') throw error;
    const message = error instanceof Error ? error.message : String(error);
    await deps.attempts.record({ ...attempt, error: message, at: deps.clock.now() }).catch(() => undefined);
    throw new PaymentError(
      'unavailable',
      `The payment provider is unavailable (${attempt.operation} of payment "${attempt.paymentId}"); retry with the same idempotency key`,
    );
  }
}

/** The provider that moves money for a payment method. */
export function movementsFor(deps: Pick<Deps, 'providers'>, method: PaymentMethod): MoneyMovements {
  switch (method) {
    case 'CARD':
      return deps.providers.card;
    case 'WALLET_QR':
      return deps.providers.wallet;
    case 'CASH':
    case 'STORE_TERMINAL':
      return deps.providers.store;
  }
}

/** The key a provider sees for one operation: operation keys are per payment, the provider's are global. */
export function providerKey(paymentId: string, operationKey: string): string {
  return `${paymentId}/${operationKey}`;
}
