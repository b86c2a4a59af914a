// The fulfilment aggregate: one order group at one location. Every change goes through a method that checks the
// state, records the time, and returns the events; a command repeated after it took effect changes nothing.
import { DeliveryError } from './errors';
import { isCarrying, isFinal } from './tracking';
import type {
  CodeGuard,
  CodePurpose,
  DeliveryEvent,
  DeliveryTarget,
  FulfilmentAttribution,
  FulfilmentPolicy,
  FulfilmentState,
  FulfilmentType,
  GeoPoint,
  Item,
  ShipmentState,
  TaskStage,
} from './types';

/** What a new fulfilment is made from (an OrderConfirmed group). */
export interface NewFulfilment {
  orderId: string;
  groupId: string;
  locationId: string;
  type: FulfilmentType;
  items: Item[];
  customerId?: string;
  attribution?: FulfilmentAttribution;
  delivery?: DeliveryTarget;
  origin?: GeoPoint;
}

/** Checks a code given by a person against the fulfilment's code for a purpose (the secret stays outside). */
export type CodeCheck = (purpose: CodePurpose, nonce: string, given: string) => boolean;

/** Outcome of a code check that did not throw. */
export type CodeOutcome = 'accepted' | 'wrong-code';

/**
 * A fresh random nonce for a new handover code (12 bytes, base64url). The code itself is derived from it with the
 * service's secret outside the domain; Web Crypto is a global, so no I/O module is imported here.
 */
export function newCodeNonce(): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(12))).toString('base64url');
}

/** The fulfilment id for an order group: derived, so a repeated OrderConfirmed finds the one it created. */
export function fulfilmentIdFor(orderId: string, groupId: string): string {
  return `${orderId}.${groupId}`;
}

/** A delivery group's shipment id: derived from its fulfilment, so a lookup by shipment is a lookup by id. */
export function shipmentIdFor(fulfilmentId: string): string {
  return `${fulfilmentId}.s`;
}

/** The fulfilment id a shipment id was derived from, or undefined when it is not a shipment id. */
export function fulfilmentIdOfShipment(shipmentId: string): string | undefined {
  return shipmentId.endsWith('.s') && shipmentId.length > 2 ? shipmentId.slice(0, -2) : undefined;
}

/** The couriers a fulfilment keeps busy: the one offered the shipment and the one carrying it. */
export function busyCouriers(state: FulfilmentState): string[] {
  const s = state.shipment;
  if (!s) return [];
  const ids = new Set<string>();
  if (s.offer) ids.add(s.offer.courierId);
  if (s.courierId && isCarrying(s.status)) ids.add(s.courierId);
  return [...ids];
}

/** One fulfilment and the rules of its work. */
export class Fulfilment {
  private events: DeliveryEvent[] = [];

  private constructor(
    private state: FulfilmentState,
    private readonly policy: FulfilmentPolicy,
  ) {}

  /** A new fulfilment, waiting for its location to accept the task. */
  static create(input: NewFulfilment, policy: FulfilmentPolicy, now: Date): Fulfilment {
    if (input.type !== 'STORE_PICKUP' && (!input.delivery || !input.origin)) {
      throw new DeliveryError('invalid-argument', `A ${input.type} fulfilment needs a destination and an origin`);
    }
    const state: FulfilmentState = {
      id: fulfilmentIdFor(input.orderId, input.groupId),
      orderId: input.orderId,
      groupId: input.groupId,
      locationId: input.locationId,
      type: input.type,
      items: input.items.map((i) => ({ ...i })),
      ...(input.customerId ? { customerId: input.customerId } : {}),
      ...(input.attribution ? { attribution: { ...input.attribution } } : {}),
      ...(input.delivery ? { delivery: input.delivery } : {}),
      ...(input.origin ? { origin: input.origin } : {}),
      task: { status: 'OPEN', acceptBy: new Date(now.getTime() + policy.acceptMs), overdue: [] },
      version: 0,
      createdAt: now,
      updatedAt: now,
    };
    const f = new Fulfilment(state, policy);
    f.refreshDue();
    return f;
  }

  /** Rebuilds a fulfilment from storage. */
  static fromState(state: FulfilmentState, policy: FulfilmentPolicy): Fulfilment {
    return new Fulfilment(structuredClone(state), policy);
  }

