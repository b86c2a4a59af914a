// Who may manage which subscription: partners their own, admins all. Someone else's subscription answers 404 like a
// missing one, so subscription ids do not leak; a role that has no webhooks at all answers 403.
import type { Principal } from '@o2o/kit-grpc';
import { HttpProblem } from '../http/problem';
import type { Subscription } from './model';
import type { SubscriptionStore } from './ports';

/** Refuses callers that are neither a partner nor an admin. */
export function requireManager(principal: Principal): void {
  if (principal.role !== 'partner' && principal.role !== 'admin') {
    throw new HttpProblem(403, 'Only partners and admins manage webhook subscriptions');
  }
}

/** Whether the principal owns the subscription or is an admin. */
export function canManage(principal: Principal, subscription: Pick<Subscription, 'owner'>): boolean {
  if (principal.role === 'admin') return true;
  return (
    principal.role === 'partner' &&
    subscription.owner.role === 'partner' &&
    subscription.owner.subject === principal.subject
  );
}

/** The subscription if the principal may manage it; 404 otherwise (missing and not-yours look the same). */
export async function loadManaged(
  store: SubscriptionStore,
  principal: Principal,
  subscriptionId: string,
): Promise<Subscription> {
  requireManager(principal);
  const found =
    typeof subscriptionId === 'string' && subscriptionId.length > 0 && subscriptionId.length <= 64
      ? await store.find(subscriptionId)
      : undefined;
  if (!found || !canManage(principal, found)) {
    throw HttpProblem.notFound(`No webhook subscription "${String(subscriptionId).slice(0, 64)}"`);
  }
  return found;
}
