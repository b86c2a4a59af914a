// The load the fault suite runs under: shoppers placing orders of every kind and the people who carry them out
// (store associates, couriers), each journey driven to its end over real gRPC while faults happen. Every call that
// may not have been answered (the service died, the network was slow) is repeated with the same request id, and
// every step is chosen from the state the services report, never from what the driver believes it already did,
// so a step that went through before its answer was lost is not done twice.
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { type Fulfilment, ShipmentStatus, TaskStatus, Vehicle } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import {
  Channel,
  FulfilmentType,
  GroupStatus,
  type Order,
  OrderStatus,
  PaymentMethod,
  PlaceOrderRequest,
} from '@o2o/contracts/gen/o2o/orders/v1/orders';
import { homeDeliveryOrder } from '@o2o/kit-bench';
import { statusOf } from '@o2o/kit-testing';
import { type GatewaySystem, restOrder } from '../../../gateway/test/gateway-system';
import { LOCATIONS, type System } from '../../../orders/test/system';

/**
 * What a journey does: a delivered web order, an app order collected in store, a POS sale, a cancelled order, a
 * marketplace partner's order placed over REST through the gateway and delivered.
 */
export type JourneyKind = 'delivery' | 'pickup' | 'pos' | 'cancel' | 'partner';

/** The status each kind of journey ends in when nothing goes wrong for the shopper. */
export const EXPECTED_END: Record<JourneyKind, OrderStatus> = {
  delivery: OrderStatus.ORDER_STATUS_COMPLETED,
  pickup: OrderStatus.ORDER_STATUS_COMPLETED,
  pos: OrderStatus.ORDER_STATUS_COMPLETED,
  cancel: OrderStatus.ORDER_STATUS_CANCELLED,
  partner: OrderStatus.ORDER_STATUS_COMPLETED,
};

/** The partner that places the 'partner' journeys over REST, with its API key. */
export interface PartnerClient {
  id: string;
  call: GatewaySystem['call'];
  key: string;
}

export interface Journey {
  kind: JourneyKind;
  requestId: string;
  /** What the order is stored under: `rq:<request id>`, or `mp:<partner>:<external id>` for a partner's order. */
  placementKey: string;
  skuCode: string;
  quantity: number;
  orderId?: string;
  /** The status the journey ended in (undefined while running, or when it gave up). */
  end?: OrderStatus;
  /** Why the order ended REJECTED or CANCELLED, as the order says. */
  reason?: string;
  /** Why the journey gave up (it did not reach an end before its deadline). */
  failure?: string;
  /** Calls answered with a retryable status (the fault at work), by status name. */
  retries: Record<string, number>;
  startedAt: number;
  endedAt?: number;
}

/** The SKUs the load sells: one at the warehouse (delivered), one at store A (collected, sold at the POS). */
export interface LoadSkus {
  delivered: string;
  store: string;
}

/** Statuses that do not say whether the call happened: the same request is sent again. */
const RETRYABLE = new Set<number>([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.ABORTED,
  status.INTERNAL,
  status.UNKNOWN,
  status.RESOURCE_EXHAUSTED,
  status.CANCELLED,
]);
const CALL_DEADLINE_MS = 8_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SETTLED_STATUSES = new Set([
  OrderStatus.ORDER_STATUS_COMPLETED,
  OrderStatus.ORDER_STATUS_CANCELLED,
  OrderStatus.ORDER_STATUS_REJECTED,
]);

/** The couriers the load's deliveries go to, near the warehouse, reporting where they are as real riders do. */
export interface Couriers {
  ids: string[];
  /** Stops the position reports. */
  stop(): void;
}

/**
 * Registers `count` couriers near the warehouse and keeps them available: every `reportEveryMs` each reports its
 * position again (dispatch only offers to couriers whose position is fresh). A report that fails (the fault at
 * work) is simply sent again at the next beat.
 */
