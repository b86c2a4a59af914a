import { PaymentError } from '../domain/errors';
import type { PaymentState } from '../domain/payment';
import { type CallerOption, maySeePayment } from './access';
import { checkPaymentId } from './request-key';
import type { Page, PaymentRepository } from './ports';

/** GetPayment; a payment the caller may not see is NOT_FOUND, word for word as a missing one. */
export async function getPayment(
  deps: { payments: PaymentRepository },
  id: string,
  { caller }: CallerOption = {},
): Promise<PaymentState> {
  checkPaymentId(id);
  const stored = await deps.payments.find(id);
  const payment = stored?.payment.snapshot();
  if (!payment || !maySeePayment(caller, payment))
    throw new PaymentError('not-found', `Payment "${id}" does not exist`);
  return payment;
}

/**
 * ListPayments: an order's payments, oldest first. A caller sees only the payments it may see: none at all for an
 * order that is not theirs, the same answer as for an order without payments.
 */
export async function listPayments(
  deps: { payments: PaymentRepository },
  orderId: string,
  page: { size: number; after?: string },
  { caller }: CallerOption = {},
): Promise<Page<PaymentState>> {
  if (orderId.length === 0 || orderId.length > 64) {
    throw PaymentError.invalid([{ field: 'order_id', description: 'must be 1..64 characters' }]);
  }
  const result = await deps.payments.listByOrder(orderId, page);
  return caller ? { ...result, items: result.items.filter((p) => maySeePayment(caller, p)) } : result;
}