  /** A copy of the current state. */
  snapshot(): FulfilmentState {
    return structuredClone(this.state);
  }

  /** The events since the last call, and forgets them. */
  pullEvents(): DeliveryEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  /** The location takes the task. Delivery groups get their shipment, which dispatch then offers to couriers. */
  accept(input: { locationId: string; associateId?: string }, now: Date): void {
    this.atLocation(input.locationId, 'accept the task of');
    const task = this.state.task;
    if (task.status !== 'OPEN') {
      this.refuseIfStopped('accept the task of');
      return;
    }
    task.status = 'ACCEPTED';
    task.acceptedAt = now;
    task.pickBy = new Date(now.getTime() + this.policy.pickMs);
    if (input.associateId) task.associateId = input.associateId;
    this.emit({ type: 'TaskAccepted', time: now });
    if (this.state.type !== 'STORE_PICKUP' && !this.state.shipment) {
      this.state.shipment = {
        id: shipmentIdFor(this.state.id),
        status: 'AWAITING_COURIER',
        origin: this.state.origin as GeoPoint,
        passedBy: [],
        code: { nonce: newCodeNonce(), failedAttempts: 0 },
        createdAt: now,
      };
      this.emit({ type: 'ShipmentCreated', time: now });
    }
    this.touch(now);
  }

  /** Every item is picked. */
  markPicked(input: { locationId: string }, now: Date): void {
    this.atLocation(input.locationId, 'mark picked');
    const task = this.state.task;
    if (task.status === 'OPEN') throw this.refusal('mark picked', 'its task is not accepted yet');
    if (task.status !== 'ACCEPTED') {
      this.refuseIfStopped('mark picked');
      return;
    }
    task.status = 'PICKED';
    task.pickedAt = now;
    task.packBy = new Date(now.getTime() + this.policy.packMs);
    this.touch(now);
  }

  /** Packed: a pick-up waits for its shopper (the code is issued), a delivery for its courier. */
  markReady(input: { locationId: string }, now: Date): void {
    this.atLocation(input.locationId, 'mark ready');
    const task = this.state.task;
    if (task.status === 'OPEN') throw this.refusal('mark ready', 'its task is not accepted yet');
    if (task.status !== 'ACCEPTED' && task.status !== 'PICKED') {
      this.refuseIfStopped('mark ready');
      return;
    }
    task.pickedAt ??= now;
    task.status = 'READY';
    task.readyAt = now;
    if (this.state.type === 'STORE_PICKUP') {
      this.state.pickup = {
        readyAt: now,
        expiresAt: new Date(now.getTime() + this.policy.pickupExpiryMs),
        code: { nonce: newCodeNonce(), failedAttempts: 0 },
      };
      this.emit({ type: 'ReadyForPickup', time: now });
    }
    this.touch(now);
  }

  /** The shopper collects at the store with the pick-up code. A wrong code counts towards the lock. */
  verifyPickup(
    input: { locationId: string; code: string; associateId?: string },
    check: CodeCheck,
    now: Date,
  ): CodeOutcome {
    if (this.state.type !== 'STORE_PICKUP') throw this.refusal('verify a pick-up for', 'it is not a store pick-up');
    if (input.locationId !== this.state.locationId) {
      throw new DeliveryError(
        'permission-denied',
        `Fulfilment "${this.state.id}" is collected at location "${this.state.locationId}", not "${input.locationId}"`,
      );
    }
    const task = this.state.task;
    const pickup = this.state.pickup;
    if (task.status === 'EXPIRED') throw this.refusal('verify a pick-up for', 'the pick-up expired');
    if (task.status === 'CANCELLED') throw this.refusal('verify a pick-up for', 'the order was cancelled');
    if (!pickup) throw this.refusal('verify a pick-up for', 'it is not ready for pick-up yet');
    // Already collected: a repeat is answered as it is; the code guards nothing any more, so nothing is counted.
    if (task.status === 'HANDED_OVER') {
      return check('pickup', pickup.code.nonce, input.code) ? 'accepted' : 'wrong-code';
    }
    // The code stops working at the expiry, even if the sweeper has not expired the pick-up yet.
    if (pickup.expiresAt.getTime() <= now.getTime()) throw this.refusal('verify a pick-up for', 'the pick-up expired');
    this.unlockedOrThrow(pickup.code, now);
    if (!check('pickup', pickup.code.nonce, input.code)) return this.wrongCode(pickup.code, now);
    pickup.code.failedAttempts = 0;
    delete pickup.code.lockedUntil;
    task.status = 'HANDED_OVER';
    task.handedOverAt = now;
    pickup.collectedAt = now;
    this.emit({ type: 'PickedUp', byCourier: false, time: now });
    this.touch(now);
    return 'accepted';
  }