export async function registerCouriers(sys: System, count: number, reportEveryMs = 20_000): Promise<Couriers> {
  const ids: string[] = [];
  const point = (i: number) => ({ latitude: 31.21 + (200 + 20 * i) / 111_320, longitude: 121.49 });
  const report = (courierId: string, i: number) =>
    sys.delivery.setCourierAvailability({ courierId, available: true, point: point(i) }, { deadlineMs: 5_000 });
  for (let i = 0; i < count; i++) {
    const courierId = `fault-rider-${i}-${randomUUID().slice(0, 6)}`;
    await sys.delivery.registerCourier({
      courierId,
      name: `Rider ${i}`,
      phone: `+86 139 0000 ${String(1000 + i)}`,
      vehicle: Vehicle.VEHICLE_E_BIKE,
      capacity: 5,
    });
    await report(courierId, i);
    ids.push(courierId);
  }
  const timer = setInterval(() => {
    ids.forEach((id, i) => void report(id, i).catch(() => undefined));
  }, reportEveryMs);
  return { ids, stop: () => clearInterval(timer) };
}

/** The PlaceOrder request of a journey. */
function placement(j: Journey): PlaceOrderRequest {
  const lines = [{ skuCode: j.skuCode, quantity: j.quantity }];
  const customerId = `fault-shopper-${j.requestId.slice(0, 8)}`;
  switch (j.kind) {
    case 'delivery':
    case 'cancel':
    case 'partner':
      return homeDeliveryOrder({ requestId: j.requestId, customerId, lines });
    case 'pickup':
      return homeDeliveryOrder(
        { requestId: j.requestId, customerId, lines },
        {
          channel: Channel.CHANNEL_APP,
          fulfilment: {
            type: FulfilmentType.FULFILMENT_TYPE_STORE_PICKUP,
            delivery: undefined,
            pickupLocationId: LOCATIONS.storeA,
          },
        },
      );
    case 'pos':
      return PlaceOrderRequest.fromPartial({
        requestId: j.requestId,
        channel: Channel.CHANNEL_STORE_POS,
        storeId: LOCATIONS.storeA,
        associateId: 'fault-assoc-1',
        lines: lines.map((l) => ({ skuCode: l.skuCode, quantity: String(l.quantity) })),
        currency: 'CNY',
        fulfilment: { type: FulfilmentType.FULFILMENT_TYPE_IN_STORE_CARRY_OUT },
        payment: { method: PaymentMethod.PAYMENT_METHOD_CASH },
      });
  }
}

/** A journey's SKU and quantity for its kind. */
export function newJourney(kind: JourneyKind, skus: LoadSkus): Journey {
  const requestId = randomUUID();
  return {
    kind,
    requestId,
    placementKey: `rq:${requestId}`,
    skuCode: kind === 'pickup' || kind === 'pos' ? skus.store : skus.delivered,
    quantity: 1 + Math.floor(Math.random() * 2),
    retries: {},
    startedAt: Date.now(),
  };
}

class GaveUp extends Error {}

/** Drives journeys to their ends; `deadlineMs` bounds each journey. */
export class Driver {
  constructor(
    private readonly sys: System,
    private readonly couriers: string[],
    private readonly partner?: PartnerClient,
    private readonly deadlineMs = 150_000,
  ) {}

  /**
   * Calls `fn` until it answers or refuses with a status that is not retryable (returned as `refused`), counting
   * retries on the journey. Gives up at the journey's deadline.
   */
  private async call<T>(
    j: Journey,
    what: string,
    fn: (deadlineMs: number) => Promise<T>,
    options: { alsoRetry?: number[] } = {},
  ): Promise<{ ok: T } | { refused: number; message: string }> {
    for (let attempt = 0; ; attempt++) {
      if (Date.now() > j.startedAt + this.deadlineMs) throw new GaveUp(`${what}: still failing at the deadline`);
      try {
        return { ok: await fn(CALL_DEADLINE_MS) };
      } catch (error) {
        const { code, details: message } = statusOf(error);
        if (!RETRYABLE.has(code) && !options.alsoRetry?.includes(code)) return { refused: code, message };
        const name = status[code] ?? String(code);
        j.retries[name] = (j.retries[name] ?? 0) + 1;
        await sleep(Math.min(2000, 150 * 2 ** Math.min(attempt, 4)));
      }
    }
  }

