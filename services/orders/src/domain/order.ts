// The order aggregate: every change goes through a method that checks the lifecycle, records a timeline entry,
// returns the events, and queues the work other services must do as tasks (stored with the order, see types.ts).
import { OrderError } from './errors';
import {
  assertOrderTransition,
  DISPATCHED,
  FINAL_STATUSES,
  FULFILLED,
  groupMayMove,
  INACTIVE,
  statusFromGroups,
} from './lifecycle';
import type { Placement } from './placement';
import {
  nextGroupId,
  NOT_ACCEPTED_IN_TIME,
  type RerouteOutcome,
  reroutePlanChoice,
  rerouteGone,
  reroutesSoFar,
} from './reroute';
import type {
  Allocation,
  FulfilmentGroup,
  GroupStatus,
  ItemQuantity,
  Money,
  OrderEvent,
  OrderState,
  OrderStatus,
  PricedSku,
  RerouteTarget,
  Shortage,
  Task,
  TaskOutcome,
  TaskSpec,
} from './types';

/** Timings the order decides with; they come from configuration. */
export interface OrderPolicy {
  /** How long a placement may take before it is given up (compensated and REJECTED). */
  placementTimeoutMs: number;
  /** Stock held while a card payment is authorised. */
  placementHoldTtlMs: number;
  /** A wallet QR's deadline; stock stays held a little longer than that. */
  walletPayTtlMs: number;
  /** Once confirmed, the holds are extended this far (until the goods leave); a re-routed group's new hold too. */
  confirmedHoldTtlMs: number;
  /** How many times an order's groups may be re-routed in all when their location does not accept (0: never). */
  maxReroutes: number;
}

/** What a fulfilment event from delivery says happened to a group (PICKUP_EXPIRED: nobody collected it in time). */
export type FulfilmentStep =
  'ACCEPTED' | 'READY_FOR_PICKUP' | 'PICKED_UP' | 'OUT_FOR_DELIVERY' | 'DELIVERED' | 'FAILED' | 'PICKUP_EXPIRED';

const STEP_TARGET: Readonly<Record<Exclude<FulfilmentStep, 'PICKUP_EXPIRED'>, GroupStatus>> = {
  ACCEPTED: 'IN_FULFILLMENT',
  READY_FOR_PICKUP: 'READY_FOR_PICKUP',
  PICKED_UP: 'PICKED_UP',
  OUT_FOR_DELIVERY: 'OUT_FOR_DELIVERY',
  DELIVERED: 'DELIVERED',
  FAILED: 'DELIVERY_FAILED',
};

/** Why a pick-up group ended uncollected: its timeline cause, release and void reason, and the order's reason. */
export const PICKUP_NOT_COLLECTED = 'pick-up not collected';

/** The event announcing a group's move, for the moves delivery reports (failure has its own, with a reason). */
const GROUP_EVENT: Partial<
  Record<
    GroupStatus,
    'OrderInFulfillment' | 'OrderReadyForPickup' | 'OrderShipped' | 'OrderPickedUp' | 'OrderDelivered'
  >
> = {
  IN_FULFILLMENT: 'OrderInFulfillment',
  READY_FOR_PICKUP: 'OrderReadyForPickup',
  OUT_FOR_DELIVERY: 'OrderShipped',
  PICKED_UP: 'OrderPickedUp',
  DELIVERED: 'OrderDelivered',
};

const PLACEMENT_TASKS: ReadonlySet<TaskSpec['kind']> = new Set(['PRICE', 'PLAN', 'HOLD', 'AUTHORIZE']);
/** Extra time a hold outlives its wallet QR, so a payment at the last second still finds its stock. */
const WALLET_HOLD_MARGIN_MS = 5 * 60_000;
const MAX_BACKOFF_MS = 30_000;

/** Endless aisle: sold in a store (`storeId`) and fulfilled, at least partly, from another location. */
export function isEndlessAisle(state: Pick<OrderState, 'storeId' | 'groups'>): boolean {
  // A re-routed group's location no longer fulfils anything (its successor's does).
  return (
    state.storeId !== undefined && state.groups.some((g) => g.status !== 'REROUTED' && g.locationId !== state.storeId)
  );
}

/** An order and the rules of its lifecycle. */
export class Order {
  private events: OrderEvent[] = [];
  /** How re-routes decided by the last command ended (not stored: metrics only). */
  private reroutes: RerouteOutcome[] = [];

  private constructor(private s: OrderState) {}

  /** Runs a command; if it is refused (throws), the order is exactly as before it. */
  private guarded<T>(command: () => T): T {
    const before = structuredClone(this.s);
    try {
      return command();
    } catch (error) {
      this.s = before;
      this.events = [];
      this.reroutes = [];
      throw error;
    }
  }