  /** Dispatch offers the shipment to a courier, who has until the offer lapses to answer. */
  offerTo(courierId: string, now: Date): void {
    const s = this.awaitingCourier('offer');
    if (s.offer) throw this.refusal('offer', `it is already offered to courier "${s.offer.courierId}"`);
    if (s.passedBy.includes(courierId)) throw this.refusal('offer', `courier "${courierId}" already passed on it`);
    s.offer = { courierId, expiresAt: new Date(now.getTime() + this.policy.offerTimeoutMs) };
    delete s.dispatchAfter;
    this.touch(now);
  }

  /** Dispatch found no courier: it looks again after a while. */
  noCourierFound(now: Date): void {
    const s = this.awaitingCourier('dispatch');
    if (s.offer) return;
    s.dispatchAfter = new Date(now.getTime() + this.policy.dispatchRetryMs);
    this.touch(now);
  }

  /** The courier takes the shipment offered to it. */
  acceptAssignment(courierId: string, now: Date): void {
    const s = this.shipmentOrThrow('accept the assignment of');
    if (s.courierId === courierId && s.status !== 'AWAITING_COURIER') {
      if (s.status === 'CANCELLED') throw this.refusal('accept the assignment of', 'the order was cancelled');
      return;
    }
    if (s.status !== 'AWAITING_COURIER') throw this.notYours(courierId);
    if (s.offer?.courierId !== courierId) {
      if (s.passedBy.includes(courierId))
        throw this.refusal('accept the assignment of', 'the offer lapsed or was declined');
      throw this.notYours(courierId);
    }
    if (s.offer.expiresAt.getTime() <= now.getTime()) {
      throw this.refusal('accept the assignment of', 'the offer lapsed');
    }
    delete s.offer;
    s.courierId = courierId;
    s.status = 'ASSIGNED';
    this.emit({ type: 'CourierAssigned', courierId, time: now });
    this.touch(now);
  }

  /** The courier turns the offer down: it is not offered to them again, and dispatch moves on. */
  declineOffer(courierId: string, now: Date): void {
    const s = this.shipmentOrThrow('decline');
    if (s.offer?.courierId === courierId) {
      this.passOn(s, courierId);
      this.touch(now);
      return;
    }
    if (s.passedBy.includes(courierId)) return;
    throw this.notYours(courierId);
  }

  /** The courier collected the parcel at the location; the group must be packed. */
  confirmCollection(courierId: string, now: Date): void {
    const s = this.carriedBy(courierId, 'confirm the collection of');
    if (s.status !== 'ASSIGNED') {
      if (s.status === 'AWAITING_COURIER') throw this.refusal('confirm the collection of', 'it is not assigned yet');
      return;
    }
    if (this.state.task.status !== 'READY') throw this.refusal('confirm the collection of', 'it is not packed yet');
    s.status = 'PICKED_UP';
    s.collectedAt = now;
    this.state.task.status = 'HANDED_OVER';
    this.state.task.handedOverAt = now;
    this.emit({ type: 'PickedUp', byCourier: true, time: now });
    this.touch(now);
  }

  /** The courier leaves for the shopper. */
  startDelivery(courierId: string, now: Date): void {
    const s = this.carriedBy(courierId, 'start the delivery of');
    if (s.status === 'ASSIGNED' || s.status === 'AWAITING_COURIER') {
      throw this.refusal('start the delivery of', 'the parcel is not collected yet');
    }
    if (s.status !== 'PICKED_UP') return;
    s.status = 'OUT_FOR_DELIVERY';
    s.departedAt = now;
    this.emit({ type: 'OutForDelivery', courierId, time: now });
    this.touch(now);
  }

