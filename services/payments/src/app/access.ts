// Who may do what with payments, for calls that carry the caller's principal (the gateway puts it in the call's
// metadata). Money moves only on the orders saga's internal calls (no principal) or an admin's; a payment is shown
// to whoever may see its order, by the platform's one ownership rule (kit-grpc canSeeOrder).
import { canSeeOrder, type Principal } from '@o2o/kit-grpc';
import { PaymentError } from '../domain/errors';
import type { PaymentState } from '../domain/payment';

/** Who calls a use case: a principal, or undefined for an internal call. */
export interface CallerOption {
  caller?: Principal;
}

/** Authorise, capture, void, refund and reconcile are the orders saga's: PERMISSION_DENIED for any other principal. */
export function checkMayMoveMoney(caller: Principal | undefined): void {
  if (caller && caller.role !== 'admin') {
    throw new PaymentError('permission-denied', 'Permission denied: payments are moved by the orders service only');
  }
}

/** Whether the caller may see the payment: internal calls and admins always; others if they may see its order. */
export function maySeePayment(caller: Principal | undefined, payment: PaymentState): boolean {
  if (!caller || caller.role === 'admin') return true;
  // A payment made before orders said whose it is: admins only.
  return payment.attribution !== undefined && canSeeOrder(caller, payment.attribution);
}
