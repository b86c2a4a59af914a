// Delivery follows the orders topic: OrderConfirmed creates a fulfilment per group, OrderCancelled stops them,
// OrderRerouted stops one group's work and starts its replacement's. The topic is keyed by order id, so an order's
// events are handled in order. Handlers are idempotent (fulfilment ids derive from order and group), so a
// redelivered event changes nothing.
import * as orders from '@o2o/contracts/gen/o2o/orders/v1/orders';
import * as events from '@o2o/contracts/gen/o2o/orders/v1/events';
import type { IncomingMessage } from '@o2o/kit-kafka';
import type { Logger } from '@o2o/kit-log';
import { cancelFulfilments, type ConfirmedOrder, createFulfilments, rerouteFulfilment } from '../app/fulfil-order';
import type { Deps } from '../app/ports';
import { isDeliveryError } from '../domain/errors';
import type { DeliveryTarget, FulfilmentType } from '../domain/types';

/** The orders service's topic (without the deployment's prefix). */
export const ORDERS_TOPIC = 'o2o.orders.v1';

const TYPE_FROM_PB: Partial<Record<orders.FulfilmentType, FulfilmentType>> = {
  [orders.FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY]: 'HOME_DELIVERY',
  [orders.FulfilmentType.FULFILMENT_TYPE_SHIP_FROM_STORE]: 'SHIP_FROM_STORE',
  [orders.FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP]: 'STORE_PICKUP',
};

/** Handles one orders event; counts the ones it had to skip. */
export function ordersEventHandler(
  deps: Deps,
  logger: Logger,
  onSkipped: (type: string) => void,
): (message: IncomingMessage) => Promise<void> {
  return async (message) => {
    const type = message.headers.ce_type ?? '';
    try {
      switch (type) {
        case 'o2o.orders.v1.OrderConfirmed': {
          const order = events.OrderConfirmed.decode(message.value).order;
          if (order) await createFulfilments(deps, confirmedOrder(order));
          return;
        }
        case 'o2o.orders.v1.OrderCancelled': {
          const order = events.OrderCancelled.decode(message.value).order;
          if (order)
            await cancelFulfilments(
              deps,
              order.id,
              order.groups.map((g) => g.id),
            );
          return;
        }
        case 'o2o.orders.v1.OrderRerouted': {
          const { order, fromGroupId, toGroupId } = events.OrderRerouted.decode(message.value);
          if (!order) return;
          const { stopped } = await rerouteFulfilment(deps, confirmedOrder(order), { fromGroupId, toGroupId });
          if (!stopped) {
            // Orders re-routed a group whose goods were already handed over here: both now go ahead; say so.
            logger.warn(
              { orderId: order.id, fromGroupId, toGroupId },
              're-routed group was already handed over; its work was not stopped',
            );
          }
          return;
        }
        default:
          return;
      }
    } catch (error) {
      // A refusal (an unknown location, a group with no destination) cannot be cured by retrying: log, count,
      // skip. Anything else (the database or inventory down) is thrown, so the partition waits.
      if (isDeliveryError(error) && error.kind !== 'unavailable' && error.kind !== 'aborted') {
        logger.warn({ type, err: error, offset: message.offset }, 'orders event refused by delivery; skipped');
        onSkipped(type);
        return;
      }
      throw error;
    }
  };
}

function confirmedOrder(order: orders.Order): ConfirmedOrder {
  const d = order.fulfilment?.delivery;
  const delivery: DeliveryTarget | undefined = d?.point && {
    point: { latitude: d.point.latitude, longitude: d.point.longitude },
    ...(d.address
      ? {
          address: {
            lines: d.address.lines,
            district: d.address.district,
            city: d.address.city,
            region: d.address.region,
            postalCode: d.address.postalCode,
            countryCode: d.address.countryCode,
          },
        }
      : {}),
    ...(d.recipientName ? { recipientName: d.recipientName } : {}),
    ...(d.recipientPhone ? { recipientPhone: d.recipientPhone } : {}),
  };
  return {
    orderId: order.id,
    ...(order.customerId ? { customerId: order.customerId } : {}),
    attribution: {
      customerId: order.customerId,
      storeId: order.storeId,
      partnerId: order.marketplace?.partnerId ?? '',
    },
    ...(delivery ? { delivery } : {}),
    groups: order.groups.map((g) => ({
      groupId: g.id,
      type: TYPE_FROM_PB[g.type],
      locationId: g.locationId,
      items: g.items.map((i) => ({ sku: i.skuCode, quantity: Number(i.quantity) })),
    })),
  };
}
