// The orders service follows payments (wallet paid or expired, late authorisations) and delivery (the groups'
// progress, expired pick-ups, overdue tasks that lead to re-routes). Both topics are keyed by order id, so one
// order's events arrive in order. Handlers are idempotent by state (a repeat changes nothing); a refusal by the
// lifecycle (a late event for a re-routed group, say) is logged and skipped, never retried forever. Other event types
// (shipments, couriers, positions, FulfilmentCancelled: the echo of a cancellation or re-route orders made) are not
// this service's concern and are skipped silently.
import { TaskStage } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import * as delivery from '@o2o/contracts/gen/o2o/delivery/v1/events';
import * as payments from '@o2o/contracts/gen/o2o/payments/v1/events';
import type { IncomingMessage } from '@o2o/kit-kafka';
import type { Logger } from '@o2o/kit-log';
import { onFulfilmentEvent, onPaymentEvent, onTaskOverdue } from '../app/change-order';
import type { Deps } from '../app/ports';
import { isOrderError } from '../domain/errors';
import type { FulfilmentStep } from '../domain/order';
import { int64FromPb } from './proto-mapping';

/** The payments service's topic (without the deployment's prefix). */
export const PAYMENTS_TOPIC = 'o2o.payments.v1';
/** The delivery service's topic (without the deployment's prefix). */
export const DELIVERY_TOPIC = 'o2o.delivery.v1';

/** Which deadline of a delivery task passed (TaskOverdue). */
export type OverdueStage = 'ACCEPT' | 'PICK' | 'PACK' | 'UNSPECIFIED';

/** A delivery event as orders reads it: a group's step, or a task past a deadline. */
export type DeliveryEvent =
  | ({ kind: 'step' } & Parameters<typeof onFulfilmentEvent>[1])
  | ({ kind: 'overdue'; stage: OverdueStage } & Parameters<typeof onTaskOverdue>[1]);

/** What the consumers report besides logs (metrics). */
export interface ConsumerHooks {
  /** An event the lifecycle refused and that was skipped. */
  onRefused: (type: string) => void;
  /** Delivery announced a task past its deadline (every stage; a redelivery may count again). */
  onOverdue?: (stage: OverdueStage) => void;
}

/** Handles one payments event. */
export function paymentsEventHandler(
  deps: Deps,
  logger: Logger,
  hooks: ConsumerHooks,
): (message: IncomingMessage) => Promise<void> {
  return eventHandler(readPayment, (event) => onPaymentEvent(deps, event), logger, hooks.onRefused);
}

/** Handles one delivery event. */
export function deliveryEventHandler(
  deps: Deps,
  logger: Logger,
  hooks: ConsumerHooks,
): (message: IncomingMessage) => Promise<void> {
  const apply = async (event: DeliveryEvent): Promise<void> => {
    if (event.kind === 'step') return onFulfilmentEvent(deps, event);
    hooks.onOverdue?.(event.stage);
    // Only a task nobody accepted concerns the order (its group may be re-routed to another location); late
    // picking or packing is counted, not recorded.
    if (event.stage === 'ACCEPT') await onTaskOverdue(deps, event);
  };
  return eventHandler(readDelivery, apply, logger, hooks.onRefused);
}

// Decodes the events it knows (others are not this service's concern) and applies them, skipping refusals.
function eventHandler<E>(
  read: (type: string, value: Buffer) => E | undefined,
  apply: (event: E) => Promise<void>,
  logger: Logger,
  onIgnored: (type: string) => void,
): (message: IncomingMessage) => Promise<void> {
  return async (message) => {
    const type = message.headers.ce_type ?? '';
    const event = read(type, message.value);
    if (event) await refusalsSkipped(logger, type, onIgnored, () => apply(event));
  };
}

async function refusalsSkipped(
  logger: Logger,
  type: string,
  onIgnored: (type: string) => void,
  handle: () => Promise<void>,
): Promise<void> {
  try {
    await handle();
  } catch (error) {
    // The lifecycle refused it (an unknown group, a step it forbids): retrying cannot help. Anything else (the
    // database down) is thrown, so the partition waits and the event is handled once the cause is gone.
    if (isOrderError(error) && error.kind !== 'aborted' && error.kind !== 'unavailable') {
      logger.warn({ type, err: error }, 'event refused by the order lifecycle; skipped');
      onIgnored(type);
      return;
    }
    throw error;
  }
}

