// Which subscriptions receive an event. Order-scoped events (orders, delivery, payments) go only to owners who may
// see the order under the one ownership rule (canSeeOrder), so a partner never receives another partner's orders;
// then the subscription's own filters narrow them further. Catalogue events concern no order: every subscriber of
// the type gets them, and store and channel filters do not apply to them.
import { canSeeOrder, type Principal } from '@o2o/kit-grpc';
import type { MatchableEvent, OrderFacts, Subscription, SubscriptionOwner } from './model';

/** Whether a type is named by a pattern: the full name, or `<package>.*` for every event of one domain. */
export function typeMatches(pattern: string, type: string): boolean {
  if (pattern.endsWith('.*')) {
    const pkg = pattern.slice(0, -1);
    return type.startsWith(pkg) && !type.slice(pkg.length).includes('.');
  }
  return pattern === type;
}

/** The principal the ownership rule is applied to (scopes play no part in it). */
export function ownerPrincipal(owner: SubscriptionOwner): Principal {
  return { role: owner.role, subject: owner.subject, storeIds: owner.storeIds, scopes: [] };
}

const NO_ORDER: OrderFacts = { customerId: '', storeId: '', partnerId: '', locationIds: [], channel: '' };

/** Whether an order passes a subscription's store and channel filters (unset filters pass everything). */
export function passesFilters(subscription: Pick<Subscription, 'filters'>, order: OrderFacts | undefined): boolean {
  const { storeIds, channels } = subscription.filters;
  const facts = order ?? NO_ORDER;
  if (storeIds && storeIds.length > 0) {
    const atStore =
      (facts.storeId !== '' && storeIds.includes(facts.storeId)) || facts.locationIds.some((l) => storeIds.includes(l));
    if (!atStore) return false;
  }
  if (channels && channels.length > 0 && !channels.includes(facts.channel)) return false;
  return true;
}

/** Whether an ACTIVE subscription asked for this type of event at all (the cheap check, before any order lookup). */
export function wantsType(
  subscription: Pick<Subscription, 'status' | 'eventTypes' | 'createTime'>,
  event: Pick<MatchableEvent, 'type' | 'time'>,
): boolean {
  // Events from before the subscription existed are not sent (a new consumer group reads topics from the start).
  if (subscription.status !== 'ACTIVE' || event.time.getTime() < subscription.createTime.getTime()) return false;
  return subscription.eventTypes.some((p) => typeMatches(p, event.type));
}

/** Whether the subscription receives the event: its type, the ownership rule, then its filters. */
export function subscriptionReceives(
  subscription: Pick<Subscription, 'status' | 'eventTypes' | 'createTime' | 'owner' | 'filters'>,
  event: MatchableEvent,
): boolean {
  if (!wantsType(subscription, event)) return false;
  if (!event.orderScoped) return true;
  if (!canSeeOrder(ownerPrincipal(subscription.owner), event.order ?? NO_ORDER)) return false;
  return passesFilters(subscription, event.order);
}