  private async order(j: Journey): Promise<Order> {
    const answer = await this.call(j, 'GetOrder', (deadlineMs) =>
      this.sys.orders.getOrder({ orderId: j.orderId! }, { deadlineMs }),
    );
    if ('refused' in answer) throw new GaveUp(`GetOrder refused: ${status[answer.refused]} ${answer.message}`);
    return answer.ok.order!;
  }

  /** Polls the order until `done` says so. */
  private async until(j: Journey, what: string, done: (o: Order) => boolean): Promise<Order> {
    for (;;) {
      const o = await this.order(j);
      if (done(o)) return o;
      if (Date.now() > j.startedAt + this.deadlineMs) {
        throw new GaveUp(`${what}: the order stayed ${OrderStatus[o.status]}${o.settling ? ' (settling)' : ''}`);
      }
      await sleep(250);
    }
  }

  /** Runs one journey to its end; never throws (a journey that gives up records why). */
  async run(j: Journey): Promise<Journey> {
    j.startedAt = Date.now();
    try {
      if (j.kind === 'partner') j.orderId = await this.placeOverRest(j);
      else {
        const placed = await this.call(j, 'PlaceOrder', (deadlineMs) =>
          this.sys.orders.placeOrder(placement(j), { deadlineMs }),
        );
        if ('refused' in placed) throw new GaveUp(`PlaceOrder refused: ${status[placed.refused]} ${placed.message}`);
        j.orderId = placed.ok.order!.id;
      }
      // The saga may still be working (a slow dependency): wait for the placement's outcome.
      let o = await this.until(
        j,
        'placement',
        (x) =>
          !x.settling &&
          x.status !== OrderStatus.ORDER_STATUS_PENDING &&
          x.status !== OrderStatus.ORDER_STATUS_AWAITING_PAYMENT,
      );
      if (o.status === OrderStatus.ORDER_STATUS_CONFIRMED || o.status === OrderStatus.ORDER_STATUS_IN_FULFILLMENT) {
        if (j.kind === 'cancel') await this.cancel(j);
        else await this.fulfil(j, o);
      }
      o = await this.until(j, 'the end', (x) => SETTLED_STATUSES.has(x.status) && !x.settling);
      j.end = o.status;
      if (o.statusReason) j.reason = o.statusReason;
    } catch (error) {
      j.failure = error instanceof Error ? error.message : String(error);
    }
    j.endedAt = Date.now();
    return j;
  }

  /**
   * A marketplace order over REST, as the partner's integration sends it: the same Idempotency-Key until an answer
   * says what happened (a 5xx, a 429 or no answer at all — the gateway down — is sent again).
   */
  private async placeOverRest(j: Journey): Promise<string> {
    const partner = this.partner;
    if (!partner) throw new GaveUp('no partner client for a partner journey');
    const body = {
      ...restOrder([{ skuCode: j.skuCode, quantity: j.quantity }]),
      channel: 'CHANNEL_MARKETPLACE',
      customerId: `fault-mp-${j.requestId.slice(0, 8)}`,
      marketplace: { externalOrderId: `ext-${j.requestId}` },
    };
    j.placementKey = `mp:${partner.id}:ext-${j.requestId}`;
    for (let attempt = 0; ; attempt++) {
      if (Date.now() > j.startedAt + this.deadlineMs)
        throw new GaveUp('POST /v1/orders: still failing at the deadline');
      let answer: Awaited<ReturnType<GatewaySystem['call']>> | undefined;
      let why: string;
      try {
        answer = await partner.call('POST', '/v1/orders', {
          key: partner.key,
          headers: { 'idempotency-key': j.requestId },
          body,
        });
        why = `HTTP ${answer.status}`;
      } catch {
        why = 'HTTP no answer';
      }
      if (answer && answer.status < 300) return (answer.body as { order: { id: string } }).order.id;
      if (answer && answer.status < 500 && answer.status !== 429) {
        throw new GaveUp(`POST /v1/orders refused: ${answer.status} ${answer.text.slice(0, 300)}`);
      }
      j.retries[why] = (j.retries[why] ?? 0) + 1;
      await sleep(Math.min(2000, 150 * 2 ** Math.min(attempt, 4)));
    }
  }