function readPayment(type: string, value: Buffer): Parameters<typeof onPaymentEvent>[1] | undefined {
  switch (type) {
    case 'o2o.payments.v1.PaymentAuthorized': {
      const p = payments.PaymentAuthorized.decode(value).payment;
      if (!p) return undefined;
      const amount = p.authorizedAmount ?? p.amount;
      return {
        orderId: p.orderId,
        paymentId: p.id,
        kind: 'authorized',
        amount: { currency: amount?.currencyCode ?? '', amountMinor: int64FromPb(amount?.amountMinor ?? '0') },
      };
    }
    case 'o2o.payments.v1.PaymentExpired': {
      const p = payments.PaymentExpired.decode(value).payment;
      return p && { orderId: p.orderId, paymentId: p.id, kind: 'expired' };
    }
    case 'o2o.payments.v1.PaymentDeclined': {
      const p = payments.PaymentDeclined.decode(value).payment;
      return p && { orderId: p.orderId, paymentId: p.id, kind: 'declined' };
    }
    default:
      return undefined;
  }
}

/** Decodes the delivery events orders acts on; undefined for the others (and for events without a ref). */
export function readDelivery(type: string, value: Uint8Array): DeliveryEvent | undefined {
  const step = (
    ref: delivery.FulfilmentRef | undefined,
    s: FulfilmentStep,
    reason?: string,
  ): DeliveryEvent | undefined =>
    ref && { kind: 'step', orderId: ref.orderId, groupId: ref.groupId, step: s, ...(reason ? { reason } : {}) };
  switch (type) {
    case 'o2o.delivery.v1.TaskAccepted':
      return step(delivery.TaskAccepted.decode(value).ref, 'ACCEPTED');
    case 'o2o.delivery.v1.ReadyForPickup':
      return step(delivery.ReadyForPickup.decode(value).ref, 'READY_FOR_PICKUP');
    case 'o2o.delivery.v1.PickedUp': {
      const event = delivery.PickedUp.decode(value);
      // A courier collecting a delivery group is followed by OutForDelivery; only a shopper's collection counts here.
      return event.shipmentId ? undefined : step(event.ref, 'PICKED_UP');
    }
    case 'o2o.delivery.v1.OutForDelivery':
      return step(delivery.OutForDelivery.decode(value).ref, 'OUT_FOR_DELIVERY');
    case 'o2o.delivery.v1.Delivered':
      return step(delivery.Delivered.decode(value).ref, 'DELIVERED');
    case 'o2o.delivery.v1.DeliveryFailed': {
      const event = delivery.DeliveryFailed.decode(value);
      return step(event.ref, 'FAILED', event.reason);
    }
    case 'o2o.delivery.v1.PickupExpired':
      return step(delivery.PickupExpired.decode(value).ref, 'PICKUP_EXPIRED');
    case 'o2o.delivery.v1.TaskOverdue': {
      const event = delivery.TaskOverdue.decode(value);
      if (!event.ref) return undefined;
      const overdue: DeliveryEvent = {
        kind: 'overdue',
        orderId: event.ref.orderId,
        groupId: event.ref.groupId,
        taskId: event.taskId,
        stage: stageOf(event.stage),
      };
      if (event.deadline) overdue.deadline = event.deadline;
      return overdue;
    }
    default:
      return undefined;
  }
}

function stageOf(stage: TaskStage): OverdueStage {
  switch (stage) {
    case TaskStage.TASK_STAGE_ACCEPT:
      return 'ACCEPT';
    case TaskStage.TASK_STAGE_PICK:
      return 'PICK';
    case TaskStage.TASK_STAGE_PACK:
      return 'PACK';
    case TaskStage.TASK_STAGE_UNSPECIFIED:
    case TaskStage.UNRECOGNIZED:
      return 'UNSPECIFIED';
  }
}
