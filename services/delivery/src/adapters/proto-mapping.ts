// Proto ↔ domain mapping for the delivery service (the only place that knows both).
import * as pb from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { invertEnumTable } from '@o2o/kit-grpc';
import type { CourierFix } from '../app/tracking-ports';
import type { CourierState, Vehicle } from '../domain/courier';
import type { FulfilmentState, FulfilmentType, ShipmentStatus, TaskStage, TaskStatus } from '../domain/types';

export const FULFILMENT_TYPE_TO_PB: Record<FulfilmentType, pb.FulfilmentType> = {
  HOME_DELIVERY: pb.FulfilmentType.FULFILMENT_TYPE_HOME_DELIVERY,
  SHIP_FROM_STORE: pb.FulfilmentType.FULFILMENT_TYPE_SHIP_FROM_STORE,
  STORE_PICKUP: pb.FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
};

export const TASK_STATUS_TO_PB: Record<TaskStatus, pb.TaskStatus> = {
  OPEN: pb.TaskStatus.TASK_STATUS_OPEN,
  ACCEPTED: pb.TaskStatus.TASK_STATUS_ACCEPTED,
  PICKED: pb.TaskStatus.TASK_STATUS_PICKED,
  READY: pb.TaskStatus.TASK_STATUS_READY,
  HANDED_OVER: pb.TaskStatus.TASK_STATUS_HANDED_OVER,
  EXPIRED: pb.TaskStatus.TASK_STATUS_EXPIRED,
  CANCELLED: pb.TaskStatus.TASK_STATUS_CANCELLED,
};
export const TASK_STATUS_FROM_PB = invertEnumTable(TASK_STATUS_TO_PB);

const STAGE_TO_PB: Record<TaskStage, pb.TaskStage> = {
  ACCEPT: pb.TaskStage.TASK_STAGE_ACCEPT,
  PICK: pb.TaskStage.TASK_STAGE_PICK,
  PACK: pb.TaskStage.TASK_STAGE_PACK,
};

export const SHIPMENT_STATUS_TO_PB: Record<ShipmentStatus, pb.ShipmentStatus> = {
  AWAITING_COURIER: pb.ShipmentStatus.SHIPMENT_STATUS_AWAITING_COURIER,
  ASSIGNED: pb.ShipmentStatus.SHIPMENT_STATUS_ASSIGNED,
  PICKED_UP: pb.ShipmentStatus.SHIPMENT_STATUS_PICKED_UP,
  OUT_FOR_DELIVERY: pb.ShipmentStatus.SHIPMENT_STATUS_OUT_FOR_DELIVERY,
  DELIVERED: pb.ShipmentStatus.SHIPMENT_STATUS_DELIVERED,
  FAILED: pb.ShipmentStatus.SHIPMENT_STATUS_FAILED,
  CANCELLED: pb.ShipmentStatus.SHIPMENT_STATUS_CANCELLED,
};

export const VEHICLE_TO_PB: Record<Vehicle, pb.Vehicle> = {
  BICYCLE: pb.Vehicle.VEHICLE_BICYCLE,
  E_BIKE: pb.Vehicle.VEHICLE_E_BIKE,
  MOTORBIKE: pb.Vehicle.VEHICLE_MOTORBIKE,
  CAR: pb.Vehicle.VEHICLE_CAR,
  ON_FOOT: pb.Vehicle.VEHICLE_ON_FOOT,
};
export const VEHICLE_FROM_PB = invertEnumTable(VEHICLE_TO_PB);

/** A stored position → proto. */
export function positionToPb(fix: CourierFix | undefined): pb.Position | undefined {
  return (
    fix && {
      point: fix.point,
      time: fix.time,
      speedMps: fix.speedMps,
      headingDeg: fix.headingDeg,
      accuracyM: fix.accuracyM,
    }
  );
}

/** A fulfilment → proto. Codes are never part of it (they have their own call). */
export function fulfilmentToPb(
  state: FulfilmentState,
  tracking?: { eta?: Date; remainingDistanceM?: number; position?: CourierFix },
): pb.Fulfilment {
  const t = state.task;
  const s = state.shipment;
  return {
    id: state.id,
    orderId: state.orderId,
    groupId: state.groupId,
    locationId: state.locationId,
    type: FULFILMENT_TYPE_TO_PB[state.type],
    items: state.items.map((i) => ({ sku: i.sku, quantity: i.quantity })),
    customerId: state.customerId ?? '',
    task: {
      status: TASK_STATUS_TO_PB[t.status],
      deadlines: { acceptBy: t.acceptBy, pickBy: t.pickBy, packBy: t.packBy },
      overdue: t.overdue.map((o) => STAGE_TO_PB[o]),
      associateId: t.associateId ?? '',
    },
    pickup: state.pickup && {
      readyTime: state.pickup.readyAt,
      expireTime: state.pickup.expiresAt,
      collectTime: state.pickup.collectedAt,
      failedAttempts: state.pickup.code.failedAttempts,
      lockedUntil: state.pickup.code.lockedUntil,
    },
    shipment: s && {
      id: s.id,
      status: SHIPMENT_STATUS_TO_PB[s.status],
      origin: s.origin,
      destination: state.delivery?.point,
      address: state.delivery?.address && { ...state.delivery.address, location: undefined },
      recipientName: state.delivery?.recipientName ?? '',
      recipientPhone: state.delivery?.recipientPhone ?? '',
      courierId: s.courierId ?? '',
      offer: s.offer && { courierId: s.offer.courierId, expireTime: s.offer.expiresAt },
      passedBy: [...s.passedBy],
      lastPosition: positionToPb(tracking?.position),
      eta: tracking?.eta,
      remainingDistanceM: String(tracking?.remainingDistanceM ?? 0),
      failureReason: s.failureReason ?? '',
      failedCodeAttempts: s.code.failedAttempts,
      createTime: s.createdAt,
      deliverTime: s.deliveredAt,
    },
    version: String(state.version),
    createTime: state.createdAt,
    updateTime: state.updatedAt,
  };
}

/** A courier → proto. */
export function courierToPb(c: CourierState): pb.Courier {
  return {
    id: c.id,
    name: c.name,
    phone: c.phone,
    vehicle: VEHICLE_TO_PB[c.vehicle],
    capacity: c.capacity,
    available: c.available,
    position: positionToPb(c.position),
    shipmentIds: [...c.shipmentIds],
    version: String(c.version),
  };
}
