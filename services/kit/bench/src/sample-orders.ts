// The sample orders and locations the benchmark and the end-to-end tests place: central Shanghai, a card order
// delivered near People's Square. One definition, so the benchmark measures what the tests check.
import { type LocationInput, LocationKind, LocationStatus } from '@o2o/contracts/gen/o2o/inventory/v1/inventory';
import { Channel, FulfilmentType, PaymentMethod, PlaceOrderRequest } from '@o2o/contracts/gen/o2o/orders/v1/orders';

/** A delivery address near People's Square, within the sample locations' same-day radius. */
export const SAMPLE_DELIVERY_POINT = { latitude: 31.2304, longitude: 121.4737 };
/** The payments simulator approves this card. */
export const APPROVED_CARD = '4242424242424242';

/** An open location in Huangpu, open every day; a store offers pick-up, every location ships and takes returns. */
export function sampleLocation(
  name: string,
  kind: LocationKind,
  point: { latitude: number; longitude: number },
  options: { addressLine?: string; sameDayRadiusM?: number } = {},
): LocationInput {
  return {
    name,
    kind,
    point,
    address: {
      lines: [options.addressLine ?? `${name} 1`],
      district: 'Huangpu',
      city: 'Shanghai',
      region: 'Shanghai',
      postalCode: '200001',
      countryCode: 'CN',
      location: undefined,
    },
    timeZone: 'Asia/Shanghai',
    openingHours: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, opens: '00:00', closes: '23:59' })),
    capabilities: {
      shipsParcels: true,
      storePickup: kind === LocationKind.LOCATION_KIND_STORE,
      sameDayRadiusM: options.sameDayRadiusM ?? 20_000,
      acceptsReturns: true,
    },
    status: LocationStatus.LOCATION_STATUS_OPEN,
  };
}

/** A WEB order delivered near People's Square, paid by an approved card; `overrides` replace whole fields. */
export function homeDeliveryOrder(
  order: { requestId: string; customerId: string; lines: { skuCode: string; quantity: number }[] },
  overrides: Partial<PlaceOrderRequest> = {},
): PlaceOrderRequest {
  return PlaceOrderRequest.fromPartial({
    requestId: order.requestId,
    channel: Channel.CHANNEL_WEB,
    customerId: order.customerId,
    lines: order.lines.map((l) => ({ skuCode: l.skuCode, quantity: String(l.quantity) })),
    currency: 'CNY',
    fulfilment: {
      type: FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
      delivery: {
        point: SAMPLE_DELIVERY_POINT,
        address: {
          lines: ['1 People Avenue'],
          district: 'Huangpu',
          city: 'Shanghai',
          region: 'Shanghai',
          postalCode: '200003',
          countryCode: 'CN',
        },
        recipientName: 'Li Wei',
        recipientPhone: '+8613800138000',
      },
    },
    payment: { method: PaymentMethod.PAYMENT_METHOD_CARD, card: { number: APPROVED_CARD } },
    ...overrides,
  });
}
