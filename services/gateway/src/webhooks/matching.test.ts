import { passesFilters, subscriptionReceives, typeMatches } from './matching';
import type { MatchableEvent, OrderFacts, Subscription } from './model';

const created = new Date('2026-01-01T00:00:00Z');
const later = new Date('2026-01-01T01:00:00Z');

function subscription(overrides: Partial<Subscription> = {}): Subscription {
  return {
    id: 'whs_1',
    owner: { role: 'partner', subject: 'p-1', storeIds: ['s-1'] },
    url: 'https://partner.example/hook',
    eventTypes: ['o2o.orders.v1.*', 'o2o.catalogue.v1.PriceChanged'],
    filters: {},
    description: '',
    status: 'ACTIVE',
    createTime: created,
    updateTime: created,
    version: 1,
    secrets: [],
    ...overrides,
  };
}

const order = (overrides: Partial<OrderFacts> = {}): OrderFacts => ({
  customerId: 'c-1',
  storeId: '',
  partnerId: '',
  locationIds: [],
  channel: 'CHANNEL_WEB',
  ...overrides,
});

const orderEvent = (facts: OrderFacts | undefined, type = 'o2o.orders.v1.OrderConfirmed'): MatchableEvent => ({
  type,
  time: later,
  orderScoped: true,
  ...(facts ? { order: facts } : {}),
});

describe('event types', () => {
  it('match by full name or by a domain wildcard, nothing else', () => {
    expect(typeMatches('o2o.orders.v1.OrderConfirmed', 'o2o.orders.v1.OrderConfirmed')).toBe(true);
    expect(typeMatches('o2o.orders.v1.*', 'o2o.orders.v1.OrderShipped')).toBe(true);
    expect(typeMatches('o2o.orders.v1.*', 'o2o.delivery.v1.Delivered')).toBe(false);
    expect(typeMatches('o2o.orders.v1.OrderConfirmed', 'o2o.orders.v1.OrderConfirmedX')).toBe(false);
  });
});

describe('who receives an order event', () => {
  it("a partner receives its own marketplace orders and its stores' orders, never another partner's", () => {
    const mine = subscription();
    expect(subscriptionReceives(mine, orderEvent(order({ partnerId: 'p-1' })))).toBe(true);
    expect(subscriptionReceives(mine, orderEvent(order({ storeId: 's-1' })))).toBe(true);
    expect(subscriptionReceives(mine, orderEvent(order({ locationIds: ['wh-1', 's-1'] })))).toBe(true);
    expect(subscriptionReceives(mine, orderEvent(order({ partnerId: 'p-2' })))).toBe(false);
    expect(subscriptionReceives(mine, orderEvent(order({ storeId: 's-2', locationIds: ['s-3'] })))).toBe(false);
  });

  it('an unknown order goes to admins only', () => {
    expect(subscriptionReceives(subscription(), orderEvent(undefined))).toBe(false);
    const admin = subscription({ owner: { role: 'admin', subject: 'root', storeIds: [] } });
    expect(subscriptionReceives(admin, orderEvent(undefined))).toBe(true);
  });

  it('filters narrow by store (selling or fulfilling) and by channel', () => {
    const admin = { role: 'admin' as const, subject: 'root', storeIds: [] };
    const byStore = subscription({ owner: admin, filters: { storeIds: ['s-9'] } });
    expect(subscriptionReceives(byStore, orderEvent(order({ storeId: 's-9' })))).toBe(true);
    expect(subscriptionReceives(byStore, orderEvent(order({ locationIds: ['s-9'] })))).toBe(true);
    expect(subscriptionReceives(byStore, orderEvent(order({ storeId: 's-1' })))).toBe(false);
    const byChannel = subscription({ owner: admin, filters: { channels: ['CHANNEL_MARKETPLACE'] } });
    expect(subscriptionReceives(byChannel, orderEvent(order({ channel: 'CHANNEL_MARKETPLACE' })))).toBe(true);
    expect(subscriptionReceives(byChannel, orderEvent(order({ channel: 'CHANNEL_WEB' })))).toBe(false);
    expect(passesFilters(byChannel, undefined)).toBe(false);
    expect(passesFilters(subscription(), undefined)).toBe(true);
  });

  it('filters never widen what the ownership rule allows', () => {
    const filtered = subscription({ filters: { storeIds: ['s-1'] } });
    expect(subscriptionReceives(filtered, orderEvent(order({ partnerId: 'p-2', storeId: 's-1' })))).toBe(true);
    expect(subscriptionReceives(filtered, orderEvent(order({ partnerId: 'p-1', storeId: 's-2' })))).toBe(false);
  });

  it('needs an ACTIVE subscription, a subscribed type, and an event after the subscription was created', () => {
    const facts = order({ partnerId: 'p-1' });
    expect(subscriptionReceives(subscription({ status: 'PAUSED' }), orderEvent(facts))).toBe(false);
    expect(subscriptionReceives(subscription(), orderEvent(facts, 'o2o.delivery.v1.Delivered'))).toBe(false);
    expect(subscriptionReceives(subscription(), { ...orderEvent(facts), time: new Date(created.getTime() - 1) })).toBe(
      false,
    );
  });
});

describe('catalogue events', () => {
  it('go to every subscriber of the type; store and channel filters do not apply', () => {
    const event: MatchableEvent = { type: 'o2o.catalogue.v1.PriceChanged', time: later, orderScoped: false };
    expect(
      subscriptionReceives(subscription({ filters: { storeIds: ['s-1'], channels: ['CHANNEL_WEB'] } }), event),
    ).toBe(true);
    expect(subscriptionReceives(subscription({ eventTypes: ['o2o.orders.v1.*'] }), event)).toBe(false);
  });
});