  private async cancel(j: Journey): Promise<void> {
    const requestId = `${j.requestId}:cancel`;
    const answer = await this.call(j, 'CancelOrder', (deadlineMs) =>
      this.sys.orders.cancelOrder({ requestId, orderId: j.orderId!, reason: 'changed my mind' }, { deadlineMs }),
    );
    if ('refused' in answer) throw new GaveUp(`CancelOrder refused: ${status[answer.refused]} ${answer.message}`);
  }

  private async fulfilment(j: Journey, groupId: string): Promise<Fulfilment> {
    for (;;) {
      const answer = await this.call(
        j,
        'GetFulfilment',
        (deadlineMs) =>
          this.sys.delivery.getFulfilment({ fulfilmentId: '', orderId: j.orderId!, groupId }, { deadlineMs }),
        // Delivery creates the fulfilment when it reads OrderConfirmed: NOT_FOUND until then.
        { alsoRetry: [status.NOT_FOUND] },
      );
      if ('ok' in answer && answer.ok.fulfilment) return answer.ok.fulfilment;
      if ('refused' in answer) throw new GaveUp(`GetFulfilment refused: ${status[answer.refused]} ${answer.message}`);
    }
  }

  /** A delivery step: refusals that mean "already done or not yet possible" are fine, the state decides next. */
  private async step(j: Journey, what: string, fn: (deadlineMs: number) => Promise<unknown>): Promise<void> {
    const answer = await this.call(j, what, fn);
    if ('refused' in answer && answer.refused !== Number(status.FAILED_PRECONDITION)) {
      throw new GaveUp(`${what} refused: ${status[answer.refused]} ${answer.message}`);
    }
  }

