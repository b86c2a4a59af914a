import * as events from '@o2o/contracts/gen/o2o/orders/v1/events';
import { moneyToWire } from '@o2o/kit-grpc';
import { outboxEntry, type OutboxEntry } from '@o2o/kit-outbox';
import type { RecordedEvent } from '../domain/types';
import { orderToPb } from './proto-mapping';

/** The orders topic; fulfilment, notifications and partners subscribe to it. */
export const ORDERS_TOPIC = 'o2o.orders.v1';
/** CloudEvents source of every orders event. */
export const ORDERS_SOURCE = '/o2o/orders';

/**
 * An encoder of domain events into protobuf outbox entries for `topic`. Key and ce_subject are the order id, so one
 * order's events reach consumers in order; each event carries the whole order after the change.
 */
export function ordersEventEncoder(topic: string): (list: RecordedEvent[]) => OutboxEntry[] {
  return (list) =>
    list.map((recorded) =>
      outboxEntry({
        topic,
        key: recorded.order.id,
        type: `o2o.orders.v1.${recorded.event.type}`,
        source: ORDERS_SOURCE,
        subject: recorded.order.id,
        time: recorded.order.updatedAt,
        payload: encode(recorded),
      }),
    );
}

function encode({ event, order: state }: RecordedEvent): Buffer {
  const order = orderToPb(state);
  switch (event.type) {
    case 'OrderPlaced':
      return Buffer.from(events.OrderPlaced.encode({ order }).finish());
    case 'OrderAwaitingPayment':
      return Buffer.from(events.OrderAwaitingPayment.encode({ order }).finish());
    case 'OrderConfirmed':
      return Buffer.from(events.OrderConfirmed.encode({ order }).finish());
    case 'OrderRejected':
      return Buffer.from(events.OrderRejected.encode({ order, reason: event.reason }).finish());
    case 'OrderCancelled':
      return Buffer.from(events.OrderCancelled.encode({ order, reason: event.reason }).finish());
    case 'OrderInFulfillment':
      return Buffer.from(events.OrderInFulfillment.encode({ order, groupId: event.groupId }).finish());
    case 'OrderReadyForPickup':
      return Buffer.from(events.OrderReadyForPickup.encode({ order, groupId: event.groupId }).finish());
    case 'OrderShipped':
      return Buffer.from(events.OrderShipped.encode({ order, groupId: event.groupId }).finish());
    case 'OrderPickedUp':
      return Buffer.from(events.OrderPickedUp.encode({ order, groupId: event.groupId }).finish());
    case 'OrderDelivered':
      return Buffer.from(events.OrderDelivered.encode({ order, groupId: event.groupId }).finish());
    case 'OrderDeliveryFailed':
      return Buffer.from(
        events.OrderDeliveryFailed.encode({ order, groupId: event.groupId, reason: event.reason }).finish(),
      );
    case 'OrderRerouted':
      return Buffer.from(
        events.OrderRerouted.encode({
          order,
          fromGroupId: event.fromGroupId,
          toGroupId: event.toGroupId,
          reason: event.reason,
        }).finish(),
      );
    case 'OrderCompleted':
      return Buffer.from(events.OrderCompleted.encode({ order }).finish());
    case 'ReturnRequested':
      return Buffer.from(events.ReturnRequested.encode({ order, returnId: event.returnId }).finish());
    case 'OrderRefunded':
      return Buffer.from(
        events.OrderRefunded.encode({ order, returnId: event.returnId, amount: moneyToWire(event.amount) }).finish(),
      );
  }
}
