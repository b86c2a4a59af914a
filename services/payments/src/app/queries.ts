import { PaymentError } from '../domain/errors';
import type { PaymentState } from '../domain/payment';
import { checkPaymentId } from './request-key';
import type { Page, PaymentRepository } from './ports';

/** Page sizes: 0 means the default. */
export const PAGE = { default: 50, max: 200 } as const;

/** The page size to use, or INVALID_ARGUMENT. */
export function pageSize(requested: number): number {
  if (requested === 0) return PAGE.default;
  if (!Number.isInteger(requested) || requested < 1 || requested > PAGE.max) {
    throw PaymentError.invalid([
      { field: 'page.page_size', description: `must be 1..${PAGE.max} (0 for ${PAGE.default})` },
    ]);
  }
  return requested;
}

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
