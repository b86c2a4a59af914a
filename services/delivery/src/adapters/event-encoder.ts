import * as pb from '@o2o/contracts/gen/o2o/delivery/v1/events';
import { TaskStage as PbTaskStage } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { outboxEntry, type OutboxEntry } from '@o2o/kit-outbox';
import type { StoredTracking } from '../app/tracking-ports';
import type { DeliveryEvent, FulfilmentState, TaskStage } from '../domain/types';

/** The delivery topic; orders, notifications and partners subscribe to it. */
export const DELIVERY_TOPIC = 'o2o.delivery.v1';
/** CloudEvents source of every delivery event. */
export const DELIVERY_SOURCE = '/o2o/delivery';

const STAGE_TO_PB: Record<TaskStage, PbTaskStage> = {
  ACCEPT: PbTaskStage.TASK_STAGE_ACCEPT,
  PICK: PbTaskStage.TASK_STAGE_PICK,
  PACK: PbTaskStage.TASK_STAGE_PACK,
};

/** Turns a fulfilment's domain events into outbox entries; and its throttled position reports. */
export interface DeliveryEventEncoder {
  events(state: FulfilmentState, list: DeliveryEvent[]): OutboxEntry[];
  position(state: FulfilmentState, tracking: StoredTracking): OutboxEntry;
}

/**
 * Encodes events for `topic`. Key and ce_subject are the order id, so the events of one order's fulfilment reach
 * consumers in order (the orders service needs ready → picked up, out for delivery → delivered).
 */
export function deliveryEventEncoder(topic: string): DeliveryEventEncoder {
  const entry = (state: FulfilmentState, type: string, time: Date, payload: Uint8Array) =>
    outboxEntry({
      topic,
      key: state.orderId,
      type: `o2o.delivery.v1.${type}`,
      source: DELIVERY_SOURCE,
      subject: state.orderId,
      time,
      payload: Buffer.from(payload),
    });
  return {
    events: (state, list) => list.map((event) => entry(state, event.type, eventTime(event), encode(state, event))),
    position(state, tracking) {
      const shipment = state.shipment;
      const payload = pb.ShipmentPosition.encode({
        ref: refOf(state),
        shipmentId: shipment?.id ?? '',
        courierId: shipment?.courierId ?? '',
        point: tracking.position.point,
        time: tracking.position.time,
        eta: tracking.eta,
        remainingDistanceM: String(tracking.remainingDistanceM ?? 0),
      }).finish();
      return entry(state, 'ShipmentPosition', tracking.position.time, payload);
    },
  };
}

function refOf(state: FulfilmentState): pb.FulfilmentRef {
  return { orderId: state.orderId, groupId: state.groupId, locationId: state.locationId };
}

function eventTime(event: DeliveryEvent): Date {
  return event.type === 'TaskOverdue' ? event.deadline : event.time;
}

function encode(state: FulfilmentState, event: DeliveryEvent): Uint8Array {
  const ref = refOf(state);
  const shipmentId = state.shipment?.id ?? '';
  switch (event.type) {
    case 'TaskAccepted':
      return pb.TaskAccepted.encode({ ref, taskId: state.id, time: event.time }).finish();
    case 'TaskOverdue':
      return pb.TaskOverdue.encode({
        ref,
        taskId: state.id,
        deadline: event.deadline,
        stage: STAGE_TO_PB[event.stage],
      }).finish();
    case 'ShipmentCreated':
      return pb.ShipmentCreated.encode({ ref, shipmentId, time: event.time }).finish();
    case 'CourierAssigned':
      return pb.CourierAssigned.encode({ ref, shipmentId, courierId: event.courierId, time: event.time }).finish();
    case 'ReadyForPickup':
      return pb.ReadyForPickup.encode({ ref, time: event.time }).finish();
    case 'PickedUp':
      return pb.PickedUp.encode({ ref, shipmentId: event.byCourier ? shipmentId : '', time: event.time }).finish();
    case 'OutForDelivery':
      return pb.OutForDelivery.encode({ ref, shipmentId, courierId: event.courierId, time: event.time }).finish();
    case 'Delivered':
      return pb.Delivered.encode({ ref, shipmentId, time: event.time }).finish();
    case 'DeliveryFailed':
      return pb.DeliveryFailed.encode({ ref, shipmentId, reason: event.reason, time: event.time }).finish();
    case 'PickupExpired':
      return pb.PickupExpired.encode({ ref, time: event.time }).finish();
    case 'FulfilmentCancelled':
      return pb.FulfilmentCancelled.encode({ ref, shipmentId, time: event.time }).finish();
  }
}
