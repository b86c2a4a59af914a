import { PaymentError } from '../domain/errors';
import type { PaymentState } from '../domain/payment';
import { checkPaymentId } from './request-key';
import type { Page, PaymentRepository } from './ports';

/** GetPayment. */
export async function getPayment(deps: { payments: PaymentRepository }, id: string): Promise<PaymentState> {
  checkPaymentId(id);
  const stored = await deps.payments.find(id);
  if (!stored) throw new PaymentError('not-found', `Payment "${id}" does not exist`);
  return stored.payment.snapshot();
}

/** ListPayments: an order's payments, oldest first. */
export async function listPayments(
  deps: { payments: PaymentRepository },
  orderId: string,
  page: { size: number; after?: string },
): Promise<Page<PaymentState>> {
  if (orderId.length === 0 || orderId.length > 64) {
    throw PaymentError.invalid([{ field: 'order_id', description: 'must be 1..64 characters' }]);
  }
  return deps.payments.listByOrder(orderId, page);
}