  /** A new order from a valid placement: PENDING, its saga's first task (pricing) queued. */
  static place(id: string, p: Placement, now: Date, policy: OrderPolicy): { order: Order; events: OrderEvent[] } {
    const state: OrderState = {
      id,
      channel: p.channel,
      currency: p.currency,
      lines: p.lines.map((l) => ({ skuCode: l.skuCode, quantity: l.quantity, returnedQuantity: 0 })),
      totalMinor: 0,
      fulfilment: p.fulfilment,
      groups: [],
      payment: { ...p.payment, authorizedMinor: 0, capturedMinor: 0, refundedMinor: 0 },
      status: 'PENDING',
      returns: [],
      tasks: [],
      nextTaskId: 1,
      timeline: [],
      placementDeadline: new Date(now.getTime() + policy.placementTimeoutMs),
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    if (p.customerId) state.customerId = p.customerId;
    if (p.storeId) state.storeId = p.storeId;
    if (p.associateId) state.associateId = p.associateId;
    if (p.marketplace) state.marketplace = { ...p.marketplace };
    const order = new Order(state);
    order.note(now, `placed on ${p.channel}`);
    order.queue(now, { kind: 'PRICE' });
    order.emit({ type: 'OrderPlaced' });
    return { order, events: order.takeEvents() };
  }

  /** An order as it was stored (no checks: stored orders were valid when written). */
  static fromState(state: OrderState): Order {
    return new Order(structuredClone(state));
  }

  /** A copy of the whole state. */
  snapshot(): OrderState {
    return structuredClone(this.s);
  }

  get id(): string {
    return this.s.id;
  }

  get status(): OrderStatus {
    return this.s.status;
  }

  get version(): number {
    return this.s.version;
  }

  /** The task to run next, if any. */
  nextTask(): Task | undefined {
    return this.s.tasks[0];
  }

  /** How the re-routes the commands since the last call decided ended (for metrics), and forgets them. */
  takeRerouteOutcomes(): RerouteOutcome[] {
    const out = this.reroutes;
    this.reroutes = [];
    return out;
  }

  /** Applies what task `taskId` reported. A task already completed (by another runner) changes nothing. */
  completeTask(taskId: number, outcome: TaskOutcome, now: Date, policy: OrderPolicy): OrderEvent[] {
    return this.guarded(() => this.completeTaskUnguarded(taskId, outcome, now, policy));
  }

  private completeTaskUnguarded(taskId: number, outcome: TaskOutcome, now: Date, policy: OrderPolicy): OrderEvent[] {
    const index = this.s.tasks.findIndex((t) => t.id === taskId);
    const task = this.s.tasks[index];
    if (!task) return [];
    if (outcome.kind === 'retry') return this.retryLater(task, outcome.error, now);
    this.s.tasks.splice(index, 1);
    this.touch(now);
    switch (task.kind) {
      case 'PRICE':
        this.afterPricing(outcome, now);
        break;
      case 'PLAN':
        this.afterPlanning(outcome, now, policy);
        break;
      case 'HOLD':
        this.afterHold(task.groupId, outcome, now);
        break;
      case 'AUTHORIZE':
        this.afterAuthorization(outcome, now, policy);
        break;
      case 'CAPTURE':
        if (outcome.kind === 'captured') {
          this.s.payment.capturedMinor += outcome.amount.amountMinor;
          this.group(task.groupId).captured = true;
          this.note(now, `payment captured for ${task.groupId}`, task.groupId);
        } else this.noteProblem(task, outcome, now);
        this.settleFulfilmentStatus(now);
        break;
      case 'REFUND':
        if (outcome.kind === 'refunded') this.afterRefund(task.refundId, outcome.amount, now);
        else this.noteProblem(task, outcome, now);
        break;
      case 'EXTEND_HOLD':
      case 'COMMIT_HOLD':
      case 'RELEASE_HOLD':
      case 'VOID_PAYMENTS':
      case 'RESTOCK':
        if (outcome.kind === 'done') this.noteDone(task, now);
        else this.noteProblem(task, outcome, now);
        break;
      case 'REROUTE':
        this.afterReroute(task, index, outcome, now, policy);
        break;
    }
    this.scheduleNext(now);
    return this.takeEvents();
  }

  /** Payments says a payment of this order was authorised (a wallet QR paid, or an echo of the saga's own call). */
  paymentAuthorized(paymentId: string, amount: Money, now: Date, policy: OrderPolicy): OrderEvent[] {
    return this.guarded(() => this.paymentAuthorizedUnguarded(paymentId, amount, now, policy));
  }

  private paymentAuthorizedUnguarded(paymentId: string, amount: Money, now: Date, policy: OrderPolicy): OrderEvent[] {
    if (FINAL_STATUSES.has(this.s.status)) {
      // The echo of the authorisation the saga itself recorded (arriving after the end, or delivered again): the
      // order's capture or its void has already settled it. Nothing to do, nothing written.
      if (this.s.payment.paymentId === paymentId && this.s.payment.authorizedMinor > 0) return [];
      // Paid after the order ended (a QR paid as it expired, an authorisation the saga lost): give it back.
      if (!this.s.tasks.some((t) => t.kind === 'VOID_PAYMENTS')) {
        this.touch(now);
        this.queue(now, { kind: 'VOID_PAYMENTS', reason: `order is ${this.s.status.toLowerCase()}` });
        this.note(now, `late payment ${paymentId} is voided`);
      }
      return this.takeEvents();
    }
    if (this.s.status === 'PENDING' && this.s.payment.method === 'WALLET_QR' && this.s.payment.authorizeStarted) {
      // Paid before the saga recorded the QR (its answer is still on the way): remembered, confirmed then.
      if (this.s.payment.paidEarly?.paymentId === paymentId) return [];
      this.touch(now);
      this.s.payment.paidEarly = { paymentId, amountMinor: amount.amountMinor };
      return [];
    }
    if (this.s.status !== 'AWAITING_PAYMENT' || this.s.payment.paymentId !== paymentId) return [];
    this.touch(now);
    this.s.payment.authorizedMinor = amount.amountMinor;
    this.note(now, 'wallet payment received');
    this.confirm(now, policy);
    return this.takeEvents();
  }

  /** Payments says the awaited wallet payment expired or was closed unpaid: the order is cancelled. */
  paymentFailed(paymentId: string, why: 'expired' | 'declined', now: Date): OrderEvent[] {
    return this.guarded(() => this.paymentFailedUnguarded(paymentId, why, now));
  }

  private paymentFailedUnguarded(paymentId: string, why: 'expired' | 'declined', now: Date): OrderEvent[] {
    if (this.s.status !== 'AWAITING_PAYMENT' || this.s.payment.paymentId !== paymentId) return [];
    this.touch(now);
    this.cancelWith(now, why === 'expired' ? 'wallet payment expired unpaid' : 'wallet payment was closed unpaid');
    return this.takeEvents();
  }

  /** Cancels before dispatch: holds released, payment voided (captured money refunded). A repeat changes nothing. */
  cancel(reason: string, now: Date): OrderEvent[] {
    return this.guarded(() => this.cancelUnguarded(reason, now));
  }

  private cancelUnguarded(reason: string, now: Date): OrderEvent[] {
    if (this.s.status === 'CANCELLED') return [];
    const cancellable: ReadonlySet<OrderStatus> = new Set([
      'AWAITING_PAYMENT',
      'CONFIRMED',
      'IN_FULFILLMENT',
      'READY_FOR_PICKUP',
    ]);
    const dispatched = this.s.groups.find((g) => DISPATCHED.has(g.status));
    if (this.s.status === 'PENDING') {
      throw new OrderError('failed-precondition', `Cannot cancel order "${this.s.id}": it is still being placed`);
    }
    if (!cancellable.has(this.s.status) || dispatched) {
      const what = dispatched
        ? `group ${dispatched.id} is already ${dispatched.status.toLowerCase()}`
        : `it is ${this.s.status.toLowerCase()}`;
      throw new OrderError('failed-precondition', `Cannot cancel order "${this.s.id}": ${what}`);
    }
    this.touch(now);
    this.cancelWith(now, reason);
    return this.takeEvents();
  }

  /** Delivery says what happened to a group. A repeat changes nothing; a step the lifecycle forbids is refused. */
  advanceGroup(groupId: string, step: FulfilmentStep, now: Date, reason = ''): OrderEvent[] {
    return this.guarded(() => this.advanceGroupUnguarded(groupId, step, now, reason));
  }

  private advanceGroupUnguarded(groupId: string, step: FulfilmentStep, now: Date, reason = ''): OrderEvent[] {
    const group = this.s.groups.find((g) => g.id === groupId);
    if (!group) throw new OrderError('not-found', `Order "${this.s.id}" has no fulfilment group "${groupId}"`);
    if (step === 'PICKUP_EXPIRED') return this.expirePickup(group, now);
    const target = STEP_TARGET[step];
    if (group.status === target) return [];
    if (!groupMayMove(group.type, group.status, target)) {
      throw new OrderError(
        'failed-precondition',
        `Group ${groupId} of order "${this.s.id}" (${group.type}) cannot go from ${group.status} to ${target}`,
      );
    }
    this.touch(now);
    group.status = target;
    if (DISPATCHED.has(target)) this.dispatch(group, now);
    if (target === 'DELIVERY_FAILED') this.failDelivery(group, reason || 'delivery failed', now);
    else {
      const type = GROUP_EVENT[target];
      if (type) this.emit({ type, groupId });
    }
    this.note(now, `delivery: ${target.toLowerCase().replaceAll('_', ' ')}${reason ? ` (${reason})` : ''}`, groupId);
    this.settleFulfilmentStatus(now);
    return this.takeEvents();
  }

  /**
   * Delivery says a group's task was not accepted by its deadline: noted on the timeline once per task and deadline
   * (no status change, no event). A delivery group still waiting for acceptance is re-routed to another location
   * (a REROUTE task, at most once per group and `policy.maxReroutes` times per order); a pick-up group stays at the
   * shopper's store. A group that ended is left alone; a redelivered event changes nothing.
   */
  taskOverdue(
    groupId: string,
    overdue: { taskId: string; deadline?: Date },
    now: Date,
    policy: OrderPolicy,
  ): OrderEvent[] {
    return this.guarded(() => {
      const group = this.s.groups.find((g) => g.id === groupId);
      if (!group) throw new OrderError('not-found', `Order "${this.s.id}" has no fulfilment group "${groupId}"`);
      if (INACTIVE.has(group.status)) return [];
      const by = overdue.deadline ? ` by ${overdue.deadline.toISOString()}` : '';
      const cause = `delivery: task ${overdue.taskId || '?'} not accepted at ${group.locationId}${by}`;
      if (this.s.timeline.some((e) => e.groupId === groupId && e.cause === cause)) return [];
      this.touch(now);
      this.note(now, cause, groupId);
      this.considerReroute(group, now, policy);
      return this.takeEvents();
    });
  }

  /** Opens a return of lines the customer has, at `locationId`. A repeat of `requestId` returns the same return. */
  requestReturn(
    request: { requestId: string; locationId: string; lines: ItemQuantity[]; reason: string },
    now: Date,
  ): { returnId: string; events: OrderEvent[] } {
    return this.guarded(() => this.requestReturnUnguarded(request, now));
  }

  private requestReturnUnguarded(
    request: { requestId: string; locationId: string; lines: ItemQuantity[]; reason: string },
    now: Date,
  ): { returnId: string; events: OrderEvent[] } {
    const existing = this.s.returns.find((r) => r.requestId === request.requestId);
    if (existing) return { returnId: existing.id, events: [] };
    if (!['COMPLETED', 'PARTIALLY_RETURNED', 'RETURN_REQUESTED'].includes(this.s.status)) {
      throw new OrderError(
        'failed-precondition',
        `Cannot return goods of order "${this.s.id}": it is ${this.s.status.toLowerCase()}, not completed`,
      );
    }
    const violations = this.returnProblems(request.lines);
    if (violations.length > 0) throw OrderError.invalid(violations);
    let refundMinor = 0;
    for (const line of request.lines) refundMinor += line.quantity * this.line(line.skuCode).unitPrice!.amountMinor;
    const returnId = `r${this.s.returns.length + 1}`;
    this.touch(now);
    this.s.returns.push({
      id: returnId,
      requestId: request.requestId,
      status: 'REQUESTED',
      locationId: request.locationId,
      lines: request.lines.map((l) => ({ ...l })),
      refund: { currency: this.s.currency, amountMinor: refundMinor },
      reason: request.reason,
      requestedAt: now,
    });
    this.moveTo('RETURN_REQUESTED', now, `return ${returnId} requested at ${request.locationId}`);
    this.emit({ type: 'ReturnRequested', returnId });
    return { returnId, events: this.takeEvents() };
  }

  /** The goods of a return arrived: restocked at its location and refunded (tasks). A repeat changes nothing. */
  receiveReturn(returnId: string, now: Date): OrderEvent[] {
    return this.guarded(() => this.receiveReturnUnguarded(returnId, now));
  }

  private receiveReturnUnguarded(returnId: string, now: Date): OrderEvent[] {
    const ret = this.s.returns.find((r) => r.id === returnId);
    if (!ret) throw new OrderError('not-found', `Order "${this.s.id}" has no return "${returnId}"`);
    if (ret.status !== 'REQUESTED') return [];
    this.touch(now);
    ret.status = 'RECEIVED';
    for (const line of ret.lines) this.line(line.skuCode).returnedQuantity += line.quantity;
    this.queue(now, { kind: 'RESTOCK', key: ret.id, locationId: ret.locationId, items: ret.lines });
    this.queue(now, { kind: 'REFUND', refundId: ret.id, amount: ret.refund, reason: ret.reason || 'returned' });
    this.note(now, `return ${returnId} received at ${ret.locationId}`);
    return this.takeEvents();
  }

  // ---- re-routing a group nobody accepted ----

  /** Queues the group's re-route if it is still waiting for acceptance and the rules allow it. */
  private considerReroute(group: FulfilmentGroup, now: Date, policy: OrderPolicy): void {
    // Accepted meanwhile (a late acceptance counts), an ended order, or a re-route already decided: nothing to do.
    if (group.status !== 'CONFIRMED' || FINAL_STATUSES.has(this.s.status) || group.rerouteTo) return;
    // A pick-up stays at the store the shopper chose; a carry-out never waits.
    if (group.type !== 'HOME_DELIVERY' && group.type !== 'SHIP_FROM_STORE') return this.observe('not_allowed');
    if (policy.maxReroutes <= 0) return this.observe('not_allowed');
    if (reroutesSoFar(this.s) >= policy.maxReroutes) {
      this.note(now, `not re-routed: the order's limit of ${policy.maxReroutes} re-routes is reached`, group.id);
      return this.observe('not_allowed');
    }
    group.rerouteTo = nextGroupId(this.s.groups);
    this.queue(now, { kind: 'REROUTE', groupId: group.id, toGroupId: group.rerouteTo, reason: NOT_ACCEPTED_IN_TIME });
    this.note(now, `re-routing ${group.id}: ${NOT_ACCEPTED_IN_TIME}`, group.id);
  }

  /**
   * A REROUTE task reported. First run (the plan): one allocation that covers the group is kept as the task's target
   * and the task runs again to hold there; anything else ends the attempt (noted, no retry loop). Second run (the
   * hold): held while the group still waits → re-routed; held after it was accepted or the order cancelled → the new
   * hold is released; short or refused → nothing was held, the group stays where it is.
   */
  private afterReroute(
    task: Extract<Task, { kind: 'REROUTE' }>,
    index: number,
    outcome: TaskOutcome,
    now: Date,
    policy: OrderPolicy,
  ): void {
    const from = this.group(task.groupId);
    const gone = rerouteGone(this.s, from);
    if (!task.target) {
      if (gone) return this.noteReroute(from, `not re-routing ${from.id}: ${gone}`, 'discarded', now);
      const choice = reroutePlanChoice(this.s, from, outcome);
      if ('problem' in choice) {
        return this.noteReroute(from, `cannot re-route ${from.id}: ${choice.problem}`, 'no_location', now);
      }
      const a = choice.allocation;
      const expiresAt = new Date(now.getTime() + policy.confirmedHoldTtlMs);
      task.target = { ...a, items: a.items.map((i) => ({ ...i })), expiresAt };
      // Back in its place: its next run holds the stock there, with the same lines however often it is retried.
      this.s.tasks.splice(index, 0, task);
      this.note(now, `re-routing ${from.id}: holding the stock at ${a.locationId}`, from.id);
      return;
    }
    if (gone) {
      // Accepted (or the order cancelled) while the stock was being held: a new hold made is not needed.
      if (outcome.kind === 'held') {
        const reason = `re-route of ${from.id} not needed: ${gone}`;
        this.queue(now, { kind: 'RELEASE_HOLD', groupId: from.id, holdId: this.holdIdOf(task.toGroupId), reason });
      }
      return this.noteReroute(from, `not re-routing ${from.id}: ${gone}`, 'discarded', now);
    }
    if (outcome.kind === 'held') return this.reroute(from, task.toGroupId, task.target, task.reason, now);
    // Short or refused: nothing was held (a retry of a hold that was made answers held), the group stays.
    const why = outcome.kind === 'short' ? shortageText(outcome.shortages) : reasonOf(outcome);
    this.noteReroute(from, `cannot re-route ${from.id}: ${why}`, 'no_location', now);
  }

  /**
   * The new group takes the old one's items and amount (and, for a sale paid at the till, its captured flag) at the
   * new location with the new hold; the old group is REROUTED and its hold released. No money moves: the capture
   * happens when the new group's goods leave, as for any group.
   */
  private reroute(from: FulfilmentGroup, toGroupId: string, target: RerouteTarget, reason: string, now: Date): void {
    if (!groupMayMove(from.type, from.status, 'REROUTED')) {
      throw new Error(`Group ${from.id} of order "${this.s.id}" cannot be re-routed from ${from.status}`);
    }
    const to: FulfilmentGroup = {
      id: toGroupId,
      type: from.type,
      locationId: target.locationId,
      items: from.items.map((i) => ({ ...i })),
      status: 'CONFIRMED',
      holdId: this.holdIdOf(toGroupId),
      sameDay: target.sameDay,
      distanceM: target.distanceM,
      amount: { ...from.amount },
      captured: from.captured,
      dispatched: false,
      replaces: from.id,
    };
    from.status = 'REROUTED';
    from.captured = false;
    this.s.groups.push(to);
    this.queue(now, { kind: 'RELEASE_HOLD', groupId: from.id, reason: `re-routed to ${to.locationId}: ${reason}` });
    this.emit({ type: 'OrderRerouted', fromGroupId: from.id, toGroupId, reason });
    this.note(now, `rerouted ${from.id} from ${from.locationId} to ${to.locationId}: ${reason}`, from.id);
    this.observe('rerouted');
    this.settleFulfilmentStatus(now);
  }

  private noteReroute(group: FulfilmentGroup, cause: string, outcome: RerouteOutcome, now: Date): void {
    this.note(now, cause, group.id);
    this.observe(outcome);
  }

  private observe(outcome: RerouteOutcome): void {
    this.reroutes.push(outcome);
  }

  private holdIdOf(groupId: string): string {
    return `${this.s.id}.${groupId}`;
  }

  // ---- the saga's steps ----

  private afterPricing(outcome: TaskOutcome, now: Date): void {
    if (outcome.kind !== 'priced') return this.reject(now, `pricing failed: ${reasonOf(outcome)}`);
    const bySku = new Map<string, PricedSku>(outcome.skus.map((s) => [s.skuCode, s]));
    for (const line of this.s.lines) {
      const priced = bySku.get(line.skuCode);
      if (!priced || priced.unitPrice.currency !== this.s.currency) {
        return this.reject(now, `pricing failed: SKU "${line.skuCode}" has no price in ${this.s.currency}`);
      }
    }
    let total = 0;
    for (const line of this.s.lines) {
      const priced = bySku.get(line.skuCode)!;
      line.unitPrice = { ...priced.unitPrice };
      line.productId = priced.productId;
      line.productName = priced.productName;
      total += priced.unitPrice.amountMinor * line.quantity;
    }
    this.s.totalMinor = total;
    this.note(now, `priced: ${total} ${this.s.currency}`);
    this.queue(now, { kind: 'PLAN' });
  }

  private afterPlanning(outcome: TaskOutcome, now: Date, policy: OrderPolicy): void {
    if (outcome.kind !== 'planned' || outcome.allocations.length === 0) {
      return this.reject(now, `out of stock: ${reasonOf(outcome)}`);
    }
    const problem = this.planProblem(outcome.allocations);
    if (problem) return this.reject(now, `sourcing failed: ${problem}`);
    const holdTtl =
      this.s.payment.method === 'WALLET_QR' ? policy.walletPayTtlMs + WALLET_HOLD_MARGIN_MS : policy.placementHoldTtlMs;
    const expiresAt = new Date(now.getTime() + holdTtl);
    outcome.allocations.forEach((a, i) => {
      const id = `g${i + 1}`;
      let amount = 0;
      for (const item of a.items) amount += item.quantity * this.line(item.skuCode).unitPrice!.amountMinor;
      this.s.groups.push({
        id,
        type: this.s.fulfilment.type,
        locationId: a.locationId,
        items: a.items.map((x) => ({ ...x })),
        status: 'PENDING',
        holdId: `${this.s.id}.${id}`,
        sameDay: a.sameDay,
        distanceM: a.distanceM,
        amount: { currency: this.s.currency, amountMinor: amount },
        captured: false,
        dispatched: false,
      });
      this.queue(now, { kind: 'HOLD', groupId: id, expiresAt });
    });
    this.note(now, `sourced from ${outcome.allocations.map((a) => a.locationId).join(', ')}`);
  }

  private afterHold(groupId: string, outcome: TaskOutcome, now: Date): void {
    if (outcome.kind !== 'held') {
      const why = outcome.kind === 'short' ? shortageText(outcome.shortages) : reasonOf(outcome);
      return this.reject(now, `out of stock: ${why}`);
    }
    this.group(groupId).status = 'HELD';
    this.note(now, `stock held at ${this.group(groupId).locationId}`, groupId);
    if (this.s.groups.every((g) => g.status === 'HELD')) {
      this.s.payment.authorizeStarted = true;
      this.queue(now, { kind: 'AUTHORIZE' });
    }
  }

  private afterAuthorization(outcome: TaskOutcome, now: Date, policy: OrderPolicy): void {
    const pay = this.s.payment;
    if (outcome.kind === 'authorized' || outcome.kind === 'paid') {
      pay.paymentId = outcome.paymentId;
      pay.authorizedMinor = outcome.amount.amountMinor;
      if (outcome.kind === 'paid') {
        // A store sale: the till took the money, so every group is paid for already.
        pay.capturedMinor = outcome.amount.amountMinor;
        for (const g of this.s.groups) g.captured = true;
      }
      this.note(now, outcome.kind === 'paid' ? 'paid at the till' : 'payment authorised');
      return this.confirm(now, policy);
    }
    if (outcome.kind === 'awaiting-payment') {
      pay.paymentId = outcome.paymentId;
      pay.walletQrPayload = outcome.qrPayload;
      pay.payBy = outcome.payBy;
      this.moveTo('AWAITING_PAYMENT', now, 'waiting for the wallet payment');
      this.emit({ type: 'OrderAwaitingPayment' });
      const early = pay.paidEarly;
      if (early?.paymentId === outcome.paymentId) {
        pay.authorizedMinor = early.amountMinor;
        this.note(now, 'wallet payment received');
        this.confirm(now, policy);
      }
      return;
    }
    if (outcome.kind === 'declined') {
      if (outcome.paymentId) pay.paymentId = outcome.paymentId;
      return this.reject(now, `payment declined: ${outcome.reason}`);
    }
    return this.reject(now, `payment failed: ${reasonOf(outcome)}`);
  }

  /** Stock held and money secured: CONFIRMED, holds extended until the goods leave; a carry-out completes at once. */
  private confirm(now: Date, policy: OrderPolicy): void {
    for (const g of this.s.groups) g.status = 'CONFIRMED';
    this.moveTo('CONFIRMED', now, 'confirmed');
    this.emit({ type: 'OrderConfirmed' });
    if (this.s.fulfilment.type === 'IN_STORE_CARRY_OUT') {
      for (const g of this.s.groups) {
        g.status = 'HANDED_OVER';
        this.dispatch(g, now);
      }
      this.note(now, 'carried out of the store');
      this.settleFulfilmentStatus(now);
      return;
    }
    const expiresAt = new Date(now.getTime() + policy.confirmedHoldTtlMs);
    for (const g of this.s.groups) this.queue(now, { kind: 'EXTEND_HOLD', groupId: g.id, expiresAt });
  }

  /** The goods left (or were handed over): commit the hold, capture the group's share unless already paid. */
  private dispatch(group: FulfilmentGroup, now: Date): void {
    if (group.dispatched) return;
    group.dispatched = true;
    this.queue(now, { kind: 'COMMIT_HOLD', groupId: group.id });
    if (!group.captured) this.queue(now, { kind: 'CAPTURE', groupId: group.id, amount: group.amount });
    this.voidUncollectedShares(now);
  }

  /**
   * Nobody collected a pick-up group in time: the group ends CANCELLED, its hold (extended, never committed) is
   * released so the goods go back on the shelf, and its share is never captured (refunded if the till took it). The
   * order follows its groups: CANCELLED when nothing else is left, COMPLETED when the rest is with the customer.
   * A repeat (or a group cancelled with its order) changes nothing; anything but a ready pick-up group is refused.
   */
  private expirePickup(group: FulfilmentGroup, now: Date): OrderEvent[] {
    if (group.type !== 'STORE_PICKUP') {
      throw new OrderError(
        'failed-precondition',
        `Cannot expire the pick-up of group ${group.id} of order "${this.s.id}": it is a ${group.type} group`,
      );
    }
    if (group.status === 'CANCELLED') return [];
    if (group.status !== 'READY_FOR_PICKUP') {
      throw new OrderError(
        'failed-precondition',
        `Cannot expire the pick-up of group ${group.id} of order "${this.s.id}": it is ${group.status}, not READY_FOR_PICKUP`,
      );
    }
    this.touch(now);
    group.status = 'CANCELLED';
    this.queue(now, { kind: 'RELEASE_HOLD', groupId: group.id, reason: PICKUP_NOT_COLLECTED });
    // Not dispatched, so no capture of it was ever queued; only a store sale paid at the till has its money already.
    if (group.captured) {
      this.queue(now, {
        kind: 'REFUND',
        refundId: `expired-${group.id}`,
        amount: group.amount,
        reason: PICKUP_NOT_COLLECTED,
      });
    }
    this.note(now, 'delivery: pick-up expired (not collected)', group.id);
    this.voidUncollectedShares(now);
    this.settleFulfilmentStatus(now);
    return this.takeEvents();
  }

  /**
   * Once no group is left to capture, the authorisation of expired pick-ups' shares is voided: the whole payment when
   * nothing was captured, the uncaptured rest otherwise (queued after the captures, which run first). Runs when the
   * last group is settled either way (its expiry or the dispatch of the last other group), so it queues once.
   */
  private voidUncollectedShares(now: Date): void {
    const expired = this.s.groups.some((g) => g.status === 'CANCELLED' && !g.dispatched);
    // A re-routed group is never captured: its successor is (or is dropped) instead.
    const toCapture = this.s.groups.some((g) => !INACTIVE.has(g.status) && !g.dispatched);
    if (!expired || toCapture || FINAL_STATUSES.has(this.s.status)) return;
    this.queue(now, { kind: 'VOID_PAYMENTS', reason: PICKUP_NOT_COLLECTED });
  }

  private failDelivery(group: FulfilmentGroup, reason: string, now: Date): void {
    this.emit({ type: 'OrderDeliveryFailed', groupId: group.id, reason });
    // The hold was committed at dispatch: the goods go back on hand at the location, and the group's money back.
    this.queue(now, { kind: 'RESTOCK', key: `failed-${group.id}`, locationId: group.locationId, items: group.items });
    // Money for goods the customer never got. A capture still waiting in the queue is dropped; the first task may be
    // running right now, so a capture there is left to finish and refunded after it, like a capture already done.
    const capture = this.s.tasks.findIndex((t) => t.kind === 'CAPTURE' && t.groupId === group.id);
    if (capture > 0) {
      this.s.tasks.splice(capture, 1);
    } else if (group.captured || capture === 0) {
      this.queue(now, { kind: 'REFUND', refundId: `failed-${group.id}`, amount: group.amount, reason });
    }
  }

  /** Ends a placement: REJECTED, pending saga steps dropped, anything held released, any authorisation voided. */
  private reject(now: Date, reason: string): void {
    // An authorisation asked for may exist at payments even when its answer was lost: void whatever is there.
    const authorizeTried = this.s.payment.authorizeStarted === true;
    this.s.tasks = this.s.tasks.filter((t) => !PLACEMENT_TASKS.has(t.kind));
    for (const g of this.s.groups) {
      g.status = 'CANCELLED';
      this.queue(now, { kind: 'RELEASE_HOLD', groupId: g.id, reason: `order rejected: ${reason}` });
    }
    if (authorizeTried) this.queue(now, { kind: 'VOID_PAYMENTS', reason: `order rejected: ${reason}` });
    this.s.statusReason = reason;
    this.moveTo('REJECTED', now, `rejected: ${reason}`);
    this.emit({ type: 'OrderRejected', reason });
  }

  private cancelWith(now: Date, reason: string): void {
    for (const g of this.s.groups) {
      // Dropped groups are settled already; a re-routed group's hold is released by its re-route.
      if (INACTIVE.has(g.status)) continue;
      g.status = 'CANCELLED';
      this.queue(now, { kind: 'RELEASE_HOLD', groupId: g.id, reason: `order cancelled: ${reason}` });
    }
    this.queue(now, { kind: 'VOID_PAYMENTS', reason: `order cancelled: ${reason}` });
    // Money captured and not already refunded or being refunded (a failed delivery queues its own refund).
    const queuedRefunds = this.s.tasks.reduce((n, t) => n + (t.kind === 'REFUND' ? t.amount.amountMinor : 0), 0);
    const captured = this.s.payment.capturedMinor - this.s.payment.refundedMinor - queuedRefunds;
    if (captured > 0) {
      this.queue(now, {
        kind: 'REFUND',
        refundId: 'cancel',
        amount: { currency: this.s.currency, amountMinor: captured },
        reason: `order cancelled: ${reason}`,
      });
    }
    this.s.statusReason = reason;
    this.moveTo('CANCELLED', now, `cancelled: ${reason}`);
    this.emit({ type: 'OrderCancelled', reason });
  }

  private afterRefund(refundId: string, amount: Money, now: Date): void {
    this.s.payment.refundedMinor += amount.amountMinor;
    const ret = this.s.returns.find((r) => r.id === refundId);
    if (!ret) {
      this.note(now, `refunded ${amount.amountMinor} ${amount.currency}`);
      return;
    }
    ret.status = 'REFUNDED';
    ret.refundedAt = now;
    this.emit({ type: 'OrderRefunded', returnId: ret.id, amount });
    this.moveTo(this.statusFromReturns(), now, `return ${ret.id} refunded`);
  }

  /** After a group moved or a capture finished: the order's status follows its groups (until completed). */
  private settleFulfilmentStatus(now: Date): void {
    const s = this.s.status;
    if (FINAL_STATUSES.has(s) || s === 'PENDING' || s === 'AWAITING_PAYMENT' || this.s.groups.length === 0) return;
    if (s === 'COMPLETED' || s === 'RETURN_REQUESTED' || s === 'PARTIALLY_RETURNED') return;
    // Completed means paid: a capture still queued, or one refused (the timeline says why), keeps it open.
    const capturePending =
      this.s.tasks.some((t) => t.kind === 'CAPTURE') ||
      this.s.groups.some((g) => FULFILLED.has(g.status) && !g.captured);
    let next = statusFromGroups(this.s.groups, capturePending);
    // The groups left may all be waiting (the others failed delivery): the order has still been in fulfilment.
    if (next === 'CONFIRMED' && s !== 'CONFIRMED') next = 'IN_FULFILLMENT';
    if (next === s) return;
    if (next === 'CANCELLED') {
      // Every group dropped: its deliveries failed, or (pick-up) nobody collected it.
      const reason = this.s.groups.some((g) => g.status === 'DELIVERY_FAILED')
        ? 'every delivery failed'
        : PICKUP_NOT_COLLECTED;
      this.s.statusReason = reason;
      this.moveTo('CANCELLED', now, `cancelled: ${reason}`);
      this.emit({ type: 'OrderCancelled', reason });
      return;
    }
    this.moveTo(next, now, next === 'COMPLETED' ? 'completed' : `status follows groups: ${next.toLowerCase()}`);
    if (next === 'COMPLETED') this.emit({ type: 'OrderCompleted' });
  }

  private statusFromReturns(): OrderStatus {
    if (this.s.returns.some((r) => r.status !== 'REFUNDED')) return 'RETURN_REQUESTED';
    const all = this.s.lines.every((l) => l.returnedQuantity >= this.fulfilledQuantity(l.skuCode));
    return all ? 'RETURNED' : 'PARTIALLY_RETURNED';
  }

  // ---- helpers ----

  private retryLater(task: Task, error: string, now: Date): OrderEvent[] {
    this.touch(now);
    task.attempts += 1;
    task.lastError = error.slice(0, 300);
    if (PLACEMENT_TASKS.has(task.kind) && now.getTime() >= this.s.placementDeadline.getTime()) {
      this.rejectAfterTimeout(task, error, now);
    } else {
      const backoff = Math.min(MAX_BACKOFF_MS, 200 * 2 ** Math.min(task.attempts - 1, 8));
      this.s.nextRunAt = new Date(now.getTime() + backoff);
    }
    return this.takeEvents();
  }

  private rejectAfterTimeout(task: Task, error: string, now: Date): void {
    this.reject(now, `could not be placed in time (${task.kind.toLowerCase()}: ${error.slice(0, 200)})`);
    this.scheduleNext(now);
  }

  private scheduleNext(now: Date): void {
    if (this.s.tasks.length === 0) delete this.s.nextRunAt;
    else this.s.nextRunAt = now;
  }

  private queue(now: Date, spec: TaskSpec): void {
    this.s.tasks.push({ ...spec, id: this.s.nextTaskId++, attempts: 0 });
    this.s.nextRunAt = now;
  }

  private moveTo(status: OrderStatus, now: Date, cause: string, groupId?: string): void {
    assertOrderTransition(this.s.id, this.s.status, status);
    this.s.status = status;
    this.note(now, cause, groupId);
  }

  private note(now: Date, cause: string, groupId?: string): void {
    const entry: OrderState['timeline'][number] = {
      sequence: this.s.timeline.length + 1,
      at: now,
      status: this.s.status,
      cause,
    };
    if (groupId) entry.groupId = groupId;
    this.s.timeline.push(entry);
  }

  private noteDone(task: Task, now: Date): void {
    const what: Partial<Record<Task['kind'], string>> = {
      EXTEND_HOLD: 'hold extended until dispatch',
      COMMIT_HOLD: 'stock committed (left the location)',
      RELEASE_HOLD: task.kind === 'RELEASE_HOLD' && task.holdId ? `hold ${task.holdId} released` : 'hold released',
      VOID_PAYMENTS: 'payment voided',
      RESTOCK: 'goods restocked',
    };
    const groupId = 'groupId' in task ? task.groupId : undefined;
    this.note(now, what[task.kind] ?? task.kind.toLowerCase(), groupId);
  }

  private noteProblem(task: Task, outcome: TaskOutcome, now: Date): void {
    const groupId = 'groupId' in task ? task.groupId : undefined;
    this.note(now, `could not ${task.kind.toLowerCase().replaceAll('_', ' ')}: ${reasonOf(outcome)}`, groupId);
  }

  private touch(now: Date): void {
    this.s.version += 1;
    this.s.updatedAt = now;
  }

  private emit(event: OrderEvent): void {
    this.events.push(event);
  }

  private takeEvents(): OrderEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  private group(id: string): FulfilmentGroup {
    const g = this.s.groups.find((x) => x.id === id);
    if (!g) throw new Error(`Order "${this.s.id}" has no group "${id}"`);
    return g;
  }

  private line(sku: string) {
    const l = this.s.lines.find((x) => x.skuCode === sku);
    if (!l) throw new Error(`Order "${this.s.id}" has no line for "${sku}"`);
    return l;
  }

  /** Units of a SKU the customer has received. */
  private fulfilledQuantity(sku: string): number {
    let n = 0;
    for (const g of this.s.groups) {
      if (!FULFILLED.has(g.status)) continue;
      for (const i of g.items) if (i.skuCode === sku) n += i.quantity;
    }
    return n;
  }

  private returnProblems(lines: ItemQuantity[]): { field: string; description: string }[] {
    const problems: { field: string; description: string }[] = [];
    if (lines.length === 0) problems.push({ field: 'lines', description: 'must have at least one line' });
    const seen = new Set<string>();
    lines.forEach((line, i) => {
      const l = this.s.lines.find((x) => x.skuCode === line.skuCode);
      if (!l) {
        problems.push({ field: `lines[${i}].sku_code`, description: `"${line.skuCode}" is not on the order` });
        return;
      }
      if (seen.has(line.skuCode)) {
        problems.push({ field: `lines[${i}].sku_code`, description: 'appears on more than one line' });
      }
      seen.add(line.skuCode);
      const open = this.s.returns
        .filter((r) => r.status === 'REQUESTED')
        .flatMap((r) => r.lines)
        .filter((x) => x.skuCode === line.skuCode)
        .reduce((n, x) => n + x.quantity, 0);
      const left = this.fulfilledQuantity(line.skuCode) - l.returnedQuantity - open;
      if (!Number.isSafeInteger(line.quantity) || line.quantity < 1 || line.quantity > left) {
        problems.push({
          field: `lines[${i}].quantity`,
          description: `must be from 1 to ${left} (what can still be returned)`,
        });
      }
    });
    return problems;
  }

  /** A plan must cover every line exactly. */
  private planProblem(allocations: Allocation[]): string | undefined {
    const planned = new Map<string, number>();
    for (const a of allocations)
      for (const i of a.items) planned.set(i.skuCode, (planned.get(i.skuCode) ?? 0) + i.quantity);
    for (const line of this.s.lines) {
      if (planned.get(line.skuCode) !== line.quantity) return `the plan does not cover SKU "${line.skuCode}" exactly`;
    }
    if (planned.size !== this.s.lines.length) return 'the plan has items the order does not';
    return undefined;
  }
}

function shortageText(shortages: readonly Shortage[]): string {
  return shortages
    .map((s) => `SKU "${s.skuCode}" at ${s.locationId}: ${s.requested} requested, ${s.available} available`)
    .join('; ');
}

function reasonOf(outcome: TaskOutcome): string {
  if (outcome.kind === 'refused' || outcome.kind === 'declined') return outcome.reason;
  if (outcome.kind === 'retry') return outcome.error;
  return `unexpected answer "${outcome.kind}"`;
}
