// Placing orders through the REST gateway: the three kinds of the order mix as a REST client sends them (proto3
// JSON of the shared sample order, with the kind's channel, fulfilment and payment), and one placement's answer.
import { Channel, FulfilmentType, PaymentMethod, PlaceOrderRequest } from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { homeDeliveryOrder } from '@o2o/kit-bench';
import type { Answer } from './progress';
import type { System } from './system';

/** Online home delivery (WEB, card), pick-up in store (APP, card), and a store till sale carried out (POS, cash). */
export type Kind = 'delivery' | 'pickup' | 'pos';
export const KINDS: readonly Kind[] = ['delivery', 'pickup', 'pos'];

/** The status each kind reaches when placement succeeds: a POS carry-out sale completes at once. */
export const SUCCESS_STATUS: Record<Kind, string> = {
  delivery: 'ORDER_STATUS_CONFIRMED',
  pickup: 'ORDER_STATUS_CONFIRMED',
  pos: 'ORDER_STATUS_COMPLETED',
};

/** The REST body (no request id: the Idempotency-Key header carries it) of an order of this kind. */
export function orderBody(
  kind: Kind,
  lines: { skuCode: string; quantity: number }[],
  place: { storeId: string; associateId: string },
): Record<string, unknown> {
  const overrides: Partial<PlaceOrderRequest> =
    kind === 'delivery'
      ? {}
      : kind === 'pickup'
        ? {
            channel: Channel.CHANNEL_APP,
            fulfilment: {
              type: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
              delivery: undefined,
              pickupLocationId: place.storeId,
            },
          }
        : {
            channel: Channel.CHANNEL_STORE_POS,
            storeId: place.storeId,
            associateId: place.associateId,
            fulfilment: {
              type: FulfilmentType.FULFILMENT_TYPE_IN_STORE_CARRY_OUT,
              delivery: undefined,
              pickupLocationId: '',
            },
            payment: { method: PaymentMethod.PAYMENT_METHOD_CASH, card: undefined, walletChannel: 0, terminalId: '' },
          };
  return PlaceOrderRequest.toJSON(homeDeliveryOrder({ requestId: '', customerId: '', lines }, overrides)) as Record<
    string,
    unknown
  >;
}

/** The order a placement answered, as far as the bench reads it. */
export interface PlacedOrder {
  id: string;
  status: string;
  statusReason?: string;
  groups?: { id: string; locationId: string; holdId?: string }[];
}

/**
 * POST /v1/orders with this key; ok when the order reached `expect`. Another status is an outcome named after it
 * (with the reason); an answer other than 201 is an error.
 */
export async function placeRest(
  sys: System,
  key: string,
  idempotencyKey: string,
  body: Record<string, unknown>,
  expect: string,
  tag?: string,
): Promise<Answer & { order?: PlacedOrder }> {
  const answer = await sys.http.call(
    'POST',
    '/v1/orders',
    { 'x-api-key': key, 'idempotency-key': idempotencyKey },
    body,
  );
  if (answer.status !== 201)
    return {
      ok: false,
      outcome: 'error',
      detail: `HTTP ${answer.status}: ${answer.text.slice(0, 300)}`,
      ...(tag ? { tag } : {}),
    };
  const { order } = JSON.parse(answer.text) as { order: PlacedOrder };
  if (order.status === expect) return { ok: true, order, ...(tag ? { tag } : {}) };
  return {
    ok: false,
    outcome: order.status.replace('ORDER_STATUS_', ''),
    ...(order.statusReason ? { detail: order.statusReason } : {}),
    order,
    ...(tag ? { tag } : {}),
  };
}