  /** Works the order's (single) group at its location until the order is done. */
  private async fulfil(j: Journey, confirmed: Order): Promise<void> {
    const d = this.sys.delivery;
    for (;;) {
      const o = await this.order(j);
      if (SETTLED_STATUSES.has(o.status)) return;
      const group = o.groups.find((g) => g.status !== GroupStatus.GROUP_STATUS_REROUTED) ?? confirmed.groups[0]!;
      const f = await this.fulfilment(j, group.id);
      const at = { fulfilmentId: f.id, locationId: f.locationId };
      const task = f.task?.status;
      const shipment = f.shipment;
      if (task === TaskStatus.TASK_STATUS_OPEN) {
        await this.step(j, 'AcceptTask', (deadlineMs) =>
          d.acceptTask({ ...at, associateId: 'fault-assoc-2' }, { deadlineMs }),
        );
      } else if (shipment && shipment.status === ShipmentStatus.SHIPMENT_STATUS_AWAITING_COURIER) {
        const courierId = shipment.offer?.courierId;
        if (courierId && this.couriers.includes(courierId)) {
          await this.step(j, 'AcceptAssignment', (deadlineMs) =>
            d.acceptAssignment({ shipmentId: shipment.id, courierId }, { deadlineMs }),
          );
        } else await sleep(300);
      } else if (task === TaskStatus.TASK_STATUS_ACCEPTED && f.shipment) {
        await this.step(j, 'MarkPicked', (deadlineMs) => d.markPicked(at, { deadlineMs }));
      } else if (task === TaskStatus.TASK_STATUS_ACCEPTED || task === TaskStatus.TASK_STATUS_PICKED) {
        await this.step(j, 'MarkReady', (deadlineMs) => d.markReady(at, { deadlineMs }));
      } else if (task === TaskStatus.TASK_STATUS_READY && !shipment) {
        const code = await this.handoverCode(j, f.id);
        await this.step(j, 'VerifyPickup', (deadlineMs) =>
          d.verifyPickup(
            { locationId: f.locationId, fulfilmentId: f.id, code, qrPayload: '', associateId: 'fault-assoc-3' },
            { deadlineMs },
          ),
        );
      } else if (
        shipment?.status === ShipmentStatus.SHIPMENT_STATUS_ASSIGNED &&
        task === TaskStatus.TASK_STATUS_READY
      ) {
        await this.step(j, 'ConfirmCollection', (deadlineMs) =>
          d.confirmCollection({ shipmentId: shipment.id, courierId: shipment.courierId }, { deadlineMs }),
        );
      } else if (shipment?.status === ShipmentStatus.SHIPMENT_STATUS_PICKED_UP) {
        await this.step(j, 'StartDelivery', (deadlineMs) =>
          d.startDelivery({ shipmentId: shipment.id, courierId: shipment.courierId }, { deadlineMs }),
        );
      } else if (shipment?.status === ShipmentStatus.SHIPMENT_STATUS_OUT_FOR_DELIVERY) {
        const code = await this.handoverCode(j, f.id);
        await this.step(j, 'ConfirmDelivery', (deadlineMs) =>
          d.confirmDelivery({ shipmentId: shipment.id, courierId: shipment.courierId, code }, { deadlineMs }),
        );
      } else {
        // Handed over or delivered: the order follows from delivery's events.
        if (Date.now() > j.startedAt + this.deadlineMs) {
          throw new GaveUp(
            `fulfilment ${f.id} stayed task ${TaskStatus[task ?? 0]} shipment ${ShipmentStatus[shipment?.status ?? 0]}`,
          );
        }
        await sleep(300);
      }
    }
  }

  private async handoverCode(j: Journey, fulfilmentId: string): Promise<string> {
    const answer = await this.call(j, 'GetHandoverCode', (deadlineMs) =>
      this.sys.delivery.getHandoverCode({ fulfilmentId }, { deadlineMs }),
    );
    if ('refused' in answer) throw new GaveUp(`GetHandoverCode refused: ${status[answer.refused]} ${answer.message}`);
    return answer.ok.code;
  }
}

/**
 * A mix of kinds in proportion (with a partner: 30% delivered, 20% collected, 15% POS, 15% cancelled, 20% partner
 * orders; without one the partner's share goes to delivered orders), spread evenly over the sequence.
 */
export function journeyMix(count: number, skus: LoadSkus, withPartner = true): Journey[] {
  const kinds: JourneyKind[] = [];
  for (let i = 0; i < count; i++) {
    const r = (i * 0.6180339887) % 1;
    const partner: JourneyKind = withPartner ? 'partner' : 'delivery';
    kinds.push(r < 0.3 ? 'delivery' : r < 0.5 ? 'pickup' : r < 0.65 ? 'pos' : r < 0.8 ? 'cancel' : partner);
  }
  return kinds.map((k) => newJourney(k, skus));
}

/** Runs journeys with `concurrency` in flight, starting one every `spacingMs`; resolves when all have ended. */
export async function runJourneys(
  driver: Driver,
  journeys: Journey[],
  options: { concurrency: number; spacingMs: number },
): Promise<Journey[]> {
  let next = 0;
  const worker = async () => {
    while (next < journeys.length) {
      const j = journeys[next++]!;
      await driver.run(j);
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < options.concurrency; i++) {
    workers.push(worker());
    await sleep(options.spacingMs);
  }
  await Promise.all(workers);
  return journeys;
}