  /** Proof of delivery: the shopper's one-time code. A wrong code counts towards the lock. */
  confirmDelivery(courierId: string, code: string, check: CodeCheck, now: Date): CodeOutcome {
    const s = this.carriedBy(courierId, 'confirm the delivery of');
    // A repeat after delivery changes nothing, but still only answers the right code.
    if (s.status === 'DELIVERED') return check('delivery', s.code.nonce, code) ? 'accepted' : 'wrong-code';
    if (s.status !== 'OUT_FOR_DELIVERY') {
      throw this.refusal('confirm the delivery of', `it is ${s.status.toLowerCase().replaceAll('_', ' ')}`);
    }
    this.unlockedOrThrow(s.code, now);
    if (!check('delivery', s.code.nonce, code)) return this.wrongCode(s.code, now);
    s.code.failedAttempts = 0;
    delete s.code.lockedUntil;
    s.status = 'DELIVERED';
    s.deliveredAt = now;
    this.emit({ type: 'Delivered', time: now });
    this.touch(now);
    return 'accepted';
  }

  /** The courier could not deliver. */
  failDelivery(courierId: string, reason: string, now: Date): void {
    const s = this.carriedBy(courierId, 'report a failed delivery of');
    if (s.status === 'FAILED') return;
    if (s.status !== 'OUT_FOR_DELIVERY') {
      throw this.refusal('report a failed delivery of', 'it is not out for delivery');
    }
    s.status = 'FAILED';
    s.failureReason = reason;
    this.emit({ type: 'DeliveryFailed', reason, time: now });
    this.touch(now);
  }

  /**
   * The order was cancelled. Work not yet handed over stops; anything already with the shopper or a courier
   * cannot be cancelled (orders refuses that too) and is left as it is. Answers whether it stopped.
   */
  cancel(now: Date): boolean {
    const task = this.state.task;
    if (task.status === 'CANCELLED') return true;
    if (task.status === 'HANDED_OVER' || task.status === 'EXPIRED') return false;
    task.status = 'CANCELLED';
    const s = this.state.shipment;
    if (s && !isFinal(s.status)) {
      s.status = 'CANCELLED';
      delete s.offer;
      delete s.dispatchAfter;
    }
    this.emit({ type: 'FulfilmentCancelled', time: now });
    this.touch(now);
    return true;
  }

  /** Whatever is due by `now`: missed deadlines are announced once, a pick-up expires, an offer lapses. Answers whether anything changed. */
  tick(now: Date): boolean {
    const t = now.getTime();
    const task = this.state.task;
    let changed = false;
    const late = (stage: TaskStage, deadline: Date | undefined) => {
      if (deadline && deadline.getTime() <= t && !task.overdue.includes(stage)) {
        task.overdue.push(stage);
        this.emit({ type: 'TaskOverdue', stage, deadline });
        changed = true;
      }
    };
    if (task.status === 'OPEN') late('ACCEPT', task.acceptBy);
    if (task.status === 'ACCEPTED') late('PICK', task.pickBy);
    if (task.status === 'PICKED') late('PACK', task.packBy);
    const pickup = this.state.pickup;
    if (task.status === 'READY' && pickup && pickup.expiresAt.getTime() <= t) {
      task.status = 'EXPIRED';
      this.emit({ type: 'PickupExpired', time: now });
      changed = true;
    }
    const s = this.state.shipment;
    if (s?.offer && s.offer.expiresAt.getTime() <= t) {
      this.passOn(s, s.offer.courierId);
      changed = true;
    }
    if (changed) this.touch(now);
    return changed;
  }

  /** Whether dispatch should look for a courier now. */
  needsCourier(now: Date): boolean {
    const s = this.state.shipment;
    return (
      s !== undefined &&
      s.status === 'AWAITING_COURIER' &&
      !s.offer &&
      (!s.dispatchAfter || s.dispatchAfter.getTime() <= now.getTime())
    );
  }

  private passOn(s: ShipmentState, courierId: string): void {
    delete s.offer;
    if (!s.passedBy.includes(courierId)) s.passedBy.push(courierId);
  }

