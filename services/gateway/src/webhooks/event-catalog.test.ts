import * as orderEvents from '@o2o/contracts/gen/o2o/orders/v1/events';
import { Channel } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { loadEventCatalog } from './event-catalog';

describe('event catalogue', () => {
  const catalog = loadEventCatalog();

  it("offers the messages of the four domains' events.proto, not helper messages", () => {
    expect(catalog.eventTypes).toEqual(
      expect.arrayContaining([
        'o2o.orders.v1.OrderConfirmed',
        'o2o.delivery.v1.Delivered',
        'o2o.payments.v1.PaymentCaptured',
        'o2o.catalogue.v1.PriceChanged',
      ]),
    );
    expect(catalog.eventTypes).not.toContain('o2o.delivery.v1.FulfilmentRef');
    expect(catalog.eventTypes.some((t) => t.startsWith('o2o.inventory.'))).toBe(false);
    expect(catalog.domainOf('o2o.orders.v1.Order')).toBeUndefined();
    expect(catalog.domainOf('o2o.delivery.v1.PickedUp')).toBe('delivery');
    expect(catalog.channels).toContain('CHANNEL_MARKETPLACE');
    expect(catalog.channels).not.toContain('CHANNEL_UNSPECIFIED');
  });

  it('decodes an event into its proto3 JSON', () => {
    const value = orderEvents.OrderConfirmed.encode({
      order: orderEvents.OrderConfirmed.fromPartial({
        order: { id: 'o-1', channel: Channel.CHANNEL_MARKETPLACE, marketplace: { partnerId: 'p-1' }, version: '3' },
      }).order,
    }).finish();
    expect(catalog.toJson('o2o.orders.v1.OrderConfirmed', value)).toEqual({
      order: { id: 'o-1', channel: 'CHANNEL_MARKETPLACE', marketplace: { partnerId: 'p-1' }, version: '3' },
    });
    expect(() => catalog.toJson('o2o.orders.v1.Order', value)).toThrow(/not a webhook event type/);
  });
});