  private wrongCode(guard: CodeGuard, now: Date): CodeOutcome {
    guard.failedAttempts += 1;
    if (guard.failedAttempts >= this.policy.codeMaxAttempts) {
      guard.lockedUntil = new Date(now.getTime() + this.policy.codeLockMs);
      guard.failedAttempts = 0;
    }
    this.touch(now);
    return 'wrong-code';
  }

  private unlockedOrThrow(guard: CodeGuard, now: Date): void {
    if (guard.lockedUntil && guard.lockedUntil.getTime() > now.getTime()) {
      throw new DeliveryError(
        'resource-exhausted',
        `Too many wrong codes for fulfilment "${this.state.id}": try again after ${guard.lockedUntil.toISOString()}`,
      );
    }
    if (guard.lockedUntil) delete guard.lockedUntil;
  }

  private awaitingCourier(action: string): ShipmentState {
    const s = this.shipmentOrThrow(action);
    if (s.status !== 'AWAITING_COURIER') throw this.refusal(action, `its shipment is ${s.status.toLowerCase()}`);
    return s;
  }

  private carriedBy(courierId: string, action: string): ShipmentState {
    const s = this.shipmentOrThrow(action);
    if (s.courierId !== courierId) throw this.notYours(courierId);
    if (s.status === 'CANCELLED') throw this.refusal(action, 'the order was cancelled');
    return s;
  }

  private shipmentOrThrow(action: string): ShipmentState {
    const s = this.state.shipment;
    if (!s)
      throw this.refusal(
        action,
        this.state.type === 'STORE_PICKUP' ? 'it is a store pick-up' : 'it has no shipment yet',
      );
    return s;
  }

  private notYours(courierId: string): DeliveryError {
    return new DeliveryError(
      'permission-denied',
      `Shipment "${this.state.shipment?.id ?? this.state.id}" is not offered to or carried by courier "${courierId}"`,
    );
  }

  private atLocation(locationId: string, action: string): void {
    if (locationId !== this.state.locationId) {
      throw new DeliveryError(
        'permission-denied',
        `Cannot ${action} fulfilment "${this.state.id}" at location "${locationId}": it belongs to "${this.state.locationId}"`,
      );
    }
  }

  // A command on a task that has stopped is refused; on one that moved past it, the repeat is a no-op.
  private refuseIfStopped(action: string): void {
    const status = this.state.task.status;
    if (status === 'CANCELLED') throw this.refusal(action, 'the order was cancelled');
    if (status === 'EXPIRED') throw this.refusal(action, 'the pick-up expired');
  }

  private refusal(action: string, why: string): DeliveryError {
    return new DeliveryError('failed-precondition', `Cannot ${action} fulfilment "${this.state.id}": ${why}`);
  }

  private emit(event: DeliveryEvent): void {
    this.events.push(event);
  }

  // updatedAt always moves forward on a change, even within one millisecond or on a clock behind the last writer's:
  // the repository writes only when it moved (or events came), so a change that left it equal would be lost.
  private touch(now: Date): void {
    this.state.updatedAt = new Date(Math.max(now.getTime(), this.state.updatedAt.getTime() + 1));
    this.refreshDue();
  }

  private refreshDue(): void {
    const due = dueTimes(this.state);
    if (due.length === 0) delete this.state.dueAt;
    else this.state.dueAt = new Date(Math.min(...due));
  }
}

// Everything that will need the sweeper's attention, as epoch milliseconds.
function dueTimes(state: FulfilmentState): number[] {
  const due: number[] = [];
  const task = state.task;
  if (task.status === 'OPEN' && !task.overdue.includes('ACCEPT')) due.push(task.acceptBy.getTime());
  if (task.status === 'ACCEPTED' && task.pickBy && !task.overdue.includes('PICK')) due.push(task.pickBy.getTime());
  if (task.status === 'PICKED' && task.packBy && !task.overdue.includes('PACK')) due.push(task.packBy.getTime());
  if (task.status === 'READY' && state.pickup) due.push(state.pickup.expiresAt.getTime());
  const s = state.shipment;
  if (s?.status === 'AWAITING_COURIER') {
    if (s.offer) due.push(s.offer.expiresAt.getTime());
    else due.push((s.dispatchAfter ?? s.createdAt).getTime());
  }
  return due;
}
